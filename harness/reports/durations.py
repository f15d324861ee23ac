"""Where a run's time went, from its ``timings`` (:mod:`harness.results.timings`): the
slowest tests and phases, and the time of each suite (its tests' wall times added up)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.markup import Grid, Heading, Para, to_markdown
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


def markdown_lines(run: Run, count: int = SLOWEST) -> list[str]:
    """``## Where the time goes``: the slowest items and the time per suite."""
    if not run.timings:
        return []
    wall = (f"The run took {run.finished - run.started:.0f} s from its start to its record's "
            "last write. " if run.finished is not None else "")
    return to_markdown([
        Heading(2, "Where the time goes"),
        Para(wall + "A test's time is its setup, call and teardown (a session's lab start "
             "is in its first test); phases happen within tests or around them."),
        Heading(3, f"The {count} slowest tests and phases"),
        Grid(SLOWEST_HEADER, slowest_rows(slowest(run, count))),
        Heading(3, "Time per suite"), Grid(SUITE_HEADER, suite_rows(per_suite(run)))])


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
    return lines
