"""Claim values and outcomes in the guide's words: the one place that turns a recorded
value (``False``, ``'ip_unprivileged_port_start'``) into what the guide would write
("not preserved", "port 80 needs ip_unprivileged_port_start ≤ 80").

Each property of the claims registry has a :class:`Wording`, read from the data file
``data/property-words.toml``; a claim may override the
words of the guide's value with ``expected_words`` in the registry. The release matrix
and the single-run report both word their cells with :func:`result_words`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from harness.claims import Claim, Registry
from harness.results.schema import ClaimResult

WORDS_FILE = "data/property-words.toml"


@dataclass(frozen=True)
class Wording:
    """How one property's values read: booleans as ``yes``/``no``, particular values as
    ``values`` says, anything else through ``template`` (``{}`` is the value, lists and
    objects comma-separated, each key and value of an object through ``pair``)."""

    yes: str = "yes"
    no: str = "no"
    values: Mapping[str, str] = field(default_factory=dict)
    template: str = "{}"
    #: How a key and its value read, for values that are objects.
    pair: str = "{}: {}"


#: Per property of the registry: how its values read (``data/property-words.toml``).
PROPERTY_WORDS: dict[str, Wording] = {
    prop: Wording(**spec) for prop, spec in tomllib.loads(
        resources.files("harness").joinpath(WORDS_FILE).read_text(encoding="utf-8")).items()}

#: An outcome in words; a cell reads "<outcome words>: <detail>".
OUTCOME_WORDS = {
    "passed": "as the guide says", "failed": "differs", "inconclusive": "inconclusive",
    "unsupported": "unsupported", "not_applicable": "not applicable", "skipped": "skipped",
    "error": "error",
}
NOT_RUN = "not run"
#: How reports mark a claim that is not a statement of the guide (claims.Claim.beyond_guide):
#: its expectation is the documentation its ``source`` cites, so a cell reads "as
#: documented" rather than "as the guide says".
BEYOND_GUIDE = "beyond the guide"
BEYOND_OUTCOME_WORDS = {**OUTCOME_WORDS, "passed": "as documented",
                        "failed": "differs from the documentation"}


def _plain(value: Any, pair: str) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v, pair) for v in value)
    if isinstance(value, dict):
        return ", ".join(pair.format(k, _plain(v, pair)) for k, v in value.items())
    return str(value)


def value_words(prop: str | None, value: Any) -> str:
    """``value`` of property ``prop`` as the guide would write it."""
    wording = PROPERTY_WORDS.get(prop or "", Wording())
    if value is None:
        return "nothing observed"
    if value is True:
        return wording.yes
    if value is False:
        return wording.no
    text = _plain(value, wording.pair)
    return wording.values.get(text, wording.template.format(text))


@dataclass(frozen=True)
class Words:
    """Words for the results of one registry (claims it does not know read plainly)."""

    registry: Registry

    def claim(self, claim_id: str) -> Claim | None:
        return next((c for c in self.registry.claims if c.id == claim_id), None)

    def beyond_guide(self, result: ClaimResult) -> bool:
        """Whether the result's claim is beyond the guide (not one of its statements)."""
        claim = self.claim(result.claim_id)
        return claim is not None and claim.beyond_guide

    def statement(self, result: ClaimResult) -> str:
        claim = self.claim(result.claim_id)
        return claim.statement if claim else result.statement

    def guide(self, result: ClaimResult) -> str:
        """What the guide says, in words (the registry's ``expected_words`` if any)."""
        claim = self.claim(result.claim_id)
        if claim is not None and isinstance(claim.extra.get("expected_words"), str):
            return str(claim.extra["expected_words"])
        return value_words(claim.property if claim else None,
                           claim.expected if claim else result.expected)

    def detail(self, result: ClaimResult) -> str:
        """What a cell says after its outcome: the observation, or the reason."""
        if result.outcome in ("passed", "failed"):
            claim = self.claim(result.claim_id)
            return value_words(claim.property if claim else None, result.observed)
        if result.outcome == "unsupported":
            message = result.evidence.get("podman_message") if result.evidence else None
            return str(message or result.reason or "(podman gave no message)")
        return result.reason or "(no reason recorded)"


def outcome_words(outcome: str | None, beyond_guide: bool = False) -> str:
    """An outcome in words; for a claim beyond the guide, against its documentation."""
    table = BEYOND_OUTCOME_WORDS if beyond_guide else OUTCOME_WORDS
    return NOT_RUN if outcome is None else table.get(outcome, outcome.replace("_", " "))


def cell_words(outcome: str | None, detail: str, beyond_guide: bool = False) -> str:
    """A cell of an outcome and its detail: "differs: not preserved", "not run"."""
    return NOT_RUN if outcome is None else f"{outcome_words(outcome, beyond_guide)}: {detail}"


def result_words(words: Words, result: ClaimResult) -> str:
    """A whole cell in words: "as the guide says: preserved", "differs: not preserved",
    "unsupported: <podman's message>", "skipped: <reason>" ("as documented" for a claim
    beyond the guide)."""
    return cell_words(result.outcome, words.detail(result), words.beyond_guide(result))
