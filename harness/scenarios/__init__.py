"""The suites that check the guide in the lab, with their data: the claims registry
(``claims/``) and the guide's inbound methods (``methods.toml``). They ship inside the
package, so an installed podnet runs them with ``pytest --pyargs harness.scenarios``."""

from pathlib import Path

DIRECTORY = Path(__file__).resolve().parent
