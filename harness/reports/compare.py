"""``podnet compare BASE NEW``: claims that changed state, performance that moved, and
how the runs' environments differ.

Every change of a claim's outcome is reported. A regression: a claim that now fails or
ends in an error and did not before, or one that passed and now ends undecided (skipped,
not applicable, inconclusive, unsupported) unless both runs give the same reason.

A performance change counts when its relative change exceeds the tolerance *and* the
two intervals do not overlap. Ratios come from ``summaries["performance"]``; a run
without one is compared on its raw samples (median, interval = the samples' range).

``podnet agree A B``: do two runs of the benchmarks repeat each other? Each median ratio
present in both runs agrees when the two differ by at most ``within`` of their mean, or
by at most ``floor`` (in units of native: a ratio near zero cannot agree relatively,
since a stall of 0.004 against 0.006 is already 40%). The floor is 0 unless asked for,
so the default is the strict relative test.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from harness.bench.stats import number
from harness.bench.summary import PerformanceSummary
from harness.errors import UsageError
from harness.markup import Block, Code, Grid, Heading, Para, counted, to_markdown
from harness.reports.model import podnet_text
from harness.reports.perf import estimate
from harness.results.schema import DECIDED, Run

#: Outcomes that make a claim's result worse than any other.
_BAD = {"failed", "error"}
#: What the runs' environments are compared on: (label, path into ``environment``).
ENVIRONMENT_KEYS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("podman", ("versions", "podman")), ("passt", ("versions", "pasta")),
    ("kernel", ("kernel",)), ("machine", ("cpu",)), ("cpus", ("cpus",)),
    ("target", ("target",)), ("release", ("release",)),
)


#: Tolerance of ``podnet compare`` and ``podnet agree`` when neither run has an A/A
#: resolution (summaries.performance.resolution).
DEFAULT_TOLERANCE = 0.10


def run_tolerance(a: Run, b: Run, given: float | None = None) -> float:
    """The tolerance asked for (``given``), else the larger A/A resolution of the two
    runs (the smallest difference each can resolve), else :data:`DEFAULT_TOLERANCE`."""
    if given is not None:
        return given
    found = [r.value for run in (a, b)
             if (r := PerformanceSummary.of(run).resolution) is not None]
    return max(found) if found else DEFAULT_TOLERANCE


@dataclass(frozen=True)
class ClaimChange:
    claim_id: str
    protocol: str
    before: str
    after: str
    section: str
    reason: str = ""
    #: The base run's reason (the new run's is ``reason``).
    before_reason: str = ""

    @property
    def regression(self) -> bool:
        if self.after in _BAD:
            return self.before not in _BAD
        return (self.before == "passed" and self.after not in DECIDED
                and self.before_reason != self.reason)

    @property
    def label(self) -> str:
        return f"{self.claim_id}" + (f" [{self.protocol}]" if self.protocol else "")


@dataclass(frozen=True)
class PerfChange:
    kind: str
    method: str
    direction: str
    protocol: str
    base: float
    new: float
    base_interval: tuple[float, float]
    new_interval: tuple[float, float]
    unit: str
    higher_is_better: bool

    @property
    def relative(self) -> float:
        return (self.new - self.base) / abs(self.base) if self.base else float("inf")

    @property
    def regression(self) -> bool:
        return (self.new < self.base) if self.higher_is_better else (self.new > self.base)

    def significant(self, tolerance: float) -> bool:
        """The relative change exceeds ``tolerance`` and the two intervals are apart."""
        apart = (self.base_interval[1] < self.new_interval[0]
                 or self.new_interval[1] < self.base_interval[0])
        return self.base != self.new and abs(self.relative) > tolerance and apart

    @property
    def estimates(self) -> tuple[str, str]:
        """The base run's and the new run's median, each with its interval."""
        return estimate(self.base, *self.base_interval), estimate(self.new, *self.new_interval)

    @property
    def label(self) -> str:
        what = " ".join(p for p in (self.method, self.direction, self.protocol) if p)
        return f"{self.kind} {what}"


#: Said when no claim and no measure changed (a sentence of its own in Markdown).
UNCHANGED = "no claim changed state and no performance change beyond the tolerance"


def _pct(x: float) -> str:
    return f"{x * 100:.4g}%"


@dataclass(frozen=True)
class EnvironmentChange:
    """One part of the environment that differs between the runs."""

    name: str
    before: str
    after: str


def _environment_value(run: Run, path: tuple[str, ...]) -> str:
    value: object = run.environment
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    return "unknown" if value is None or value == "" else str(value)


def environment_changes(base: Run, new: Run) -> list[EnvironmentChange]:
    """What differs between the runs' environments (:data:`ENVIRONMENT_KEYS`) and the
    podnet that made them."""
    pairs = [(name, _environment_value(base, path), _environment_value(new, path))
             for name, path in ENVIRONMENT_KEYS]
    pairs.append(("podnet", podnet_text(base), podnet_text(new)))
    return [EnvironmentChange(name, a, b) for name, a, b in pairs if a != b]


@dataclass
class Comparison:
    base_id: str
    new_id: str
    tolerance: float
    claims: list[ClaimChange] = field(default_factory=list)
    performance: list[PerfChange] = field(default_factory=list)
    #: Claim results present in only one of the runs.
    only_base: list[str] = field(default_factory=list)
    only_new: list[str] = field(default_factory=list)
    environment: list[EnvironmentChange] = field(default_factory=list)

    @property
    def environment_warning(self) -> str:
        """One line naming what differs between the runs' environments; empty if nothing."""
        if not self.environment:
            return ""
        return ("warning: the runs' environments differ, so a change may come from them: "
                + "; ".join(f"{e.name} {e.before} -> {e.after}" for e in self.environment))

    @property
    def regressions(self) -> list[ClaimChange | PerfChange]:
        """Claims that stopped holding and performance that got significantly worse;
        empty (falsy) when there is none."""
        return [c for c in self.claims if c.regression] + [
            p for p in self.performance if p.regression]

    @property
    def only(self) -> list[tuple[str, list[str]]]:
        """The claim results present in one run only: ("only in the base run", labels)."""
        return [(f"only in the {run} run", ids)
                for run, ids in (("base", self.only_base), ("new", self.only_new)) if ids]

    def to_text(self) -> str:
        lines = [f"compare {self.base_id} -> {self.new_id} "
                 f"(tolerance {_pct(self.tolerance)})"]
        if warning := self.environment_warning:
            lines.append(warning)
        if self.claims:
            lines.append("claims that changed state:")
            lines += [f"  {'REGRESSION ' if c.regression else ''}{c.label}: "
                      f"{c.before} -> {c.after}" + (f" ({c.reason})" if c.reason else "")
                      for c in self.claims]
        if self.performance:
            lines.append("performance beyond the tolerance, intervals apart:")
            lines += [f"  {'REGRESSION' if p.regression else 'improvement'} {p.label}: "
                      f"{' -> '.join(p.estimates)}{f' {p.unit}' if p.unit else ''} "
                      f"({p.relative:+.1%})" for p in self.performance]
        lines += [f"{name}: {', '.join(ids)}" for name, ids in self.only]
        if not (self.claims or self.performance):
            lines.append(UNCHANGED)
        lines.append(counted(len(self.regressions), "regression"))
        return "\n".join(lines)

    def to_markdown(self) -> str:
        count = len(self.regressions)
        verdict = f"❌ {counted(count, 'regression')}" if count else (
            "✅ no regressions")
        blocks: list[Block] = [
            Heading(3, f"podnet compare: {verdict}"),
            Para((Code(self.base_id), " → ", Code(self.new_id),
                  f", tolerance {_pct(self.tolerance)}"))]
        if self.environment:
            blocks += [Para("⚠ The runs' environments differ, so a change may come from them:"),
                       Grid(["", "base", "new"],
                            [[e.name, e.before, e.after] for e in self.environment])]
        if self.claims:
            blocks.append(Grid(["claim", "protocol", "base", "new", "reason", ""], [
                [Code(c.claim_id), c.protocol, c.before, c.after, c.reason,
                 "⚠ regression" if c.regression else ""] for c in self.claims]))
        if self.performance:
            blocks.append(Grid(["measure", "base", "new", "change", ""], [
                [p.label, *p.estimates, f"{p.relative:+.1%}",
                 "⚠ regression" if p.regression else "improvement"]
                for p in self.performance]))
        if not (self.claims or self.performance):
            blocks.append(Para(f"{UNCHANGED.capitalize()}."))
        blocks += [Para((f"{name.capitalize()}: ",
                         *((", " if n else "", Code(i)) for n, i in enumerate(ids))))
                   for name, ids in self.only]
        return "\n".join(to_markdown(blocks))


def _claim_changes(base: Run, new: Run) -> tuple[list[ClaimChange], list[str], list[str]]:
    # The last result for each (claim, protocol) wins, as a rerun would overwrite it.
    before = {r.key: r for r in base.results}
    after = {r.key: r for r in new.results}
    changes = [
        ClaimChange(key[0], key[1], before[key].outcome, after[key].outcome,
                    after[key].section, after[key].reason, before[key].reason)
        for key in before.keys() & after.keys()
        if before[key].outcome != after[key].outcome
    ]

    def labels(keys: set[tuple[str, str]]) -> list[str]:
        return sorted(f"{c} [{p}]" if p else c for c, p in keys)

    return (sorted(changes, key=lambda c: (c.claim_id, c.protocol)),
            labels(before.keys() - after.keys()), labels(after.keys() - before.keys()))


#: What a run measured, to compare: (kind, method, direction, protocol), the median and its
#: interval, the unit, and whether higher is better.
Estimate = tuple[tuple[str, str, str, str], float, tuple[float, float], str, bool]


def _ratios(run: Run) -> dict[tuple[str, ...], Estimate]:
    return {e.key: ((e.kind, e.method, e.direction, e.protocol), e.median, (e.low, e.high),
                    f"x {e.reference or 'native'}", e.better_higher)
            for e in PerformanceSummary.of(run).ratios}


def _samples(run: Run) -> dict[tuple[str, ...], Estimate]:
    """Median and range of the samples of each (kind, method, direction, protocol, unit)."""
    groups: dict[tuple[str, str, str, str, str], list[float]] = {}
    for m in run.measurements:
        if (value := number(m.value)) is not None:
            groups.setdefault((m.kind, m.method, m.direction, m.protocol, m.unit), []).append(value)
    return {key: (key[:4], statistics.median(values), (min(values), max(values)), key[4],
                  key[0] != "latency") for key, values in groups.items()}


def _perf_changes(base: Run, new: Run, tolerance: float) -> list[PerfChange]:
    before, after = _ratios(base), _ratios(new)
    if not (before and after):  # no ratios in one of the runs: compare raw samples
        before, after = _samples(base), _samples(new)
    changes = []
    for key in sorted(before.keys() & after.keys()):
        (what, old, old_iv, unit, _), (_, now, now_iv, _, higher) = before[key], after[key]
        changes.append(PerfChange(*what, old, now, old_iv, now_iv, unit, higher))
    return [change for change in changes if change.significant(tolerance)]


def compare_runs(base: Run, new: Run, tolerance: float) -> Comparison:
    if tolerance < 0:
        raise UsageError(f"tolerance must not be negative, got {tolerance}")
    claims, only_base, only_new = _claim_changes(base, new)
    return Comparison(base.run_id, new.run_id, tolerance, claims,
                      _perf_changes(base, new, tolerance), only_base, only_new,
                      environment_changes(base, new))


# --- podnet agree ---------------------------------------------------------------------

@dataclass(frozen=True)
class Pair:
    label: str
    a: float
    b: float
    agrees: bool

    @property
    def relative(self) -> float:
        return relative_difference(self.a, self.b)


def relative_difference(a: float, b: float) -> float:
    """|a - b| over the mean of |a| and |b| (0 when both are 0)."""
    mean = (abs(a) + abs(b)) / 2
    return abs(a - b) / mean if mean else 0.0


@dataclass(frozen=True)
class Agreement:
    a_id: str
    b_id: str
    within: float
    floor: float
    pairs: list[Pair]

    @property
    def disagreements(self) -> list[Pair]:
        return [p for p in self.pairs if not p.agrees]

    def to_text(self) -> str:
        floor = f", or within {self.floor:g} of native" if self.floor else ""
        lines = [f"agreement of median ratios {self.a_id} vs {self.b_id} "
                 f"(within {self.within:.0%} of their mean{floor})"]
        width = max((len(p.label) for p in self.pairs), default=10)
        lines += [f"  {'ok  ' if p.agrees else 'MISS'} {p.label:{width}}  {p.a:7.3f} "
                  f"{p.b:7.3f}  {p.relative:6.1%}" for p in self.pairs]
        lines.append(f"{len(self.pairs) - len(self.disagreements)} of {len(self.pairs)} "
                     "agree")
        return "\n".join(lines)


def agreement(a: Run, b: Run, within: float, floor: float = 0.0) -> Agreement:
    before, after = _ratios(a), _ratios(b)
    pairs = []
    for key in sorted(before.keys() & after.keys()):
        x, y = before[key][1], after[key][1]
        ok = relative_difference(x, y) <= within or abs(x - y) <= floor
        pairs.append(Pair(" ".join(part for part in key[1:4] if part), x, y, ok))
    return Agreement(a.run_id, b.run_id, within, floor, pairs)
