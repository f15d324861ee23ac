"""Progress of the throughput benchmark: what the schedule reports before each
measurement, the estimate of time left, and podnet verify's live line (rich), quiet
under CI."""

from __future__ import annotations

import io
import itertools
from typing import Any

import pytest
from rich.console import Console

from harness import verify
from harness.bench.progress import BenchProgress, Tracker, finished
from harness.bench.schedule import Settings, run_rounds
from harness.bench.throughput import NATIVE, Probe, Sample
from harness.results.schema import Measurement
from tests.test_bench_schedule import NoProc


def probe(method: str, direction: str = "inbound") -> Probe:
    return Probe(method, direction, "tcp", "iperf3", NATIVE, lambda s: Sample(1e9, 1000))


def test_line_names_phase_round_method_and_combo() -> None:
    p = BenchProgress("round", 2, 5, "pasta", "outbound/tcp", 10, 40, 300.0, 500.0)
    assert p.line() == "throughput round 2 of 5: pasta outbound/tcp"
    assert p.left() == "about 5 min left (at most 8 min)"
    assert BenchProgress("extra round", 6, 5, "host", "inbound/udp", 1, 2).line() == (
        "throughput extra round 6: host inbound/udp")
    assert BenchProgress("warm-up", 0, 5, "native", "inbound/tcp", 0, 9).left() == ""
    assert BenchProgress("evidence", 0, 0, "pasta", "outbound/tcp", 0, 2, 20.0).line() == (
        "throughput evidence for findings: pasta outbound/tcp")
    assert BenchProgress("setup", 0, 0, "", "", 0, 1).line() == (
        "throughput setup: starting the receivers")


def test_tracker_estimates_from_the_mean_time_per_measurement() -> None:
    heard: list[BenchProgress] = []
    now = iter([0.0, 0.0, 10.0, 20.0])
    tracker = Tracker(heard.append, rounds=2, planned=4, limit=100.0, clock=lambda: next(now))
    for _ in range(3):
        tracker.measuring("round", 1, "pasta", "inbound/tcp")
    assert [p.done for p in heard] == [0, 1, 2]
    assert heard[0].seconds_left is None  # nothing measured yet
    assert heard[1].seconds_left == pytest.approx(30.0)  # 3 left at 10 s each
    assert heard[2].seconds_left == pytest.approx(20.0)
    assert heard[2].at_most == pytest.approx(80.0)  # the budget bounds the extra rounds
    tracker.add(3)
    assert tracker.total == 7


def test_run_rounds_reports_every_measurement_in_order_of_phase() -> None:
    heard: list[BenchProgress] = []
    probes = [probe(NATIVE), probe("pasta"), probe("host")]
    ticks = itertools.count(step=1.0)
    sizes = run_rounds(NoProc(), probes, Settings(rounds=2, seconds=1, warmup=True),  # type: ignore[arg-type]
                       lambda m: None, seed=1, clock=lambda: next(ticks),
                       report=heard.append, after_seconds=30.0)
    phases = [p.phase for p in heard]
    assert phases == ["warm-up"] * 3 + ["round"] * sum(sizes)
    assert heard[-1].total == 3 + sum(sizes) and heard[-1].done == len(heard) - 1
    assert {p.round for p in heard if p.phase == "round"} == {1, 2}
    assert {p.method for p in heard} == {NATIVE, "pasta", "host"}
    assert all(p.combo == "inbound/tcp" for p in heard)


def test_run_rounds_is_silent_by_default() -> None:
    settings = Settings(rounds=1, seconds=1, warmup=False)
    samples: list[Measurement] = []
    run_rounds(NoProc(), [probe(NATIVE), probe("pasta")], settings,  # type: ignore[arg-type]
               samples.append, seed=1)
    assert len(samples) == 2


def plugin(monkeypatch: pytest.MonkeyPatch, terminal: bool, quiet: bool = False
           ) -> tuple[verify.ProgressPlugin, io.StringIO]:
    """The plugin as podnet verify makes it, on a console that is a terminal or not."""
    out = io.StringIO()
    console = Console(file=out, force_terminal=terminal, width=120)
    monkeypatch.setattr(verify, "console", console)
    monkeypatch.setattr(verify, "_terminal", lambda: console if terminal else None)
    return verify.ProgressPlugin(quiet), out


def test_verify_shows_a_throughput_line_with_the_estimate(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    progress, _ = plugin(monkeypatch, terminal=True)
    assert not progress.progress.disable
    progress.pytest_podnet_bench_progress(
        BenchProgress("round", 3, 5, "pasta", "outbound/tcp", 20, 50, 200.0, 400.0))
    task = progress.progress.tasks[-1]
    assert task.description == "throughput round 3 of 5: pasta outbound/tcp"
    assert (task.completed, task.total) == (20, 50)
    assert task.fields["left"] == "about 3 min left (at most 7 min)"
    rendered: Any = verify.LeftColumn().render(task)
    assert rendered.plain == "about 3 min left (at most 7 min)"
    progress.pytest_podnet_bench_progress(
        BenchProgress("evidence", 0, 0, "pasta", "outbound/tcp", 0, 2, 20.0))
    assert len(progress.progress.tasks) == 1  # the same line, updated
    assert progress.progress.tasks[0].fields["left"] == "about 20 s left"
    finished(progress.pytest_podnet_bench_progress)
    assert progress.progress.tasks == []


def test_quiet_when_not_a_terminal_or_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert plugin(monkeypatch, terminal=False)[0].progress.disable
    assert plugin(monkeypatch, terminal=True, quiet=True)[0].progress.disable
    progress, out = plugin(monkeypatch, terminal=False)
    progress.progress.start()
    progress.pytest_podnet_bench_progress(
        BenchProgress("round", 1, 5, "pasta", "outbound/tcp", 0, 50))
    progress.progress.stop()
    assert out.getvalue() == ""


def test_the_hook_is_declared_for_pytest() -> None:
    from harness import hookspecs

    assert hookspecs.pytest_podnet_bench_progress.__code__.co_varnames[:1] == ("progress",)


def test_the_line_is_drawn_past_pytests_capture(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal, the live console writes to a duplicate of the console's descriptor,
    which pytest's capture of descriptors 1 and 2 does not redirect."""
    import os

    read, write = os.pipe()
    stream = os.fdopen(write, "w")
    monkeypatch.setattr(verify, "console", Console(file=stream, force_terminal=True))
    monkeypatch.setattr(verify.sys, "stdout", type("Tty", (), {"isatty": lambda self: True})())
    terminal = verify._terminal()
    assert terminal is not None and terminal.file.fileno() not in (write, 1, 2)
    terminal.file.write("seen\n")
    terminal.file.close()
    stream.close()
    with os.fdopen(read) as pipe:
        assert pipe.read() == "seen\n"


def test_no_terminal_without_a_tty_on_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verify, "console", Console(file=io.StringIO(), force_terminal=True))
    monkeypatch.setattr(verify.sys, "stdout", io.StringIO())
    assert verify._terminal() is None
    assert verify.ProgressPlugin().progress.disable
