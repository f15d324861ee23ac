"""Ratios to a reference measured in the same round, with bootstrap intervals."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

#: Rounds whose ratios jump by this factor between neighbours (sorted) are "split".
SPLIT_FACTOR = 1.5
#: Resamples (drawn with a fixed seed: the same values give the same interval) and the
#: default confidence level of :func:`bootstrap_interval`.
RESAMPLES = 4000
LEVEL = 0.95


def split_rounds(values: Sequence[float], factor: float = SPLIT_FACTOR
                 ) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Where sorted per-round values jump by ``factor`` or more, the (min, max) of the
    groups below and above the largest such jump; None when the rounds are of a piece.

    A split says the method ran in two states during the run (a stall against normal
    flow, or a forwarder that was fast for some minutes and slow for others): its
    median then depends on how many rounds fell in each state, which the interval
    shows but a reader of one number would not guess.
    """
    ordered = sorted(v for v in values if v > 0)
    if len(ordered) < 2:
        return None
    jumps = [(ordered[i + 1] / ordered[i], i) for i in range(len(ordered) - 1)]
    jump, at = max(jumps)
    if jump < factor:
        return None
    return (ordered[0], ordered[at]), (ordered[at + 1], ordered[-1])


def bootstrap_interval(values: Sequence[float], *, level: float = LEVEL
                       ) -> tuple[float, float]:
    """Percentile bootstrap interval of the median of ``values``.

    One value gives a zero-width interval: callers decide whether that is enough.
    """
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        raise ValueError("no values to bootstrap")
    if data.size == 1:
        return float(data[0]), float(data[0])
    rng = np.random.default_rng(0)
    samples = rng.choice(data, size=(RESAMPLES, data.size), replace=True)
    medians = np.median(samples, axis=1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(medians, [tail, 1.0 - tail])
    return float(low), float(high)


def paired_ratios(values: Mapping[int, float], reference: Mapping[int, float]) -> list[float]:
    """value / reference for every round both have (and the reference is positive)."""
    return [values[r] / reference[r] for r in sorted(values)
            if r in reference and reference[r] > 0]


def summarize(values: Mapping[int, float], reference: Mapping[int, float], *,
              level: float = LEVEL) -> RatioSummary | None:
    """Median ratio to the reference of the same round, with its interval."""
    ratios = paired_ratios(values, reference)
    if (spread := interval(ratios, level=level)) is None:
        return None
    return RatioSummary(spread.median, spread.low, spread.high, spread.rounds, tuple(ratios))


def number(value: Any) -> float | None:
    """``value`` as a float; None for anything that is not a number, or NaN."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return None
    return float(value)


def distance(summary: Interval) -> float:
    """How far an A/A ratio's interval reaches from 1."""
    return max(summary.high - 1.0, 1.0 - summary.low, abs(summary.median - 1.0))


def median_of(values: Iterable[Any]) -> float | None:
    """The median of the numbers among ``values`` (see :func:`number`); None without any."""
    found = [v for x in values if (v := number(x)) is not None]
    return statistics.median(found) if found else None


@dataclass(frozen=True)
class Interval:
    """A median over rounds (of values, or of ratios) and its 95% bootstrap interval."""

    median: float
    low: float
    high: float
    rounds: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Any) -> Interval | None:
        """None when ``raw`` is not an interval."""
        if not isinstance(raw, dict) or (median := number(raw.get("median"))) is None:
            return None
        low, high, rounds = number(raw.get("low")), number(raw.get("high")), number(
            raw.get("rounds"))
        return cls(median, median if low is None else low, median if high is None else high,
                   0 if rounds is None else int(rounds))


@dataclass(frozen=True)
class RatioSummary(Interval):
    """The median over rounds of a per-round ratio, its bootstrap interval, and the
    ratios."""

    ratios: tuple[float, ...] = ()

    @property
    def split(self) -> tuple[tuple[float, float], tuple[float, float]] | None:
        """The ranges of the two groups the rounds fall into, when they do."""
        return split_rounds(self.ratios)

    def as_dict(self) -> dict[str, object]:
        found: dict[str, object] = {**asdict(self), "ratios": list(self.ratios)}
        if (groups := self.split) is not None:
            found["split"] = [list(groups[0]), list(groups[1])]
        return found


@dataclass(frozen=True)
class Measured:
    """What a figure is of: a method, in a direction, over a protocol."""

    method: str
    direction: str
    protocol: str

    @property
    def combo(self) -> str:
        return f"{self.direction}/{self.protocol}"

    def key_for(self, method: str) -> tuple[str, str, str]:
        """(``method``, direction, protocol): the key of this figure's measurements, or
        of its reference's."""
        return method, self.direction, self.protocol


def interval(values: Iterable[float], *, level: float = LEVEL) -> Interval | None:
    """Median and bootstrap interval of ``values`` (at ``level``); None when there are
    none."""
    data = list(values)
    if not data:
        return None
    low, high = bootstrap_interval(data, level=level)
    return Interval(float(np.median(data)), low, high, len(data))
