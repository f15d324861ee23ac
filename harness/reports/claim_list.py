"""The report's list of claim results, in the guide's words: each line the registry's
statement (the claim id small beside it), what the guide says and what happened, and an
anchor other pages link to (harness/reports/anchors.py)."""

from __future__ import annotations

from harness.claims import Registry
from harness.markup import Block, Cell, Code, Details, Grid, Heading, Inline, Para, Row, Small
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


def _evidence(result: ClaimResult) -> str:
    if result.outcome not in ("failed", "unsupported", "error") or not result.evidence:
        return ""
    text = "; ".join(f"{k}: {v}" for k, v in result.evidence.items())
    return text if len(text) <= EVIDENCE_CHARS else text[:EVIDENCE_CHARS - 1] + "…"


def blocks(run: Run, registry: Registry) -> list[Block]:
    """The guide's claim results; those beyond the guide follow in a group of their own
    (what they expect is the documentation's, cited in the last column)."""
    words = Words(registry)
    guide: list[Row] = []
    beyond: list[Row] = []
    for r, anchor in zip(run.results, claim_anchors(run.results), strict=True):
        claim = words.claim(r.claim_id)
        evidence = _evidence(r)
        happened: Inline = (result_words(words, r) + (f" {WARN}" if r.outcome == "failed" else ""),
                    *([Details("evidence", evidence)] if evidence else []))
        (beyond if claim is not None and claim.beyond_guide else guide).append(Row([
            (f"{words.statement(r)} ", Small(Code(r.claim_id))), r.protocol or "",
            words.guide(r), Cell(happened, f"outcome-{r.outcome}"),
            claim.source if claim and claim.beyond_guide else r.section], anchor))
    return [Grid(HEADER, guide) if guide else Para("No claim results."),
            *((Heading(3, BEYOND_TITLE, id="beyond-the-guide"), Para(BEYOND_INTRO, cls="legend"),
               Grid(BEYOND_HEADER, beyond)) if beyond else ())]
