"""The report's list of claim results, in the guide's words: each line the registry's
statement (the claim id small beside it), what the guide says and what happened, and an
anchor other pages link to (harness/reports/anchors.py)."""

from __future__ import annotations

from dataclasses import dataclass

from harness.claims import Registry
from harness.markup import Block, Cell, Code, Details, Grid, Heading, Para, Row, Small
from harness.reports.anchors import claim_anchors
from harness.reports.model import WARN
from harness.results.schema import ClaimResult, Run
from harness.words import Words, result_words

HEADER = ["statement", "protocol", "the guide", "what happened", "section"]
#: The same list for claims beyond the guide: what the documentation says, and its source.
BEYOND_HEADER = ["statement", "protocol", "documented", "what happened", "source"]
BEYOND_TITLE = "Beyond the guide"
BEYOND_INTRO = ("Methods podman offers that the guide does not describe. These are not "
                "statements of the guide: each expectation comes from the documentation in "
                "its source column, and none counts in the coverage of the guide.")
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
    #: The guide's section, or for a claim beyond the guide the documentation it cites.
    section: str
    beyond_guide: bool = False


def _evidence(result: ClaimResult) -> str:
    if result.outcome not in ("failed", "unsupported", "error") or not result.evidence:
        return ""
    text = "; ".join(f"{k}: {v}" for k, v in result.evidence.items())
    return text if len(text) <= EVIDENCE_CHARS else text[:EVIDENCE_CHARS - 1] + "…"


def claim_lines(run: Run, registry: Registry) -> list[ClaimLine]:
    words = Words(registry)
    lines = []
    for r, anchor in zip(run.results, claim_anchors(run.results), strict=True):
        claim = words.claim(r.claim_id)
        beyond = claim is not None and claim.beyond_guide
        lines.append(ClaimLine(anchor, r.claim_id, words.statement(r), r.protocol or "",
                               words.guide(r), r.outcome, result_words(words, r), _evidence(r),
                               claim.source if claim and beyond else r.section, beyond))
    return lines


def grouped(lines: list[ClaimLine]) -> tuple[list[ClaimLine], list[ClaimLine]]:
    """The guide's claims, and those beyond the guide (shown in a group of their own)."""
    return ([line for line in lines if not line.beyond_guide],
            [line for line in lines if line.beyond_guide])


def _rows(lines: list[ClaimLine]) -> list[Row]:
    return [Row([(f"{line.statement} ", Small(Code(line.claim_id))), line.protocol, line.guide,
                 Cell((line.happened + (f" {WARN}" if line.outcome == "failed" else ""),
                       *([Details("evidence", line.evidence)] if line.evidence else [])),
                      f"outcome-{line.outcome}"), line.section], line.anchor)
            for line in lines]


def blocks(run: Run, registry: Registry) -> list[Block]:
    """The guide's claim results; those beyond the guide follow in a group of their own."""
    guide, beyond = grouped(claim_lines(run, registry))
    return [Grid(HEADER, _rows(guide)) if guide else Para("No claim results."),
            *((Heading(3, BEYOND_TITLE, id="beyond-the-guide"), Para(BEYOND_INTRO, cls="legend"),
               Grid(BEYOND_HEADER, _rows(beyond))) if beyond else ())]
