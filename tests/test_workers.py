"""Checks at the same time (harness.workers): a lab per worker, one merged run record,
benchmarks alone."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness import workers
from harness.errors import UsageError
from harness.results.schema import ClaimResult, Measurement, Run
from harness.results.timings import Timing
from harness.scheduling import ModuleScheduling


def test_the_first_worker_uses_the_named_lab_the_others_their_own() -> None:
    assert workers.lab_for_worker("podnet", None) == "podnet"
    assert workers.lab_for_worker("podnet", "gw0") == "podnet"
    assert workers.lab_for_worker("podnet", "gw1") == "podnet-gw1"
    with pytest.raises(UsageError, match="too long"):
        workers.lab_for_worker("x" * 22, "gw1")


def _result(claim: str) -> ClaimResult:
    return ClaimResult(claim_id=claim, section="s", statement="t", expected=True,
                       observed=True, outcome="passed")


def test_the_controller_keeps_every_workers_results() -> None:
    run = Run("r1", 1.0, environment={"release": "trixie"}, results=[_result("a")])
    other = Run("r1", 2.0, environment={"kernel": "6.1"}, results=[_result("b")],
                measurements=[Measurement("latency", "pasta", 0.001, "s", "inbound", "tcp", 1)],
                summaries={"latency": {"x": 1}})

    config = SimpleNamespace(workeroutput={})
    workers.hand_over(config, other)
    workers.merge(run, config.workeroutput[workers.RUN])
    assert [r.claim_id for r in run.results] == ["a", "b"]
    assert len(run.measurements) == 1 and run.summaries == {"latency": {"x": 1}}
    assert run.environment == {"release": "trixie", "kernel": "6.1"}
    assert (run.run_id, run.started) == ("r1", 1.0)
    assert json.loads(config.workeroutput[workers.RUN])["run_id"] == "r1"


def _holds(run_id: str, benchmark: bool, started: threading.Event,
           release: threading.Event) -> threading.Thread:
    def hold() -> None:
        with workers.bench_lock(run_id, benchmark=benchmark):
            started.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    return thread


def test_no_test_runs_while_a_benchmark_does_and_tests_share() -> None:
    run_id = f"test-{uuid.uuid4().hex[:8]}"
    try:
        bench_in, bench_out = threading.Event(), threading.Event()
        bench = _holds(run_id, True, bench_in, bench_out)
        assert bench_in.wait(5)
        test_in, test_out = threading.Event(), threading.Event()
        test = _holds(run_id, False, test_in, test_out)
        assert not test_in.wait(0.5), "a test started while a benchmark ran"
        bench_out.set()
        bench.join(5)
        assert test_in.wait(5), "the test did not start after the benchmark"
        # Tests share: a second one runs beside the first.
        other_in, other_out = threading.Event(), threading.Event()
        other = _holds(run_id, False, other_in, other_out)
        assert other_in.wait(5)
        # A benchmark waits for the tests that run, and keeps new ones out meanwhile.
        late_in, late_out = threading.Event(), threading.Event()
        late_bench = _holds(run_id, True, late_in, late_out)
        time.sleep(0.3)
        newcomer_in, newcomer_out = threading.Event(), threading.Event()
        newcomer = _holds(run_id, False, newcomer_in, newcomer_out)
        assert not late_in.wait(0.3), "a benchmark started beside running tests"
        test_out.set()
        other_out.set()
        assert late_in.wait(5)
        assert not newcomer_in.is_set(), "a test started while a benchmark waited"
        late_out.set()
        assert newcomer_in.wait(5)
        newcomer_out.set()
        for thread in (test, other, late_bench, newcomer):
            thread.join(5)
    finally:
        workers.remove_locks(run_id)


def test_a_benchmark_module_holds_the_lock_from_its_first_test_to_its_last() -> None:
    run_id = f"test-{uuid.uuid4().hex[:8]}"
    schedule = workers.Schedule(run_id)
    try:
        with schedule.around(benchmark=True, next_benchmark=True):
            pass
        started, release = threading.Event(), threading.Event()
        test = _holds(run_id, False, started, release)
        assert not started.wait(0.5), "a test ran between two tests of a benchmark module"
        with schedule.around(benchmark=True, next_benchmark=False):
            pass
        assert started.wait(5)
        release.set()
        test.join(5)
    finally:
        workers.remove_locks(run_id)


def test_a_sharded_modules_tests_spread_over_its_shards_and_others_stay_whole() -> None:
    examples = [f"scenarios/test_guide_examples.py::test_guide_example[L{n}-x]"
                for n in range(40)]
    units = {workers.work_unit(nodeid) for nodeid in examples}
    assert units == {f"scenarios/test_guide_examples.py::shard{i}" for i in range(4)}
    assert workers.work_unit(examples[3]) == workers.work_unit(examples[3])  # stable
    assert workers.work_unit("scenarios/test_outbound.py::test_x[a]") == "scenarios/test_outbound.py"
    assert workers.work_unit("tests/test_workers.py::test_y") == "tests/test_workers.py"


def test_a_check_of_each_shard_runs_in_its_shard() -> None:
    for i in range(4):
        nodeid = f"scenarios/test_guide_examples.py::test_the_examples_leave_nothing_behind[shard{i}]"
        assert workers.work_unit(nodeid) == f"scenarios/test_guide_examples.py::shard{i}"


def test_the_lab_gets_a_few_workers_per_core_within_bounds() -> None:
    assert workers.lab_workers(1) == 2
    assert workers.lab_workers(2) == 4
    assert workers.lab_workers(64) == workers.MOST_WORKERS
    assert workers.lab_workers(None) == 2


class _Node:
    """A worker as xdist's scheduler sees it: what it was sent to run."""

    def __init__(self, name: str) -> None:
        self.name, self.sent = name, []  # type: list[int]
        self.gateway = SimpleNamespace(id=name)
        self.shutting_down = False

    def send_runtest_some(self, indexes: list[int]) -> None:
        self.sent.extend(indexes)

    def shutdown(self) -> None:
        pass


def test_the_longest_units_go_first_by_the_times_runs_gave() -> None:
    """A long module of one test (the workstation proof) among many short ones starts
    first, not last; a module no run timed counts as a few seconds per check."""
    config = SimpleNamespace(getvalue=lambda name: ["2*popen"],
                             option=SimpleNamespace(loadscopereorder=True))
    collection = ([f"tests/test_many.py::test_{i}" for i in range(50)]
                  + ["scenarios/test_short.py::test_a", "scenarios/test_short.py::test_b",
                     "scenarios/test_untimed.py::test_a", "scenarios/test_long.py::test_proof"])
    timed = workers.TestTimes({"scenarios/test_long.py::test_proof": 200.0,
                               "scenarios/test_short.py::test_a": 1.0})
    scheduler = ModuleScheduling(config, None, timed)
    nodes = [_Node("gw0"), _Node("gw1")]
    for node in nodes:
        scheduler.add_node(node)
        scheduler.add_node_collection(node, collection)
    scheduler.schedule()
    first = [collection[node.sent[0]] for node in nodes]
    assert first == ["scenarios/test_long.py::test_proof", "tests/test_many.py::test_0"]
    # the rest in order of expected time: untimed (3 s), short (1 + 3 s) ...
    assert {collection[i].split("::")[0] for i in nodes[0].sent[1:2] + nodes[1].sent[50:51]} \
        <= {"scenarios/test_short.py", "scenarios/test_untimed.py"}


def _scheduled(collection: list[str], timed: workers.TestTimes, workers_count: int = 3
               ) -> tuple[ModuleScheduling, list[_Node]]:
    config = SimpleNamespace(getvalue=lambda name: [f"{workers_count}*popen"],
                             option=SimpleNamespace(loadscopereorder=True))
    scheduler = ModuleScheduling(config, None, timed)
    nodes = [_Node(f"gw{i}") for i in range(workers_count)]
    for node in nodes:
        scheduler.add_node(node)
        scheduler.add_node_collection(node, collection)
    scheduler.schedule()
    return scheduler, nodes


BENCH_COLLECTION = (
    [f"tests/test_many_{m}.py::test_{i}" for m in range(6) for i in range(4)]
    + ["scenarios/test_bench_a.py::test_1", "scenarios/test_bench_a.py::test_2",
       "scenarios/test_bench_b.py::test_1", "scenarios/test_long.py::test_proof",
       "scenarios/test_short.py::test_a"])
BENCH_TIMES = workers.TestTimes(
    {"scenarios/test_long.py::test_proof": 200.0, "scenarios/test_bench_a.py::test_1": 90.0,
     "scenarios/test_bench_b.py::test_1": 40.0},
    frozenset({"scenarios/test_bench_a.py::test_1", "scenarios/test_bench_b.py::test_1"}))


def _complete(scheduler: ModuleScheduling, node: _Node, nodeid: str) -> None:
    scheduler.mark_test_complete(node, BENCH_COLLECTION.index(nodeid))


def test_the_benchmarks_go_first_to_one_worker_and_the_others_wait() -> None:
    """What ran alone before (the benchmarks) goes to one worker at once, longest first;
    no other worker gets anything until the last of them is done, so none of the run's
    checks waits at the bench lock behind a long test, nor holds a benchmark up."""
    scheduler, nodes = _scheduled(BENCH_COLLECTION, BENCH_TIMES)
    bench = [n for n in nodes if n.sent]
    assert len(bench) == 1
    sent = [BENCH_COLLECTION[i] for i in bench[0].sent]
    assert sent == ["scenarios/test_bench_a.py::test_1", "scenarios/test_bench_a.py::test_2",
                    "scenarios/test_bench_b.py::test_1"]
    for nodeid in sent[:2]:
        _complete(scheduler, bench[0], nodeid)
    assert all(not n.sent for n in nodes if n is not bench[0])  # one benchmark still runs
    # the bench worker takes the longest unit next, to run after its benchmarks
    assert BENCH_COLLECTION[bench[0].sent[3]] == "scenarios/test_long.py::test_proof"
    _complete(scheduler, bench[0], sent[2])
    # the benchmarks are done: the other workers take what is left
    assert all(n.sent for n in nodes)


def test_without_benchmarks_every_worker_starts_at_once() -> None:
    _, nodes = _scheduled(BENCH_COLLECTION, workers.TestTimes(BENCH_TIMES.seconds))
    assert all(n.sent for n in nodes)
    assert BENCH_COLLECTION[nodes[0].sent[0]] == "scenarios/test_long.py::test_proof"


def test_a_crashed_bench_worker_leaves_its_benchmarks_to_another() -> None:
    scheduler, nodes = _scheduled(BENCH_COLLECTION, BENCH_TIMES)
    bench = next(n for n in nodes if n.sent)
    scheduler.remove_node(bench)
    assert any(BENCH_COLLECTION[n.sent[0]] == "scenarios/test_bench_a.py::test_1"
               for n in nodes if n is not bench and n.sent)


def test_the_times_of_a_run_say_which_tests_ran_alone() -> None:
    run = Run("r", 1.0, timings=[
        Timing("scenarios/test_throughput.py::test_x", "test", 80.0, 1.0, alone=True),
        Timing("tests/test_a.py::test_y", "test", 0.1, 1.0),
        Timing("lab up", "phase", 9.0, 1.0)])
    times = workers.TestTimes.of(run)
    assert times.seconds == {"scenarios/test_throughput.py::test_x": 80.0}
    assert times.alone == {"scenarios/test_throughput.py::test_x"}
    older = workers.TestTimes({"tests/test_a.py::test_y": 2.0}, frozenset({"s.py::t"}))
    both = times.over(older)
    assert both.seconds["tests/test_a.py::test_y"] == 2.0
    assert both.alone == {"scenarios/test_throughput.py::test_x", "s.py::t"}


def test_the_shipped_times_are_those_of_a_whole_run() -> None:
    shipped = workers.shipped_test_times()
    assert any(k.startswith("scenarios/test_guide_examples.py::") for k in shipped.seconds)
    assert all(v >= workers.TIMED_AT_LEAST for v in shipped.seconds.values())
    assert shipped.alone <= set(workers.TestTimes.of(Run("r", 1.0)).alone) | shipped.alone


def test_the_newest_run_that_timed_tests_orders_the_work(tmp_path: Path) -> None:
    older = Run("r1", 1.0, timings=[Timing("tests/test_a.py::test_x", "test", 9.0, 1.0)])
    newest = Run("r2", 2.0)  # the run starting now: nothing timed yet
    for run in (older, newest):
        (tmp_path / run.run_id).mkdir()
        (tmp_path / run.run_id / "run.json").write_text(json.dumps(run.to_dict()))
        time.sleep(0.01)
    (tmp_path / "r3").mkdir()
    (tmp_path / "r3" / "run.json").write_text("{not json")
    assert workers.newest_test_times(tmp_path).seconds == {"tests/test_a.py::test_x": 9.0}
    assert workers.newest_test_times(tmp_path / "none").seconds == {}


def test_lab_down_takes_the_workers_labs_of_that_lab_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.lab import lab, lock
    monkeypatch.setattr(lock, "lab_names", lambda: [
        "ci", "ci-gw1", "ci-gw12", "ci-gw", "ci-gw1x", "ci2-gw1", "cix-gw3", "xci-gw1"])
    assert lab.worker_labs("ci") == ["ci-gw1", "ci-gw12"]
    assert lab.worker_labs("ci.") == []  # a name is not a pattern
