"""Exactly one result per claim and protocol: what a session's tests were meant to
record, what is missing, and how duplicates are resolved.

A test is meant to record the claim of its ``claim`` parameter (for its ``protocol``
parameter, or for every protocol the claim names) and every claim its
``@pytest.mark.claims(...)`` marker names. A result without a protocol is a result
for every protocol of its claim.

Duplicates (two results for one claim and protocol in one session) keep one result:
the most telling outcome (failed, then error, unsupported, passed, inconclusive, skipped,
not applicable; the first recorded among equals). The others are not lost: they are listed under the kept
result's ``evidence["other_results"]`` and its reason says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from harness.claims import Claim
from harness.results.recorder import claim_result
from harness.results.schema import ClaimResult

#: Which of several results for one claim and protocol is kept: the lowest rank.
OUTCOME_RANK = {"failed": 0, "error": 1, "unsupported": 2, "passed": 3, "inconclusive": 4,
                "skipped": 5, "not_applicable": 6}


@dataclass(frozen=True)
class Expected:
    """One result a test is meant to record: a claim, for one protocol (or None when
    the claim names none)."""

    claim: Claim
    protocol: str | None
    test: str


def expected_for(claim: Claim, test: str, protocol: str | None = None) -> list[Expected]:
    """The results a test owes for ``claim``: for its protocol parameter, else one per
    protocol the claim names, else one."""
    if protocol is not None:
        return [Expected(claim, protocol, test)]
    return [Expected(claim, p, test) for p in (claim.protocols or (None,))]


def fills(result: ClaimResult, want: Expected) -> bool:
    return (result.claim_id == want.claim.id
            and (want.protocol is None or result.protocol in (None, want.protocol)))


def missing(wanted: Iterable[Expected], results: Sequence[ClaimResult]) -> list[Expected]:
    """The wanted results no result fills."""
    return [w for w in wanted if not any(fills(r, w) for r in results)]


def placeholder(want: Expected, outcome: str, reason: str,
                evidence: dict[str, Any] | None = None) -> ClaimResult:
    """The result of a claim its test ended without recording."""
    return claim_result(want.claim, outcome, protocol=want.protocol, reason=reason[:500],
                        test=want.test, evidence=evidence or {})


def merge_duplicates(wanted: Iterable[Expected], results: list[ClaimResult]) -> int:
    """Keep one result per wanted claim and protocol (see the module's docstring), in
    place; returns how many results were folded into others."""
    folded = 0
    for want in wanted:
        same = [r for r in results if fills(r, want)]
        if len(same) < 2:
            continue
        keep = min(same, key=lambda r: OUTCOME_RANK.get(r.outcome, len(OUTCOME_RANK)))
        others = [r for r in same if r is not keep]
        keep.evidence = {**keep.evidence, "other_results": [
            {"outcome": r.outcome, "protocol": r.protocol, "observed": r.observed,
             "reason": r.reason, "test": r.test} for r in others]}
        note = f"{len(same)} results for one claim and protocol; the others are in evidence"
        keep.reason = f"{keep.reason}; {note}" if keep.reason else note
        for other in others:
            results.remove(other)
        folded += len(others)
    return folded
