"""Checks at the same time (harness.workers): a lab per worker, one merged run record,
benchmarks alone."""

from __future__ import annotations

import json
import threading
import time
import uuid
from types import SimpleNamespace

import pytest

from harness import workers
from harness.errors import UsageError
from harness.results.schema import ClaimResult, Measurement, Run


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
