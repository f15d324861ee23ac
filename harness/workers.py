"""Checks at the same time, with pytest-xdist: one lab per worker, one run record.

``pytest -n auto --dist loadfile`` (the project's default, and ``podnet verify``'s) runs
the suites' modules in worker processes at the same time, one module per worker, so a
module's fixtures (its units, containers and servers) are made once. What the schedule
guarantees:

- **No shared lab.** Each worker checks in a lab of its own: the first worker in the named
  lab, the others in ``<name>-<worker id>`` (booted from the cache when a test first needs
  it, taken down at the end; kept up beside the named lab when that was up before the
  run, warm for the next run, and taken down with it by ``podnet lab down``). Checks in
  different workers share no rootless user, podman
  store, port, systemd unit, route or sysctl; the labs' namespaces are separate. A worker
  that never needs a lab boots none.
- **Benchmarks alone.** A benchmark (markers in ``BENCHMARK_MARKERS``) runs under the run's
  bench lock held exclusively, from the first test of its module to the last (its
  methods are measured in the same quiet); every other test of the run, in any worker,
  holds it shared for its setup, call and teardown. A benchmark waits until the tests
  running elsewhere finish, and no test starts while it runs (a turnstile lock keeps new
  shared holders out while a benchmark waits), so nothing of the run disturbs a
  measurement. The other workers' labs stay up meanwhile, idle.
- **Long modules in shards.** A module named in ``SHARDED`` (the guide's examples, each
  run as a user of its own) is split into that many work units instead of one, so its
  tests run in several workers at once; a module's check that runs after its tests
  (``..._leave_nothing_behind[shard<i>]``) runs once per shard, last in its shard, in the
  lab where that shard ran (``shard_of``). Every other module stays one unit (xdist's
  ``loadfile``).
- **Benchmarks first, in one block.** The units of the tests that ran alone in earlier
  runs (``TestTimes.alone``) all go to one worker, first, and the other workers get no
  work until the last of them is done (``harness.scheduling``). The benchmarks then run
  one after the other under one hold of the bench lock, and no worker sits at the
  turnstile behind a long check (the workstation proof holds the lock shared for
  minutes) while a benchmark waits. A benchmark no run has seen yet still runs alone,
  by the lock, wherever it falls.
- **Longest first.** The other work units go to workers longest first (the longest
  processing time rule), so a long unit does not start last and run alone at the end.
  How long a unit takes comes from runs: the tests' times in the newest run of the
  results directory, over the times of a whole run shipped in
  ``harness/data/test-seconds.json`` (``scripts/test-seconds`` writes it from a run); a
  test in neither counts ``UNKNOWN_SECONDS`` (a check in the lab) or
  ``UNKNOWN_UNIT_SECONDS`` (a unit test).
- **One record.** A worker keeps its results in memory and hands them to the controller
  through xdist's ``workeroutput``; the controller writes the one ``run.json``.

A target that is not the lab (``--target local`` or ``ssh://``) is one user's podman:
``-n auto`` then starts no worker, and the checks run one at a time in pytest's process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import re
import tempfile
import zlib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from harness import names
from harness.errors import PodnetError, UsageError
from harness.results.schema import Run

#: How the suites run: a worker per core (``auto``, see pytest_xdist_auto_num_workers in
#: the plugin), one test module per worker, so a module's fixtures are made once (xdist's
#: loadgroup does not group on pytest 9.2: pytest-xdist issue 1386).
CONCURRENCY = ("-n", "auto", "--dist", "loadfile")
#: Modules split into this many work units (see the module's docstring), by file name.
SHARDED = {"test_guide_examples.py": 4, "test_source_address.py": 4}
#: What a test no run has timed is expected to take: a suite's check, a unit test.
UNKNOWN_SECONDS = 3.0
UNKNOWN_UNIT_SECONDS = 0.1
#: The shipped test times (see the module's docstring): {"run": id, "tests": {id: s}}.
TEST_SECONDS = "test-seconds.json"
#: How many of the newest runs are looked at for their tests' times.
RUNS_LOOKED_AT = 5
#: Tests quicker than this are left out of the shipped times (they count as unknown).
TIMED_AT_LEAST = 0.5
#: Workers per core for the lab's checks: they mostly wait on the lab (podman, systemd,
#: the network), and each worker has a lab of its own.
WORKERS_PER_CORE = 2
#: ... and never more than this many labs at once.
MOST_WORKERS = 8
#: The worker that checks in the named lab itself.
FIRST = "gw0"
#: The markers of the benchmarks, which run alone (see the module's docstring).
BENCHMARK_MARKERS = ("throughput", "latency", "proxy_throughput", "cost_curves", "pasta_stall")
#: workerinput key: the controller's run id, shared by its workers.
RUN_ID = "podnet_run_id"
#: workerinput key: keep the workers' own labs up at the end (the named lab was up
#: before the run; ``podnet lab down`` of the named lab takes them down too).
KEEP_LABS = "podnet_keep_labs"
#: workeroutput key: a worker's run record (JSON), merged by the controller.
RUN = "podnet_run"


def lab_workers(cores: int | None) -> int:
    """``-n auto`` for the lab: a few workers per core (they wait more than they compute)."""
    return max(2, min(MOST_WORKERS, WORKERS_PER_CORE * (cores or 1)))


def shard_of(nodeid: str, shards: int) -> int:
    """The shard of a test of a sharded module: ``shard<i>`` when its parameter says so
    (a check that belongs to each shard), otherwise a stable hash of its name."""
    name = nodeid.split("::", 1)[-1]
    given = re.search(r"\[shard(\d+)\]$", name)
    if given is not None:
        return int(given.group(1)) % shards
    return zlib.crc32(name.encode()) % shards


def work_unit(nodeid: str) -> str:
    """The unit of work a test belongs to: its module, or a shard of it (``SHARDED``)."""
    module = nodeid.split("::", 1)[0]
    shards = SHARDED.get(module.rsplit("/", 1)[-1])
    return module if shards is None else f"{module}::shard{shard_of(nodeid, shards)}"


def expected_seconds(nodeid: str, timed: dict[str, float]) -> float:
    unknown = UNKNOWN_UNIT_SECONDS if nodeid.startswith("tests/") else UNKNOWN_SECONDS
    return timed.get(nodeid, unknown)


@dataclasses.dataclass(frozen=True)
class TestTimes:
    """What runs say about the tests: each one's seconds (the slower than
    ``TIMED_AT_LEAST``), and which of them ran alone (benchmarks)."""

    seconds: dict[str, float]
    alone: frozenset[str] = frozenset()

    @classmethod
    def of(cls, run: Run) -> TestTimes:
        tests = [t for t in run.timings if t.kind == "test"]
        return cls({t.name: round(t.seconds, 1) for t in tests if t.seconds >= TIMED_AT_LEAST},
                   frozenset(t.name for t in tests if t.alone))

    def over(self, older: TestTimes) -> TestTimes:
        """These times, and ``older``'s for the tests these do not time."""
        return TestTimes({**older.seconds, **self.seconds}, self.alone | older.alone)

    def to_dict(self, run_id: str) -> dict[str, Any]:
        return {"run": run_id, "tests": dict(sorted(self.seconds.items())),
                "alone": sorted(self.alone)}


def shipped_test_times() -> TestTimes:
    data = json.loads((resources.files("harness") / "data" / TEST_SECONDS).read_text())
    return TestTimes({str(k): float(v) for k, v in data["tests"].items()},
                     frozenset(str(n) for n in data.get("alone", [])))


def newest_test_times(results: Path) -> TestTimes:
    """The tests' times in the newest run of ``results`` that timed some (none when there
    is none: the order of work is then the shipped one). Runs that cannot be read are
    passed over."""
    runs = sorted(results.glob("*/run.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for path in runs[:RUNS_LOOKED_AT]:
        try:
            timed = TestTimes.of(Run.from_dict(json.loads(path.read_text()), str(path)))
        except (OSError, ValueError, PodnetError):
            continue
        if timed.seconds:
            return timed
    return TestTimes({})


def worker_id(config: Any) -> str | None:
    """``gw0``, ``gw1``, ... in an xdist worker; None in the controller or without xdist."""
    workerinput = getattr(config, "workerinput", None)
    return None if workerinput is None else str(workerinput["workerid"])


def hand_over(config: Any, run: Run) -> None:
    """In a worker, at its end: its record, for the controller to merge."""
    config.workeroutput[RUN] = json.dumps(run.to_dict(), default=str)


def lab_for_worker(name: str, worker: str | None) -> str:
    """The lab a worker checks in: the named lab for the first worker (and without
    xdist), ``<name>-<worker>`` for the others."""
    if worker in (None, FIRST):
        return name
    own = f"{name}-{worker}"
    try:
        return names.lab_name(own)
    except UsageError as exc:
        raise UsageError(f"lab name '{name}' is too long for the labs of concurrent checks "
                         f"('{own}'): use a shorter --lab-name or PODNET_LAB, or -n 0") from exc


def is_benchmark(markers: set[str]) -> bool:
    return bool(markers & set(BENCHMARK_MARKERS))


def _lock_files(run_id: str) -> tuple[Path, Path]:
    """The turnstile and the lock of run ``run_id``, shared by its workers."""
    base = Path(tempfile.gettempdir()) / f"podnet-bench-{run_id}"
    return base.with_suffix(".turnstile"), base.with_suffix(".lock")


@contextlib.contextmanager
def bench_lock(run_id: str, *, benchmark: bool) -> Iterator[None]:
    """Held around one test in a worker: exclusive for a benchmark, shared for any other
    test of the run ``run_id`` (see the module's docstring)."""
    turnstile, main = _lock_files(run_id)
    with _flocked(turnstile, fcntl.LOCK_EX):
        if benchmark:
            with _flocked(main, fcntl.LOCK_EX):
                yield
            return
    with _flocked(main, fcntl.LOCK_SH):
        yield


class Schedule:
    """A worker's side of "benchmarks alone": a test that is not a benchmark holds the
    bench lock shared for its own setup, call and teardown; a benchmark module's tests
    hold it exclusively from the first to the last, so its methods are measured in the
    same quiet, one after the other, and compared among themselves."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self._alone = contextlib.ExitStack()
        self._holding = False

    @contextlib.contextmanager
    def around(self, benchmark: bool, next_benchmark: bool) -> Iterator[None]:
        if not benchmark:
            with bench_lock(self.run_id, benchmark=False):
                yield
            return
        if not self._holding:
            self._alone.enter_context(bench_lock(self.run_id, benchmark=True))
            self._holding = True
        try:
            yield
        finally:
            if not next_benchmark:
                self._alone.close()
                self._holding = False


def remove_locks(run_id: str) -> None:
    """The controller, when its workers are gone: the run's lock files."""
    for path in _lock_files(run_id):
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def _flocked(path: Path, operation: int) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, operation)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def merge(into: Run, worker_output: str) -> None:
    """Add a worker's record to ``into``: its lists (results, measurements, ...) appended,
    its mappings (environment, summaries, ...) added; the run's own fields kept."""
    worker = Run.from_dict(json.loads(worker_output), "a worker's run record")
    for field in dataclasses.fields(Run):
        mine, theirs = getattr(into, field.name), getattr(worker, field.name)
        if isinstance(mine, list):
            mine.extend(theirs)
        elif isinstance(mine, dict):
            mine.update(theirs)
