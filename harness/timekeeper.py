"""The pytest side of :mod:`harness.results.timings`: each test's wall time (setup, call
and teardown, as ``--durations`` counts it), the throughput benchmark's phases from its
progress hook, and every :func:`~harness.results.timings.phase` announced meanwhile,
into the run record."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pytest

from harness import workers
from harness.bench.progress import BenchProgress
from harness.results import timings
from harness.results.schema import Run
from harness.results.timings import Timing

#: The benchmark's progress phases, as the phases of the run record name them.
BENCH_PHASES = {"round": "rounds", "extra round": "extra rounds"}


@dataclass
class _Test:
    started: float
    seconds: float = 0.0
    outcome: str = "passed"


#: eq=False: a plugin must stay hashable (pytest 8.3 keeps the plugins whose fixtures
#: it parsed in a set; a dataclass with __eq__ has no __hash__ and stops every session).
@dataclass(eq=False)
class Timekeeper:
    run: Run
    #: Whether this process times each test (not in an xdist worker: its controller does,
    #: from the reports the worker sends).
    per_test: bool = True
    _tests: dict[str, _Test] = field(default_factory=dict)
    #: The benchmark phase going on: (name, wall clock start, monotonic start).
    _bench: tuple[str, float, float] | None = None

    def __post_init__(self) -> None:
        timings.attach(self.run.timings.append)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not self.per_test:
            return
        test = self._tests.setdefault(report.nodeid, _Test(report.start))
        test.seconds += report.duration
        if report.failed:
            test.outcome = "failed"
        elif report.skipped and test.outcome == "passed":
            test.outcome = "skipped"
        if report.when == "teardown":
            del self._tests[report.nodeid]
            self.run.timings.append(Timing(report.nodeid, "test", test.seconds, test.started,
                                           timings.suite_of(report.nodeid), test.outcome,
                                           workers.is_benchmark(set(report.keywords))))

    def pytest_podnet_bench_progress(self, progress: BenchProgress) -> None:
        name = f"throughput: {BENCH_PHASES.get(progress.phase, progress.phase)}"
        if self._bench is not None and self._bench[0] == name:
            return
        self._end_bench()
        if progress.phase != "done":
            self._bench = (name, time.time(), time.monotonic())

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self) -> None:  # before the run record is written
        self._end_bench()

    def pytest_unconfigure(self) -> None:
        timings.detach(self.run.timings.append)

    def _end_bench(self) -> None:
        if self._bench is not None:
            name, started, clock = self._bench
            self._bench = None
            self.run.timings.append(Timing(name, "phase", time.monotonic() - clock, started))
