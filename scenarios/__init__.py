"""The suites that check the guide in the lab, with their data: the claims registry
(``claims/``) and the guide's inbound methods (``methods.toml``). They ship in podnet's
wheel beside ``harness``, so an installed podnet runs them with
``pytest -p podnet --pyargs scenarios``; ``harness`` reads the data as package resources
and never imports this package."""
