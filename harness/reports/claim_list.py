"""The report's list of claim results, in the guide's words: each line the registry's
statement (the claim id small beside it), what the guide says and what happened, and an
anchor other pages link to (harness/reports/anchors.py)."""

from __future__ import annotations

from dataclasses import dataclass

from harness.claims import Registry
from harness.reports.anchors import claim_anchors
from harness.results.schema import ClaimResult, Run
from harness.words import Words, result_words

HEADER = ["statement", "protocol", "the guide", "what happened", "section"]
#: Evidence is shown for results that differ from the guide, cut to this many characters.
EVIDENCE_CHARS = 400


@dataclass(frozen=True)
class ClaimLine:
    anchor: str
    claim_id: str
    statement: str
    protocol: str
    guide: str
    outcome: str
    happened: str
    evidence: str
    section: str


def _evidence(result: ClaimResult) -> str:
    if result.outcome not in ("failed", "unsupported", "error") or not result.evidence:
        return ""
    text = "; ".join(f"{k}: {v}" for k, v in result.evidence.items())
    return text if len(text) <= EVIDENCE_CHARS else text[:EVIDENCE_CHARS - 1] + "…"


def claim_lines(run: Run, registry: Registry) -> list[ClaimLine]:
    words = Words(registry)
    return [ClaimLine(anchor, r.claim_id, words.statement(r), r.protocol or "", words.guide(r),
                      r.outcome, result_words(words, r), _evidence(r), r.section)
            for r, anchor in zip(run.results, claim_anchors(run.results), strict=True)]
