"""Where the time goes: the timings of run.json (writer: the pytest plugin's timekeeper and
the phases; readers: podnet report and podnet verify's summary)."""

from __future__ import annotations

import io
import json
import shutil
import time
from pathlib import Path

import pytest
from rich.console import Console

from harness import cli, verify
from harness.bench.progress import BenchProgress
from harness.errors import PodnetError
from harness.markup import to_markdown
from harness.reports import durations
from harness.results import store, timings
from harness.results.schema import Run
from harness.results.timings import Timing
from harness.timekeeper import Timekeeper

#: A recorded run: ``pytest -m source_address`` on a lab that was up already.
RECORDED = Path(__file__).parent / "fixtures" / "runs" / "timings" / "run.json"


@pytest.fixture(autouse=True)
def _own_phases(monkeypatch: pytest.MonkeyPatch) -> None:
    """Phases announced here go to no run but the test's (not this session's)."""
    monkeypatch.setattr(timings, "_sink", [])
    monkeypatch.setattr(timings, "_pending", [])


def _report(nodeid: str, when: str, duration: float, outcome: str = "passed",
            start: float = 1000.0) -> pytest.TestReport:
    return pytest.TestReport(nodeid, ("x.py", 1, "t"), {}, outcome, None, when,
                             duration=duration, start=start, stop=start + duration)


def test_a_run_keeps_its_timings_through_json(tmp_path: Path) -> None:
    run = Run("r", 1.0, timings=[Timing("lab up", "phase", 41.5, 2.0),
                                 Timing("a.py::t", "test", 3.25, 3.0, "a", "passed")])
    store.save(run, tmp_path)
    assert store.load(tmp_path).timings == run.timings


@pytest.mark.parametrize(("entry", "says"), [
    ({"name": "lab up", "kind": "phase", "seconds": "41", "started": 1.0},
     "timings[0].seconds should be int or float, not str"),
    ({"name": "lab up", "kind": "nap", "seconds": 1.0, "started": 1.0},
     "unknown timing kind 'nap'"),
    ({"kind": "phase", "seconds": 1.0, "started": 1.0}, "timings[0] lacks 'name'"),
])
def test_a_malformed_timing_is_one_line(tmp_path: Path, entry: dict[str, object],
                                        says: str) -> None:
    data = Run("r", 1.0).to_dict() | {"timings": [entry]}
    (tmp_path / "run.json").write_text(json.dumps(data))
    with pytest.raises(PodnetError, match="malformed") as info:
        store.load(tmp_path)
    assert says in str(info.value)


def test_a_record_without_timings_reads_as_none() -> None:
    data = Run("r", 1.0).to_dict()
    del data["timings"]
    assert Run.from_dict(data).timings == []


def test_a_phase_waits_for_a_run_then_goes_to_it() -> None:
    with timings.phase("lab up"):
        pass
    kept: list[Timing] = []
    timings.attach(kept.append)
    try:
        with pytest.raises(RuntimeError), timings.phase("image builds: test image"):
            raise RuntimeError("build failed")
    finally:
        timings.detach(kept.append)
    assert [(t.name, t.kind, t.outcome) for t in kept] == [
        ("lab up", "phase", ""), ("image builds: test image", "phase", "error")]
    assert timings.drain() == []


def test_the_timekeeper_adds_a_tests_setup_call_and_teardown() -> None:
    run = Run("r", 1.0)
    keeper = Timekeeper(run)
    try:
        node = "scenarios/test_source_address.py::test_source_address[pasta-tcp]"
        keeper.pytest_runtest_logreport(_report(node, "setup", 40.0, start=100.0))
        keeper.pytest_runtest_logreport(_report(node, "call", 2.5, start=140.0))
        assert run.timings == []  # not before its teardown
        keeper.pytest_runtest_logreport(_report(node, "teardown", 0.5, start=142.5))
        skipped = "scenarios/test_backend.py::test_x"
        keeper.pytest_runtest_logreport(_report(skipped, "setup", 0.1, "skipped"))
        keeper.pytest_runtest_logreport(_report(skipped, "teardown", 0.0))
        failed = "scenarios/test_backend.py::test_y"
        keeper.pytest_runtest_logreport(_report(failed, "setup", 0.1))
        keeper.pytest_runtest_logreport(_report(failed, "call", 1.0, "failed"))
        keeper.pytest_runtest_logreport(_report(failed, "teardown", 0.2))
    finally:
        keeper.pytest_unconfigure()
    assert run.timings == [
        Timing(node, "test", 43.0, 100.0, "source_address", "passed"),
        Timing(skipped, "test", 0.1, 1000.0, "backend", "skipped"),
        Timing(failed, "test", pytest.approx(1.3), 1000.0, "backend", "failed"),
    ]


def test_the_timekeeper_takes_the_benchmarks_phases_from_its_progress() -> None:
    run = Run("r", 1.0)
    keeper = Timekeeper(run)
    try:
        for phase, rnd in [("setup", 0), ("warm-up", 0), ("round", 1), ("round", 1),
                           ("round", 2), ("extra round", 6), ("evidence", 0), ("done", 0)]:
            keeper.pytest_podnet_bench_progress(BenchProgress(phase, rnd, 5, "", "", 0, 1))
        with timings.phase("teardown: lab down"):  # announced while the session runs
            pass
    finally:
        keeper.pytest_unconfigure()
    assert [t.name for t in run.timings] == [
        "throughput: setup", "throughput: warm-up", "throughput: rounds",
        "throughput: extra rounds", "throughput: evidence", "teardown: lab down"]
    with timings.phase("after the session"):
        pass
    assert len(run.timings) == 6  # detached: the next run gets it
    assert [t.name for t in timings.drain()] == ["after the session"]


def test_a_benchmark_cut_short_still_ends_its_phase() -> None:
    run = Run("r", 1.0)
    keeper = Timekeeper(run)
    keeper.pytest_podnet_bench_progress(BenchProgress("round", 1, 5, "pasta", "in/tcp", 0, 9))
    keeper.pytest_sessionfinish()
    keeper.pytest_unconfigure()
    assert [t.name for t in run.timings] == ["throughput: rounds"]


# --- readers, on a recorded run ----------------------------------------------------------

def _recorded() -> Run:
    return store.load(RECORDED)


def test_the_slowest_items_are_the_longest_tests_and_phases() -> None:
    run = _recorded()
    top = durations.slowest(run)
    assert len(top) == min(durations.SLOWEST, len(run.timings))
    assert [t.seconds for t in top] == sorted((t.seconds for t in run.timings),
                                              reverse=True)[:len(top)]
    assert {t.kind for t in durations.slowest(run, len(run.timings))} == {"test", "phase"}


def test_the_time_per_suite_adds_up_its_tests() -> None:
    run = _recorded()
    suites = durations.per_suite(run)
    tests = [t for t in run.timings if t.kind == "test"]
    assert sum(s.tests for s in suites) == len(tests)
    assert sum(s.seconds for s in suites) == pytest.approx(sum(t.seconds for t in tests))
    for suite in suites:
        mine = [t for t in tests if t.suite == suite.suite]
        assert suite.slowest.seconds == max(t.seconds for t in mine)


def test_the_report_section_lists_both_tables() -> None:
    run = _recorded()
    lines = to_markdown(durations.blocks(run))
    assert lines[0] == "## Where the time goes"
    slowest_at = lines.index(f"### The {durations.SLOWEST} slowest tests and phases")
    suites_at = lines.index("### Time per suite")
    first = durations.slowest(run, 1)[0]
    assert lines[slowest_at + 2].startswith("| seconds | kind | test or phase | outcome |")
    assert lines[slowest_at + 4].startswith(f"| {first.seconds:.1f} | {first.kind} | ")
    assert lines[suites_at + 2] == "| suite | tests | seconds | slowest test |"
    assert lines[-2].startswith("| all suites | ")


def test_the_verify_summary_is_short() -> None:
    run = _recorded()
    lines = durations.summary_lines(run, count=3)
    assert lines[0] == "slowest 3 tests and phases:"
    assert lines[4] == "time per suite:"
    assert all(line.startswith("  ") for line in lines[1:4] + lines[5:-1])
    assert lines[-1].startswith("The tests ran from the first one's start")


def test_how_the_tests_overlapped() -> None:
    """Two tests at once, then a benchmark alone, then one test: the time at most one ran
    counts the benchmark and the last test, not the overlap."""
    run = Run("r", 1.0, timings=[
        Timing("a.py::t1", "test", 10.0, 100.0), Timing("a.py::t2", "test", 4.0, 102.0),
        Timing("b.py::bench", "test", 5.0, 110.0, alone=True),
        Timing("c.py::t3", "test", 3.0, 115.0), Timing("lab up", "phase", 50.0, 90.0)])
    found = durations.overlap(run)
    assert found == durations.Overlap(span=18.0, total=22.0, at_most_one=14.0, alone=5.0)
    assert durations.overlap(Run("r", 1.0)) is None


def test_a_run_without_timings_has_no_section() -> None:
    run = Run("r", 1.0)
    assert durations.blocks(run) == []
    assert durations.summary_lines(run) == []


def test_a_tests_short_name_drops_its_directory() -> None:
    test = Timing("scenarios/test_lab.py::test_up[x]", "test", 1.0, 1.0, "lab")
    assert durations.short_name(test) == "test_lab.py::test_up[x]"
    assert durations.short_name(Timing("lab up", "phase", 1.0, 1.0)) == "lab up"
    assert timings.suite_of(test.name) == "lab"


def test_podnet_report_shows_where_the_time_goes(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(RECORDED, tmp_path / "run.json")
    assert cli.main(["report", str(tmp_path)]) == 0
    shown = capsys.readouterr().out
    first = durations.slowest(_recorded(), 1)[0]
    assert "## Where the time goes" in shown
    assert f"| {first.seconds:.1f} | {first.kind} | {durations.short_name(first)} |" in shown
    assert "## Where the time goes" in (tmp_path / "report.md").read_text()


def test_podnet_verify_ends_with_the_slowest_items(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(RECORDED, tmp_path / "run.json")
    screen = io.StringIO()
    monkeypatch.setattr(verify, "console", Console(file=screen, width=200))
    with timings.phase("teardown: lab down"):  # after pytest ended: verify adds it
        pass
    verify._report(tmp_path, 0, time.monotonic())
    shown = screen.getvalue()
    assert "slowest 10 tests and phases:" in shown and "time per suite:" in shown
    assert "teardown: lab down" in [t.name for t in store.load(tmp_path).timings]


def test_the_timekeeper_is_a_hashable_plugin() -> None:
    # pytest 8.3 (host1's, where the workstation and ssh proofs run podnet) keeps the
    # plugins whose fixtures it parsed in a set: an unhashable plugin stops the session.
    run = Run("r", 1.0)
    keeper = Timekeeper(run)
    try:
        assert keeper in {keeper}
    finally:
        keeper.pytest_unconfigure()
