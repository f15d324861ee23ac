"""The run as one self-contained HTML page: inline CSS, charts as base64 PNG, no
external requests. A tiny inline script marks ``<html data-images=...>`` once every
chart has decoded, so a headless browser can check the page."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path

from harness.bench.summary import PerformanceSummary
from harness.claims import Registry
from harness.markup import html_escape as escape
from harness.markup import html_table, to_html
from harness.reports import perf
from harness.reports.charts import cost_png, curve_charts, samples_chart, throughput_charts
from harness.reports.markdown import closing_blocks, opening_blocks
from harness.reports.model import (
    Footnotes,
    Table,
    guide_text,
    notes_blocks,
    outcome_counts,
    podnet_text,
    status_note,
    table_blocks,
)
from harness.results.schema import Run

CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px;
       color: #1d2430; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #d0d7de; }
table { border-collapse: collapse; margin: .8em 0 1.2em; }
th, td { border: 1px solid #d0d7de; padding: .3em .6em; vertical-align: top; }
th { background: #f3f5f7; text-align: left; }
td.agrees { background: #e9f7ec; } td.differs { background: #fde5e2; font-weight: 600; }
td.untested { background: #f6f6f6; color: #57606a; } td.error { background: #fff1cc; }
td.no-claim { background: #fff; }
.outcome-passed { color: #1a7f37; } .outcome-failed { color: #cf222e; font-weight: 600; }
.outcome-error { color: #9a6700; }
.outcome-skipped, .outcome-not_applicable, .outcome-inconclusive { color: #57606a; }
.outcome-unsupported { color: #8250df; }
tr:target { outline: 2px solid #0969da; }
.where, .legend, .notes { color: #57606a; font-size: .92em; }
sup a { text-decoration: none; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #d0d7de; }
code { font-size: .92em; }
section.finding { border-left: 4px solid #cf222e; padding: 0 0 0 1em; margin: 1em 0; }
pre { background: #f6f8fa; padding: .6em; overflow-x: auto; white-space: pre-wrap; }
"""

SCRIPT = """
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var bad = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
  document.documentElement.setAttribute('data-images',
    bad.length ? 'broken:' + bad.map(function (i) { return i.alt; }).join(',')
               : 'ok:' + imgs.length);
});
"""

def _figure(png: bytes, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure><img alt="{escape(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def charts(run: Run, directory: Path | None) -> list[tuple[str, bytes]]:
    """Every PNG of the run directory, then the charts drawn here from the run record
    (those the directory does not already hold; the samples' throughput box plot only
    without a throughput ratio chart)."""
    found = sorted(directory.glob("*.png")) if directory else []
    summary = PerformanceSummary.of(run)
    drawn: list[tuple[str, bytes | None]] = [
        *throughput_charts(summary), ("cpu-cost", cost_png(summary)),
        ("latency", samples_chart(run.measurements, "latency", "Latency per method")),
        *curve_charts(run)]
    if not any(name.startswith("throughput") for name in [p.stem for p in found]
               + [name for name, _ in drawn]):
        drawn.insert(0, ("throughput", samples_chart(
            run.measurements, "throughput", "Throughput per method")))
    have = {p.stem for p in found}
    return [(p.stem, p.read_bytes()) for p in found] + [
        (name, png) for name, png in drawn if png is not None and name not in have]


def render(run: Run, tables: Sequence[Table], directory: Path | None = None,
           registry: Registry | None = None) -> str:
    notes = Footnotes()
    counts = outcome_counts(run)
    summary = ", ".join(f"{n} {o.replace('_', ' ')}" for o, n in counts.items()) or "none"
    body = [
        f"<h1>podnet run <code>{escape(run.run_id)}</code></h1>",
        f"<p>Guide: {escape(guide_text(run))}</p>",
        *([f"<p><strong>{escape(note)}</strong></p>"] if (note := status_note(run)) else []),
        f"<p>Claim results: {sum(counts.values())} ({escape(summary)}); "
        f"measurements: {len(run.measurements)}; made by podnet "
        f"{escape(podnet_text(run))}.</p>",
        to_html(opening_blocks(run)),
        *(to_html(table_blocks(t, notes)) for t in tables),
        to_html(perf.blocks(PerformanceSummary.of(run), run.measurements)),
    ]
    if curves := perf.cost_curve_rows(run):
        body += ["<h2>Cost curves</h2>", html_table(perf.CURVE_HEADER, curves),
                 f'<p class="legend">{escape(perf.CURVE_NOTE)}</p>']
        if checked := perf.cost_curve_reference_text(run):
            body.append(f"<p>{escape(checked)}</p>")
    figures = charts(run, directory)
    if figures:
        body.append("<h2>Charts</h2>")
        body += [_figure(png, name) for name, png in figures]
    body += [to_html(closing_blocks(run, registry)), to_html(notes_blocks(notes))]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>podnet run {escape(run.run_id)}</title>"
        f"<style>{CSS}</style><script>{SCRIPT}</script></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )
