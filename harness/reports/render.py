"""``podnet report RUN``: write report.md, report.html, results.csv and measurements.csv
into the run directory."""

from __future__ import annotations

from pathlib import Path

from harness.atomic import write_bytes, write_text
from harness.claims import Registry, load_default
from harness.guide import revisions
from harness.methods import all_methods
from harness.reports import charts, html, markdown, tables_csv
from harness.reports.model import Table, build_tables
from harness.results import store
from harness.results.schema import Run


def method_titles() -> dict[str, str]:
    return {mid: m.title for mid, m in all_methods().items()}


def guide_tables(run: Run, registry: Registry | None = None) -> list[Table]:
    return build_tables(run, registry or load_default(), method_titles())


def render_run(run_dir: Path, registry: Registry | None = None, *,
               run: Run | None = None) -> list[Path]:
    """Render the run in ``run_dir`` (``run`` when the caller has just loaded it); raises
    PodnetError if it is not a readable run or a file cannot be written (each file is
    replaced atomically: the previous one is kept)."""
    run_dir = Path(run_dir)
    run = run or store.load(run_dir)
    directory = run_dir if run_dir.is_dir() else run_dir.parent
    registry = registry or load_default(revisions.judged(run.guide))
    tables = guide_tables(run, registry)
    curves = [write_bytes(directory / f"{name}.png", png)
              for name, png in charts.curve_charts(run)]
    report_md = write_text(directory / "report.md", markdown.render(run, tables, registry))
    report_html = write_text(directory / "report.html", html.render(run, tables, directory, registry))
    return [report_md, report_html, *curves, *tables_csv.write(run, directory, registry)]
