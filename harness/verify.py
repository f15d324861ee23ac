"""``podnet verify``: lab up, every check in pytest, reports, a summary, an exit status."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from harness import workers
from harness.bench.progress import BenchProgress
from harness.errors import PodnetError, UsageError
from harness.guide import revisions
from harness.guide.revisions import Revision
from harness.lab import lab, lock
from harness.results import store, timings
from harness.results.schema import Run
from harness.run import environ, run
from harness.ui import (
    console,
    contradiction_line,
    error_line,
    outcome_line,
    step_printer,
    summary_table,
)

SCENARIOS = Path(str(resources.files("scenarios")))
#: No .pytest_cache, and no .benchmarks/ from a pytest-benchmark left installed (podnet
#: does not use it), in the directory podnet verify runs in.
QUIET_PLUGINS = ("-p", "no:cacheprovider", "-p", "no:benchmark")


class LeftColumn(ProgressColumn):
    """The estimate of time left: the task's own (its field ``left``) where it has one,
    else rich's from the rate of progress."""

    remaining = TimeRemainingColumn()

    def render(self, task: Task) -> Text:
        left = task.fields.get("left")
        if isinstance(left, str):
            return Text(left)
        return Text.assemble("left ", self.remaining.render(task))


def _terminal() -> Console | None:
    """A console on a duplicate of the terminal's descriptor, or None when stdout or the
    console is not a terminal (CI). pytest captures descriptors 1 and 2 while a test
    runs, and the throughput benchmark runs for minutes inside a fixture: a line drawn
    through the console's own descriptor would not be seen until the test ends."""
    if not (console.is_terminal and sys.stdout.isatty()):
        return None
    try:
        stream = os.fdopen(os.dup(console.file.fileno()), "w", buffering=1,
                           encoding="utf-8")
    except (OSError, ValueError):
        return None
    return Console(file=stream, force_terminal=True, width=console.width)


class ProgressPlugin:
    """Shows a progress bar over the collected checks, with an estimate of time left, and
    a second line while the throughput benchmark runs (its phase, method, round and
    estimate). Quiet with ``quiet`` or when stdout is not a terminal (CI); ``terminal``
    is where to draw (default: :func:`_terminal`)."""

    def __init__(self, quiet: bool = False, terminal: Console | None = None) -> None:
        self.terminal = None if quiet else terminal or _terminal()
        #: The descriptor :func:`_terminal` opened, closed at the end of the session.
        self.opened = self.terminal is not None and terminal is None
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), LeftColumn(),
            console=self.terminal or console, transient=True, disable=self.terminal is None,
        )
        self.task: Any = None
        self.bench: Any = None
        #: Ctrl-C ended the session (pytest's exit status 2 also means a collection error).
        self.interrupted = False

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        console.log(f"{len(session.items)} checks collected")
        self.progress.start()
        self.task = self.progress.add_task("checks", total=len(session.items))

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        if self.task is not None:
            self.progress.update(self.task, description=escape(nodeid.split("::")[-1][:60]))

    def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> None:
        if self.task is not None:
            self.progress.advance(self.task)

    def pytest_podnet_bench_progress(self, progress: BenchProgress) -> None:
        if progress.phase == "done":
            if self.bench is not None:
                self.progress.remove_task(self.bench)
                self.bench = None
            return
        if self.bench is None:
            self.bench = self.progress.add_task("throughput", total=None)
        self.progress.update(self.bench, description=escape(progress.line()),
                             total=max(1, progress.total), completed=progress.done,
                             left=progress.left() or "estimating")

    def pytest_sessionfinish(self) -> None:
        self.progress.stop()
        if self.opened and self.terminal is not None:
            self.terminal.file.close()
            self.opened = False

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        # pytest reports a collection error as its own Interrupted (a KeyboardInterrupt).
        self.interrupted = (excinfo.errisinstance(KeyboardInterrupt)
                            and not excinfo.errisinstance(pytest.Session.Interrupted))


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped the job; the message says what was kept."""


@contextlib.contextmanager
def _shielded() -> Iterator[None]:
    """Teardown after Ctrl-C is not cut short by a second Ctrl-C (commands started here
    ignore it too)."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def verify(*, releases: list[str], lab_name: str, quick: bool, keep_lab: bool,
           results_root: Path, marker: str | None, extra: list[str],
           quiet: bool = False, guide: Revision | None = None) -> int:
    """Run every check on each release in turn (the arguments are validated by the
    caller); ``quiet``: no live progress lines. Ctrl-C stops the whole job: the lab it
    started goes down, the current run is kept, marked interrupted, and
    :class:`Interrupted` names it."""
    if guide is not None:  # the checks judge this revision of the guide
        extra = ["--guide", guide.commit or guide.source, *(a for a in extra if a != "--")]
    preflight(marker, extra)
    console.print(f"guide: {escape((guide or revisions.newest()).label)}")
    job = Job(lab_name, quick, keep_lab, results_root, marker, extra, quiet)
    with lock.session_lock(lab_name):  # the lab is this job's until it ends
        done = [_verify_one(job, release) for release in releases]
    run_dirs = [run_dir for _, run_dir in done]
    if len(run_dirs) > 1:
        from harness.matrix_render import render_matrix

        for path in render_matrix(run_dirs, results_root):
            console.print(f"matrix report: {escape(str(path))}")
    return max(code for code, _ in done)


#: Investigations beyond the guide's statements that verify runs only when ``-m`` names
#: them: how each method's cost grows with the work (about 7 minutes) and pasta's stall
#: experiments (about 2); benchmarks both, alone on the machine.
ON_REQUEST = ("cost_curves", "pasta_stall")


def guide_checks(marker: str | None) -> str:
    """The marker expression of the checks verify runs: the guide's (and, when ``-m``
    asks, the investigations ``ON_REQUEST``), never podnet's proofs of itself (marker
    ``proof``: they run with podnet's own tests)."""
    if marker:
        return f"({marker}) and not proof"
    return " and ".join(["not proof", *(f"not {name}" for name in ON_REQUEST)])


def _pytest_args(marker: str | None, extra: list[str], *more: str) -> list[str]:
    """pytest's arguments for verify's checks: the suites with podnet's plugin, ``more``,
    the selection (:func:`guide_checks`) and the arguments given after ``--``."""
    return [str(SCENARIOS), "-q", "--no-header", "-p", "podnet", *QUIET_PLUGINS, *more,
            "-m", guide_checks(marker), *(a for a in extra if a != "--")]


def preflight(marker: str | None, extra: list[str]) -> None:
    """Collect the checks without running them, before any lab is built: pytest options
    after ``--`` that pytest refuses, a module that does not import, or a selection of
    no check at all, are one line now instead of after the lab build."""
    done = run([sys.executable, "-m", "pytest", *_pytest_args(marker, extra, "--collect-only")],
               check=False, timeout=300)
    if done.returncode == pytest.ExitCode.OK:
        return
    if done.returncode == pytest.ExitCode.NO_TESTS_COLLECTED:
        chosen = " ".join([*(["-m", repr(marker)] if marker else []), *extra])
        raise UsageError(f"no check is selected by {chosen or 'the defaults'}: check the "
                         "marker names ('pytest --markers') and the arguments after '--' "
                         "(podnet's proofs of itself, marker proof, run with 'pytest -m "
                         "proof', not with podnet verify)")
    lines = [line.strip() for line in (done.stderr or done.stdout).splitlines() if line.strip()]
    said = next((line for line in lines if "error:" in line), lines[-1] if lines else "")
    said = said.split("error: ", 1)[-1].removeprefix("Exit: ").removeprefix("podnet: ")
    raise UsageError(f"pytest refuses the checks' arguments ({said}): fix the arguments "
                     "after '--', or see 'pytest --help'")


@dataclass(frozen=True)
class Job:
    """What ``podnet verify`` was asked, the same for each release it checks."""

    lab_name: str
    quick: bool
    keep_lab: bool
    results_root: Path
    marker: str | None
    extra: list[str]
    quiet: bool


def _verify_one(job: Job, release: str) -> tuple[int, Path]:
    run_id = store.new_run_id()
    run_dir = store.run_dir(job.results_root, run_id)
    started_lab = False
    #: Ctrl-C before ``up`` returned: what it was booting is taken down.
    starting = True
    try:
        with step_printer() as step:  # a lab up with another release is replaced
            started_lab = lab.up(job.lab_name, release, step=step, replace=True).booted
        starting = False
        started = time.monotonic()
        code, interrupted = _run_checks(job, release, run_id, run_dir)
        if interrupted:
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        took_down, started_lab = (started_lab or starting) and not job.keep_lab, False
        with _shielded():
            if took_down:
                lab.down(job.lab_name)
            kept = _mark_interrupted(run_dir, run_id, release)
        lab_note = "the lab it started is down" if took_down else "the lab is left up"
        raise Interrupted(f"interrupted: {kept} results kept in {run_dir} (marked "
                          f"interrupted); {lab_note}") from None
    finally:
        if started_lab and not job.keep_lab:
            with _shielded():
                lab.down(job.lab_name)
    return _report(run_dir, code, started), run_dir


def _run_checks(job: Job, release: str, run_id: str, run_dir: Path) -> tuple[int, bool]:
    """pytest's exit status, and whether Ctrl-C stopped it."""
    run_dir.mkdir(parents=True, exist_ok=True)
    args = _pytest_args(
        job.marker, job.extra, "--lab-name", job.lab_name, "--release", release, "--run-id",
        run_id, "--results-dir", str(job.results_root), "--keep-lab", "--tb=line",
        # The command line read the plugin's markers before this session started.
        "-W", "ignore::pytest.PytestAssertRewriteWarning",
        f"--junitxml={run_dir / 'junit.xml'}", *workers.CONCURRENCY,
        *(["--quick"] if job.quick else []))
    progress = ProgressPlugin(job.quiet)
    # The workers, other processes, check in the lab whose session this job holds.
    lent = lock.hand_down(job.lab_name)
    with environ(lent):
        code = int(pytest.main(args, plugins=[progress]))
    return code, progress.interrupted


def _mark_interrupted(run_dir: Path, run_id: str, release: str) -> int:
    """Mark the run interrupted, keeping what it recorded (a run stopped before its
    first result gets a record of its own); render its reports; the number of results."""
    try:
        run = (store.load(run_dir) if (run_dir / store.RUN_FILE).exists()
               else Run.begin(run_id, environment={"release": release}))
        run.status = "interrupted"
        store.save(run, run_dir)
        if run.results or run.measurements:
            from harness.reports import render_run

            render_run(run_dir)
    except PodnetError as exc:
        console.print(f"[red]the interrupted run could not be marked:[/] {escape(str(exc))}")
        return 0
    return len(run.results)


def _report(run_dir: Path, code: int, started: float) -> int:
    """Reports, summary and failures of a finished run; the exit status."""
    if not (run_dir / store.RUN_FILE).exists():
        console.print(f"[red]no results were recorded (pytest exit {code})[/]")
        return code or 1
    run = store.load(run_dir)
    if late := timings.drain():  # the lab taken down after pytest ended
        run.timings += late
        store.save(run, run_dir)
    from harness.reports import durations, render_run

    paths = render_run(run_dir, run=run)
    console.print(summary_table(run))
    for outcome, heading, mark, line in (
            ("failed", "contradiction(s) of the guide", "[red]✘[/]", contradiction_line),
            ("error", "claim(s) podnet could not check (error)", "[yellow]![/]", error_line)):
        results = [result for result in run.results if result.outcome == outcome]
        if results:
            plural = "s" if len(results) != 1 else ""
            console.print(f"[bold]{len(results)} {heading.replace('(s)', plural)}:[/]")
        for result in results:
            console.print(f"{mark} {escape(line(result))}")
    html = next((p for p in paths if p.suffix == ".html"), None)
    for text in durations.summary_lines(run):
        console.print(escape(text), highlight=False)
    console.print(f"{escape(outcome_line(run))} in {time.monotonic() - started:.0f}s; "
                  f"report: {escape(str(html or run_dir))}")
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        code = 0
    return 1 if code or any(r.outcome in ("failed", "error") for r in run.results) else 0
