"""The report's list of claim results, in the guide's words: each line the registry's
statement (the claim id small beside it), what the guide says and what happened, and an
anchor other pages (the release matrix) link to, to show the evidence of one result:
``claim-<claim id>[-<protocol>]``, numbered from ``-2`` when a run holds the same claim and
protocol more than once."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from harness.claims import Registry
from harness.markup import Block, Cell, Code, Details, Grid, Heading, Inline, Para, Row, Small, shortened
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
    return shortened(text, EVIDENCE_CHARS)


def claim_anchors(results: Sequence[ClaimResult]) -> list[str]:
    """One anchor per result, in the order of ``results``."""
    seen: Counter[str] = Counter()
    anchors = []
    for result in results:
        base = "claim-" + re.sub(r"[^A-Za-z0-9._-]", "-", "-".join(
            p for p in (result.claim_id, result.protocol) if p))
        seen[base] += 1
        anchors.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return anchors


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
