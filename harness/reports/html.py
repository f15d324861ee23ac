"""The run as one self-contained HTML page: inline CSS, charts as base64 PNG, no
external requests. A tiny inline script marks ``<html data-images=...>`` once every
chart has decoded, so a headless browser can check the page."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path

from harness.bench.summary import PerformanceSummary
from harness.claims import Registry
from harness.markup import Heading, Raw, html_document
from harness.markup import html_escape as escape
from harness.reports.charts import (
    CURVE_PREFIX,
    cost_png,
    curve_charts,
    samples_chart,
    throughput_charts,
)
from harness.reports.markdown import report_blocks
from harness.reports.model import Table
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
    # render_run writes every cost curve before the page: drawn here only without them.
    curves_written = any(p.stem.startswith(CURVE_PREFIX) for p in found)
    drawn: list[tuple[str, bytes | None]] = [
        *throughput_charts(summary), ("cpu-cost", cost_png(summary)),
        ("latency", samples_chart(run.measurements, "latency", "Latency per method")),
        *([] if curves_written else curve_charts(run))]
    have = {p.stem for p in found}
    if not any(name.startswith("throughput") for name in [*have, *(n for n, _ in drawn)]):
        drawn.insert(0, ("throughput", samples_chart(
            run.measurements, "throughput", "Throughput per method")))
    return [(p.stem, p.read_bytes()) for p in found] + [
        (name, png) for name, png in drawn if png is not None and name not in have]


def render(run: Run, tables: Sequence[Table], directory: Path | None = None,
           registry: Registry | None = None) -> str:
    figures = [Raw(html=_figure(png, name)) for name, png in charts(run, directory)]
    return html_document(f"podnet run {run.run_id}", report_blocks(
        run, tables, registry, [Heading(2, "Charts"), *figures] if figures else []),
        css=CSS, script=SCRIPT)
