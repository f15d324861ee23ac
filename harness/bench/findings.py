"""Findings beyond the guide: throughput ratios a reader must not miss.

A ratio is a finding (:func:`harness.bench.throughput.detect`) when its median is below
:data:`SLOW` of native, or when its rounds split into two states
(:func:`harness.bench.stats.split_rounds`). Each finding
carries the evidence gathered while the lab still runs (:mod:`harness.bench.evidence`).
The run record keeps them as ``summaries["performance"]["findings"]``, a list of
:meth:`Finding.to_dict`; reports read them back with :meth:`Finding.from_dict`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from harness.bench.stats import Measured

#: A ratio to native below this is a finding.
SLOW = 0.1

#: What each direction moves, in words a reader of a bug report needs.
DIRECTION_WORDS = {
    "inbound": "a remote host sends to a port the container publishes",
    "inbound-reverse": "the container sends to a remote host through a published port",
    "outbound": "the container sends to a remote host (it connects out)",
    "outbound-reverse": "the container receives from a remote host (it connects out)",
}

Split = tuple[tuple[float, float], tuple[float, float]]


def split_of(raw: Any) -> Split | None:
    """A recorded ``split`` (two ``[low, high]`` pairs); None for anything else."""
    try:
        (a, b), (c, d) = raw
        return (float(a), float(b)), (float(c), float(d))
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Finding(Measured):
    median: float
    low: float
    high: float
    rounds: int
    #: ``slow`` and/or ``split``.
    kinds: tuple[str, ...]
    split: Split | None = None
    reference: str = "native"
    #: What :mod:`harness.bench.evidence` gathered (plain JSON data).
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str]:
        return self.key_for(self.method)

    def headline(self) -> str:
        what = DIRECTION_WORDS.get(self.direction, self.direction)
        parts = []
        if "slow" in self.kinds:
            slower = f", {1 / self.median:,.0f} times slower" if self.median > 0 else ""
            parts.append(f"{_ratio(self.median)} of {self.reference}{slower} "
                         f"(interval {_ratio(self.low)} to {_ratio(self.high)}, "
                         f"{self.rounds} round{'s' if self.rounds != 1 else ''})")
        if self.split is not None:
            (a, b), (c, d) = self.split
            parts.append(f"rounds split into two states: {_range(a, b)} and {_range(c, d)} "
                         f"of {self.reference}")
        return (f"{self.method}, {self.combo} ({what}): " + "; ".join(parts))

    def with_evidence(self, evidence: dict[str, Any]) -> Finding:
        return replace(self, evidence=evidence)

    def to_dict(self) -> dict[str, Any]:
        names = ("method", "direction", "protocol", "reference", "median", "low", "high", "rounds")
        return {**{name: getattr(self, name) for name in names}, "kinds": list(self.kinds),
                "split": [list(g) for g in self.split] if self.split else None,
                "evidence": self.evidence}

    @classmethod
    def from_dict(cls, raw: Any) -> Finding | None:
        """A finding from the run record; None for an entry that cannot be read."""
        try:
            return cls(str(raw["method"]), str(raw["direction"]), str(raw["protocol"]),
                       float(raw["median"]), float(raw["low"]), float(raw["high"]),
                       int(raw["rounds"]), tuple(str(k) for k in raw["kinds"]),
                       split_of(raw.get("split")), str(raw.get("reference", "native")),
                       raw["evidence"] if isinstance(raw.get("evidence"), dict) else {})
        except (AttributeError, KeyError, TypeError, ValueError):
            return None


def _ratio(value: float) -> str:
    return f"{value:.3f}" if value >= 0.01 else f"{value:.4f}"


def _range(a: float, b: float) -> str:
    return _ratio(a) if a == b else f"{_ratio(a)} to {_ratio(b)}"

