"""``podnet agree A B``: do two runs of the benchmarks repeat each other?

Each median ratio present in both runs agrees when the two differ by at most
``within`` of their mean, or by at most ``floor`` (in units of native: a ratio near
zero cannot agree relatively, since a stall of 0.004 against 0.006 is already 40%).
The floor is 0 unless asked for, so the default is the strict relative test.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.bench.summary import PerformanceSummary
from harness.results.schema import Run


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
    a_entries = {e.key: e for e in PerformanceSummary.of(a).ratios}
    b_entries = {e.key: e for e in PerformanceSummary.of(b).ratios}
    pairs = []
    for key in sorted(a_entries.keys() & b_entries.keys()):
        x, y = a_entries[key].median, b_entries[key].median
        label = " ".join(part for part in key[1:4] if part)
        ok = relative_difference(x, y) <= within or abs(x - y) <= floor
        pairs.append(Pair(label, x, y, ok))
    return Agreement(a.run_id, b.run_id, within, floor, pairs)
