"""podnet verify's summary: outcomes per section of the guide, in the guide's order,
readable on an 80-column console; contradictions and errors one line each."""

from __future__ import annotations

from rich.console import Console

from harness.claims import load_default
from harness.coverage import section_title
from harness.results.schema import ClaimResult, Run
from harness.ui import contradiction_line, outcome_line, summary_table

CLAIMS = ("reverse-proxy.socket-activation.x", "inbound.source-address.pasta",
          "outbound.internet.pasta")


def _run() -> Run:
    registry = load_default()
    run = Run("r", 0.0)
    for outcome, claim_id in zip(("passed", "failed", "not_applicable"), CLAIMS, strict=True):
        section = registry.get(claim_id).section if claim_id != CLAIMS[0] else "Gone > Away"
        run.results.append(ClaimResult(claim_id, section, "statement", True, False, outcome,
                                       method="pasta", protocol="tcp"))
    return run


def test_grouped_by_the_guides_sections_in_its_order_whole_at_80_columns() -> None:
    registry = load_default()
    console = Console(width=80, record=True)
    console.print(summary_table(_run(), registry))
    text = console.export_text()
    titles = [section_title(registry.get(c)) for c in CLAIMS[1:]]
    assert all(title in text for title in titles), text
    assert text.index(titles[0]) < text.index(titles[1]) < text.index("Gone > Away")
    assert "…" not in text and "inbound.source-address" not in text
    assert "incon." not in text  # columns no result has are left out


def test_the_end_reads_at_a_glance() -> None:
    run = _run()
    assert outcome_line(run) == "3 claim results: 1 passed, 1 failed, 1 not applicable"
    line = contradiction_line(run.results[1])
    assert line == ("inbound.source-address.pasta (pasta, tcp): expected True, observed False")
    long = ClaimResult("c", "s", "t", True, False, "failed", reason="x\n" * 300)
    assert "\n" not in contradiction_line(long) and len(contradiction_line(long)) <= 200
