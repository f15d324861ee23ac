"""The run as Markdown: the guide's tables regenerated from observations, every claim
result, the performance summary and the environment fingerprint."""

from __future__ import annotations

import time
from collections.abc import Sequence

from harness import coverage
from harness.bench.summary import PerformanceSummary
from harness.claims import Registry, load_default
from harness.examples import report as guide_examples
from harness.guide import revisions
from harness.markup import Block, Heading, Para, to_markdown
from harness.reports import claim_list, errata, findings, perf
from harness.reports import upstream as upstream_tests
from harness.reports.model import (
    WARN,
    Footnotes,
    Table,
    environment_blocks,
    guide_text,
    notes_blocks,
    outcome_counts,
    podnet_text,
    status_note,
    table_blocks,
)
from harness.results.schema import Run

LEGEND = (
    "Each cell shows what this run observed. ✔/✘ is the observed property; "
    f"`(guide: …) {WARN}` marks a cell where the guide and the observation differ; "
    "`not run` means the registry has a claim for the cell but this run has no result; "
    "a cell no claim checks shows the guide's text, if any."
)


def _when(stamp: float | None) -> str:
    if stamp is None:
        return "unfinished"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(stamp))


def summary_lines(run: Run) -> list[str]:
    counts = outcome_counts(run)
    total = sum(counts.values())
    parts = [f"{counts[o]} {o.replace('_', ' ')}" for o in
             ("passed", "failed", "inconclusive", "unsupported", "not_applicable", "skipped",
              "error")
             if counts.get(o)]
    duration = f"{run.finished - run.started:.0f} s" if run.finished else "unfinished"
    return [
        f"- run: `{run.run_id}`",
        f"- started: {_when(run.started)} (duration {duration})",
        f"- claim results: {total}" + (f" ({', '.join(parts)})" if parts else ""),
        f"- measurements: {len(run.measurements)}",
        f"- made by podnet {podnet_text(run)}",
    ]


def opening_blocks(run: Run) -> list[Block]:
    """Both reports' sections after the run's summary: the findings, then the guide's
    tables' heading and legend."""
    return [*findings.blocks(PerformanceSummary.of(run), run.environment),
            Heading(2, "The guide's tables, as observed"), Para(LEGEND, cls="legend")]


def closing_blocks(run: Run, registry: Registry | None = None) -> list[Block]:
    """The sections both reports end with (before the notes)."""
    latest = registry or load_default()
    return [*guide_examples.blocks(run), *upstream_tests.blocks(run),
            *errata.blocks(run, registry or load_default(revisions.judged(run.guide))),
            Heading(2, "Claim results"), *claim_list.blocks(run, latest),
            Heading(2, "Coverage of the guide"),
            *coverage.blocks(coverage.of(latest, [run], revisions.judged(run.guide))),
            *environment_blocks(run)]


def report_blocks(run: Run, tables: Sequence[Table], notes: Footnotes,
                  registry: Registry | None = None, figures: Sequence[Block] = ()) -> list[Block]:
    """Both reports after the run's summary (``figures``: the charts, before the closing
    sections); the tables' notes numbered in ``notes``."""
    return [*opening_blocks(run), *(block for table in tables
                                    for block in table_blocks(table, notes)),
            *perf.blocks(PerformanceSummary.of(run), run.measurements), *perf.curve_blocks(run),
            *figures, *closing_blocks(run, registry), *notes_blocks(notes)]


def render(run: Run, tables: Sequence[Table], registry: Registry | None = None) -> str:
    note = status_note(run)
    return "\n".join([f"# podnet run {run.run_id}", "", f"Guide: {guide_text(run)}", "",
                      *([f"**{note}**", ""] if note else []), *summary_lines(run), "",
                      *to_markdown(report_blocks(run, tables, Footnotes(), registry))])
