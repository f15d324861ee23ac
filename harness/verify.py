"""``podnet verify``: lab up, every check in pytest, reports, a summary, an exit status."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from harness.lab import lab
from harness.lab.releases import get_release
from harness.results import store
from harness.ui import console, failures, step_printer, summary_table

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


class ProgressPlugin:
    """Shows a progress bar over the collected checks, with an estimate of time left."""

    def __init__(self) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
            console=console, transient=True,
        )
        self.task: Any = None

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        console.log(f"{len(session.items)} checks collected")
        self.progress.start()
        self.task = self.progress.add_task("checks", total=len(session.items))

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        if self.task is not None:
            self.progress.update(self.task, description=nodeid.split("::")[-1][:60])

    def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> None:
        if self.task is not None:
            self.progress.advance(self.task)

    def pytest_sessionfinish(self) -> None:
        self.progress.stop()


def verify(*, releases: list[str], lab_name: str, quick: bool, keep_lab: bool,
           results_root: Path, marker: str | None, extra: list[str]) -> int:
    for release in releases:
        get_release(release)  # unknown release: one clear line before anything starts
    worst = 0
    run_dirs = []
    for release in releases:
        code, run_dir = _verify_one(release, lab_name, quick, keep_lab, results_root,
                                    marker, extra)
        worst = max(worst, code)
        run_dirs.append(run_dir)
    if len(run_dirs) > 1:
        from harness.matrix import render_matrix

        for path in render_matrix(run_dirs, results_root):
            console.print(f"matrix report: {path}")
    return worst


def _verify_one(release: str, lab_name: str, quick: bool, keep_lab: bool, results_root: Path,
                marker: str | None, extra: list[str]) -> tuple[int, Path]:
    was_up = lab.status(lab_name).up
    if was_up and (st := lab.status(lab_name).state) and st.release != release:
        lab.down(lab_name)
        was_up = False
    with step_printer() as step:
        lab.up(lab_name, release, step=step)
    run_id = store.new_run_id()
    run_dir = store.run_dir(results_root, run_id)
    run_dir.mkdir(parents=True, exist_ok=True)
    args = [str(SCENARIOS), "--lab-name", lab_name, "--release", release, "--run-id", run_id,
            "--results-dir", str(results_root), "--keep-lab", "-q", "--no-header", "--tb=line",
            "-p", "no:cacheprovider", "-W", "ignore::pytest_benchmark.logger.PytestBenchmarkWarning",
            f"--junitxml={run_dir / 'junit.xml'}",
            f"--benchmark-json={run_dir / 'benchmark.json'}"]
    if quick:
        args.append("--quick")
    if marker:
        args += ["-m", marker]
    args += [a for a in extra if a != "--"]
    started = time.monotonic()
    try:
        code = int(pytest.main(args, plugins=[ProgressPlugin()]))
    finally:
        if not keep_lab and not was_up:
            lab.down(lab_name)
    if not (run_dir / store.RUN_FILE).exists():
        console.print(f"[red]no results were recorded (pytest exit {code})[/]")
        return (code or 1), run_dir
    run = store.load(run_dir)
    from harness.reports import render_run

    paths = render_run(run_dir)
    console.print(summary_table(run))
    for failure in failures(run):
        console.print(f"[red]✘[/] {failure['claim']} ({failure['method']}, "
                      f"{failure['protocol'] or '-'}): expected {failure['expected']!r}, "
                      f"observed {failure['observed']!r} {failure['reason']}")
    html = next((p for p in paths if p.suffix == ".html"), None)
    console.print(f"{len(run.results)} claim results in {time.monotonic() - started:.0f}s; "
                  f"report: {html or run_dir}")
    failed = bool(failures(run))
    if code == 5:  # nothing selected
        code = 0
    return (1 if failed or code else 0), run_dir
