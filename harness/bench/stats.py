"""Ratios to a reference measured in the same round, with bootstrap intervals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

#: Default resamples and confidence level of :func:`bootstrap_interval`.
RESAMPLES = 4000
LEVEL = 0.95


@dataclass(frozen=True)
class RatioSummary:
    """The median over rounds of a per-round ratio, and its bootstrap interval."""

    median: float
    low: float
    high: float
    rounds: int
    ratios: tuple[float, ...]

    def as_dict(self) -> dict[str, object]:
        return {"median": self.median, "low": self.low, "high": self.high,
                "rounds": self.rounds, "ratios": list(self.ratios)}


def bootstrap_interval(values: Sequence[float], *, level: float = LEVEL,
                       resamples: int = RESAMPLES, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the median of ``values``.

    One value gives a zero-width interval: callers decide whether that is enough.
    """
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        raise ValueError("no values to bootstrap")
    if data.size == 1:
        return float(data[0]), float(data[0])
    rng = np.random.default_rng(seed)
    samples = rng.choice(data, size=(resamples, data.size), replace=True)
    medians = np.median(samples, axis=1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(medians, [tail, 1.0 - tail])
    return float(low), float(high)


def paired_ratios(values: Mapping[int, float], reference: Mapping[int, float]) -> list[float]:
    """value / reference for every round both have (and the reference is positive)."""
    return [values[r] / reference[r] for r in sorted(values)
            if r in reference and reference[r] > 0]


def summarize(values: Mapping[int, float], reference: Mapping[int, float], *,
              level: float = LEVEL, seed: int = 0) -> RatioSummary | None:
    """Median ratio to the reference of the same round, with its interval."""
    ratios = paired_ratios(values, reference)
    if not ratios:
        return None
    low, high = bootstrap_interval(ratios, level=level, seed=seed)
    return RatioSummary(float(np.median(ratios)), low, high, len(ratios), tuple(ratios))
