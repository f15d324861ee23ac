"""Reports of a run (Markdown, HTML, CSV) and comparisons of two runs."""

from harness.reports.compare import Comparison, compare_runs
from harness.reports.render import render_run

__all__ = ["Comparison", "compare_runs", "render_run"]
