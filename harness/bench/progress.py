"""Where the throughput benchmark is, for a live progress line.

The schedule (:func:`harness.bench.schedule.run_rounds`) and the evidence gathering
report a :class:`BenchProgress` before each measurement or step; the pytest hook
``pytest_podnet_bench_progress`` (:mod:`harness.hookspecs`) carries it to whoever shows
it (``podnet verify``'s progress line). Nothing is printed here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class BenchProgress:
    #: "setup", "warm-up", "round", "extra round", "evidence" or "done".
    phase: str
    #: The round being measured (0 in warm-up and evidence), and the base rounds.
    round: int
    rounds: int
    #: What is being measured now: method and direction/protocol ("" between steps).
    method: str
    combo: str
    #: Measurements (or evidence steps) done, and the number expected in all.
    done: int
    total: int
    #: The estimate of seconds left, and the most it can be (extra rounds, evidence).
    seconds_left: float | None = None
    at_most: float | None = None

    def line(self) -> str:
        counted = f"{self.phase} {self.round}" + (f" of {self.rounds}" if self.phase == "round" else "")
        where = {"setup": "setup: starting the receivers", "warm-up": "warm-up",
                 "evidence": "evidence for findings", "done": "done"}.get(self.phase, counted)
        what = f": {self.method} {self.combo}".rstrip() if self.method else ""
        return f"throughput {where}{what}"

    def left(self) -> str:
        """"about 4 min left (at most 7)", or "" without an estimate."""
        if self.seconds_left is None:
            return ""
        text = f"about {_duration(self.seconds_left)} left"
        if self.at_most is not None and self.at_most > self.seconds_left + 30:
            text += f" (at most {_duration(self.at_most)})"
        return text


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"


Report = Callable[[BenchProgress], None]


def silent(progress: BenchProgress) -> None:
    """The default: nobody shows progress."""


class Tracker:
    """Counts what the schedule has done and estimates the time left from the mean
    time per measurement so far; ``limit`` is the most the whole benchmark may take from
    its start (the rounds' budget, extra rounds included, and the evidence budget)."""

    def __init__(self, report: Report, rounds: int, planned: int, limit: float = 0.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.report, self.rounds, self.total = report, rounds, planned
        self.limit = limit
        self.clock = clock
        self.started = self.clock()
        self.done = 0

    def add(self, measurements: int) -> None:
        """Measurements beyond the plan (an extra round)."""
        self.total = max(self.total, self.done) + measurements

    def measuring(self, phase: str, round_no: int, method: str = "", combo: str = "") -> None:
        """Report what starts now; counts the previous one as done."""
        elapsed = self.clock() - self.started
        mean = elapsed / self.done if self.done else None
        left = None if mean is None else max(0, self.total - self.done) * mean
        most = None if left is None else max(left, self.limit - elapsed)
        self.report(BenchProgress(phase, round_no, self.rounds, method, combo,
                                  self.done, self.total, left, most))
        self.done += 1


def starting(report: Report) -> None:
    """The benchmark sets up its receivers (before the first measurement)."""
    report(BenchProgress("setup", 0, 0, "", "", 0, 1))


def finished(report: Report) -> None:
    """The benchmark is over: the progress line goes away."""
    report(BenchProgress("done", 0, 0, "", "", 1, 1, 0.0))
