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
from harness.guide.revisions import record_label
from harness.markup import Block, Code, Heading, Items, Para, Strong, to_markdown
from harness.reports import claim_list, durations, errata, findings, perf
from harness.reports import upstream as upstream_tests
from harness.reports.model import (
    WARN,
    Footnotes,
    Table,
    environment_blocks,
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


def summary_lines(run: Run) -> list[str]:
    """The run in figures, after its id: when, how many results of each outcome, how many
    measurements, which podnet."""
    counts = outcome_counts(run)
    parts = [f"{counts[o]} {o.replace('_', ' ')}" for o in
             ("passed", "failed", "inconclusive", "unsupported", "not_applicable", "skipped",
              "error")
             if counts.get(o)]
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(run.started))
    duration = f"{run.finished - run.started:.0f} s" if run.finished else "unfinished"
    return [
        f"started: {started} (duration {duration})",
        f"claim results: {len(run.results)}" + (f" ({', '.join(parts)})" if parts else ""),
        f"measurements: {len(run.measurements)}",
        f"made by podnet {podnet_text(run)}",
    ]


def report_blocks(run: Run, tables: Sequence[Table], registry: Registry | None = None,
                  figures: Sequence[Block] = ()) -> list[Block]:
    """Both reports, whole (``figures``: the charts, before the closing sections): the
    run's summary, the findings, the guide's tables as observed with their notes, the
    performance and the sections every report ends with."""
    note = status_note(run)
    notes = Footnotes()
    latest = registry or load_default()
    judged = revisions.judged(run.guide)
    return [Heading(1, ("podnet run ", Code(run.run_id))), Para(f"Guide: {record_label(run.guide)}"),
            *([Para(Strong(note))] if note else []),
            Items([("run: ", Code(run.run_id)), *summary_lines(run)]),
            *findings.blocks(PerformanceSummary.of(run), run.environment),
            Heading(2, "The guide's tables, as observed"), Para(LEGEND, cls="legend"),
            *(block for table in tables for block in table_blocks(table, notes)),
            *perf.blocks(PerformanceSummary.of(run), run.measurements), *perf.curve_blocks(run),
            *figures, *guide_examples.blocks(run), *upstream_tests.blocks(run),
            *errata.blocks(run, registry or load_default(judged)),
            Heading(2, "Claim results"), *claim_list.blocks(run, latest),
            Heading(2, "Coverage of the guide"),
            *coverage.blocks(coverage.of(latest, [run], judged)),
            *environment_blocks(run), *notes_blocks(notes), *durations.blocks(run)]


def render(run: Run, tables: Sequence[Table], registry: Registry | None = None) -> str:
    return "\n".join(to_markdown(report_blocks(run, tables, registry)))
