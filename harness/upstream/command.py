"""``podnet upstream-tests``: the lab of the release up, podman's tests run in it, the
results in a run record of their own and its reports."""

from __future__ import annotations

import time
from pathlib import Path

from harness import environment
from harness.lab import lab, lock
from harness.results import store
from harness.results.schema import Run
from harness.results.upstream import UpstreamSuite, counts_text
from harness.ui import console, step_printer
from harness.upstream.checkout import Checkout
from harness.upstream.runner import run_suite

#: bats' own output of each file, in the run directory.
TAP_DIR = "upstream"


def upstream_tests(*, checkout: Checkout, files: list[str], release: str, lab_name: str,
                   results_root: Path, keep_lab: bool) -> int:
    """Run the tests on ``release``'s lab (brought up when it is not, and taken down
    again unless ``keep_lab``); exit status 1 when a test failed."""
    run_id = store.new_run_id()
    run_dir = store.run_dir(results_root, run_id)
    with lock.session_lock(lab_name):
        started_lab = False
        try:
            with step_printer() as step:  # a lab up with another release is replaced
                running = lab.up(lab_name, release, step=step, replace=True)
                started_lab = running.booted
                host = running.target
                run = Run.begin(run_id, selection="podman's own tests",
                                environment=environment.fingerprint(
                                    host, environment.podman_info(host), release))
                run.upstream = run_suite(host, checkout, files, step, run_dir / TAP_DIR)
        finally:
            if started_lab and not keep_lab:
                lab.down(lab_name)
    run.finished = time.time()
    run_dir.mkdir(parents=True, exist_ok=True)
    store.save(run, run_dir)
    from harness.reports import render_run

    paths = render_run(run_dir, run=run)
    _summary(run.upstream)
    for path in paths[:2]:
        console.print(f"report: {path}")
    return 1 if run.upstream.counts()["failed"] else 0


def _summary(suite: UpstreamSuite) -> None:
    console.print(f"podman's own tests ({suite.source_version or 'unknown version'}) on "
                  f"podman {suite.podman_version}: {counts_text(suite.counts())} of "
                  f"{len(suite.tests)} in {suite.seconds:.0f} s")
    if mismatch := suite.version_mismatch():
        console.print(f"note: {mismatch}")
    for test in suite.tests:
        if test.outcome == "failed":
            console.print(f"  [red]✘[/] {test.file}: {test.name}")
