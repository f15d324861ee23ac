"""Where a run's time went, from its ``timings`` (:mod:`harness.results.timings`): the
slowest tests and phases, and the time of each suite (its tests' wall times added up)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.markup import Block, Grid, Heading, Para
from harness.results.schema import Run
from harness.results.timings import Timing

#: How many items ``podnet report`` lists; ``podnet verify`` ends with fewer.
SLOWEST = 20


@dataclass(frozen=True)
class SuiteTime:
    suite: str
    tests: int
    seconds: float
    slowest: Timing


def slowest(run: Run, count: int = SLOWEST) -> list[Timing]:
    """The ``count`` longest tests and phases, longest first."""
    return sorted(run.timings, key=lambda t: (-t.seconds, t.name))[:count]


def per_suite(run: Run) -> list[SuiteTime]:
    """Each suite's tests added up, the longest suite first."""
    suites: dict[str, list[Timing]] = {}
    for timing in run.timings:
        if timing.kind == "test":
            suites.setdefault(timing.suite, []).append(timing)
    found = [SuiteTime(name, len(tests), sum(t.seconds for t in tests),
                       max(tests, key=lambda t: t.seconds))
             for name, tests in suites.items()]
    return sorted(found, key=lambda s: (-s.seconds, s.suite))


@dataclass(frozen=True)
class Overlap:
    """How the tests overlapped: the span from the first test's start to the last one's
    end, the tests' times added up, the time at most one test ran, and how much of that
    was a benchmark running alone."""

    span: float
    total: float
    at_most_one: float
    alone: float


def overlap(run: Run) -> Overlap | None:
    """The run's tests as :class:`Overlap` (None without timed tests), by a sweep over
    their starts and ends."""
    tests = [t for t in run.timings if t.kind == "test"]
    if not tests:
        return None
    events = sorted([(t.started, 1, t.alone) for t in tests]
                    + [(t.started + t.seconds, -1, t.alone) for t in tests])
    running = alone = 0
    at_most_one = by_alone = 0.0
    last = events[0][0]
    for moment, change, is_alone in events:
        if running <= 1:
            at_most_one += moment - last
            by_alone += (moment - last) if alone else 0.0
        running += change
        alone += change if is_alone else 0
        last = moment
    span = events[-1][0] - events[0][0]
    return Overlap(span, sum(t.seconds for t in tests), at_most_one, by_alone)


def overlap_sentence(found: Overlap) -> str:
    return (f"The tests ran from the first one's start to the last one's end in "
            f"{found.span:.0f} s; their times add up to {found.total:.0f} s "
            f"({found.total / found.span if found.span else 0:.1f} at once on average). "
            f"At most one test ran for {found.at_most_one:.0f} s, "
            f"{found.alone:.0f} s of them a benchmark alone.")


def short_name(timing: Timing) -> str:
    """A test's node id without its directory; a phase's name."""
    if timing.kind != "test":
        return timing.name
    module, _, rest = timing.name.partition("::")
    return f"{module.rsplit('/', 1)[-1]}::{rest}" if rest else module


def _seconds(value: float) -> str:
    return f"{value:.1f}"


def slowest_rows(items: Sequence[Timing]) -> list[list[str]]:
    return [[_seconds(t.seconds), t.kind, short_name(t), t.outcome or "-"] for t in items]


def suite_rows(suites: Sequence[SuiteTime]) -> list[list[str]]:
    rows = [[s.suite, str(s.tests), _seconds(s.seconds),
             f"{short_name(s.slowest)} ({_seconds(s.slowest.seconds)} s)"] for s in suites]
    if suites:
        rows.append(["all suites", str(sum(s.tests for s in suites)),
                     _seconds(sum(s.seconds for s in suites)), ""])
    return rows


SLOWEST_HEADER = ("seconds", "kind", "test or phase", "outcome")
SUITE_HEADER = ("suite", "tests", "seconds", "slowest test")


def blocks(run: Run) -> list[Block]:
    """``## Where the time goes``: the slowest items and the time per suite."""
    if not run.timings:
        return []
    wall = (f"The run took {run.finished - run.started:.0f} s from its start to its record's "
            "last write. " if run.finished is not None else "")
    together = overlap(run)
    return [
        Heading(2, "Where the time goes"),
        Para(wall + "A test's time is its setup, call and teardown (a session's lab start "
             "is in its first test); phases happen within tests or around them."
             + (f" {overlap_sentence(together)}" if together else "")),
        Heading(3, f"The {SLOWEST} slowest tests and phases"),
        Grid(SLOWEST_HEADER, slowest_rows(slowest(run))),
        Heading(3, "Time per suite"), Grid(SUITE_HEADER, suite_rows(per_suite(run)))]


def summary_lines(run: Run, count: int = 10) -> list[str]:
    """The end of ``podnet verify``, as pytest's ``--durations``: the slowest items, then
    the time per suite."""
    if not run.timings:
        return []
    lines = [f"slowest {min(count, len(run.timings))} tests and phases:"]
    lines += [f"  {row[0]:>7} s  {row[1]:<5}  {row[2]}" for row in
              slowest_rows(slowest(run, count))]
    lines.append("time per suite:")
    lines += [f"  {row[2]:>7} s  {row[0]} ({row[1]} tests)" for row in
              suite_rows(per_suite(run))]
    if (together := overlap(run)) is not None:
        lines.append(overlap_sentence(together))
    return lines
