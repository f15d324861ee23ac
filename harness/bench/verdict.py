"""Verdicts on performance claims, from ratios and their intervals only.

No absolute rates are judged: every verdict compares a ratio's interval with a band
around 1 (native performance, improvement) or intervals with each other (ordering).
``None`` means inconclusive; the reason says why.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.bench.stats import RatioSummary

#: A ratio to native within this fraction below 1 counts as "no slowdown".
NATIVE_TOLERANCE = 0.10
#: An improvement must be at least this fraction to count.
IMPROVEMENT_MARGIN = 0.05
#: Fewer rounds than this give no decisive verdict (an interval needs spread).
MIN_ROUNDS = 3


@dataclass(frozen=True)
class Verdict:
    observed: Any
    reason: str
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def decisive(self) -> bool:
        return self.observed is not None

    @property
    def label(self) -> str:
        return "decided" if self.decisive else "inconclusive"


def _short(summary: RatioSummary) -> str:
    return f"{summary.median:.3f} [{summary.low:.3f}, {summary.high:.3f}]"


def _too_few(summaries: Mapping[str, RatioSummary], min_rounds: int) -> str | None:
    if not summaries:
        return "no measurements"
    few = [k for k, s in summaries.items() if s.rounds < min_rounds]
    if few:
        return f"fewer than {min_rounds} rounds for {', '.join(sorted(few))}"
    return None


def native(summaries: Mapping[str, RatioSummary], *, tolerance: float = NATIVE_TOLERANCE,
           min_rounds: int = MIN_ROUNDS) -> Verdict:
    """Native performance, judged over every (direction, protocol) measured.

    A measurement is native if its whole interval lies at or above ``1 - tolerance``
    and not native if its whole interval lies below; the method is native if all of
    its measurements are, not native if any is not, inconclusive otherwise.
    """
    detail = {k: _short(s) for k, s in summaries.items()}
    few = _too_few(summaries, min_rounds)
    if few:
        return Verdict(None, f"inconclusive: {few}", detail)
    floor = 1.0 - tolerance
    below = sorted(k for k, s in summaries.items() if s.high < floor)
    unclear = sorted(k for k, s in summaries.items() if s.low < floor <= s.high)
    if below:
        return Verdict(False, f"interval wholly below {floor:g} for {', '.join(below)}", detail)
    if unclear:
        return Verdict(None, f"inconclusive: interval straddles {floor:g} for "
                       f"{', '.join(unclear)}", detail)
    return Verdict(True, f"every interval at or above {floor:g}", detail)


def order(expected: Sequence[str], per_combo: Mapping[str, Mapping[str, RatioSummary]], *,
          min_rounds: int = MIN_ROUNDS) -> Verdict:
    """An ordering from fastest to slowest, pair by adjacent pair, in every combination.

    A pair is in order where the faster method's interval lies wholly above the
    slower one's, reversed where wholly below. Any reversed pair contradicts the
    ordering; it holds when every pair is in order in every combination.
    """
    detail: dict[str, Any] = {}
    reversed_at: list[str] = []
    overlapping: list[str] = []
    observed_reversed: list[str] | None = None
    for combo, methods in per_combo.items():
        missing = [m for m in expected if m not in methods]
        if missing:
            return Verdict(None, f"inconclusive: {combo} lacks {', '.join(missing)}", detail)
        few = _too_few({m: methods[m] for m in expected}, min_rounds)
        if few:
            return Verdict(None, f"inconclusive: {combo}: {few}", detail)
        by_median = sorted(expected, key=lambda m: -methods[m].median)
        detail[combo] = {m: _short(methods[m]) for m in by_median}
        for faster, slower in itertools.pairwise(expected):
            a, b = methods[faster], methods[slower]
            pair = f"{combo}: {faster} > {slower}"
            if a.high < b.low:
                reversed_at.append(pair)
                observed_reversed = observed_reversed or by_median
            elif not a.low > b.high:
                overlapping.append(pair)
    if not per_combo:
        return Verdict(None, "inconclusive: no measurements", detail)
    if reversed_at:
        return Verdict(observed_reversed, "reversed (non-overlapping intervals): "
                       + "; ".join(reversed_at), detail)
    if overlapping:
        return Verdict(None, "inconclusive: overlapping intervals for "
                       + "; ".join(overlapping), detail)
    return Verdict(list(expected), "every adjacent pair in order with non-overlapping "
                   "intervals", detail)


def improves(summaries: Mapping[str, RatioSummary], *, margin: float = IMPROVEMENT_MARGIN,
             min_rounds: int = MIN_ROUNDS) -> Verdict:
    """Whether a variant improves on a baseline (ratios variant / baseline per round).

    Holds if some measurement's whole interval is at or above ``1 + margin``;
    contradicted if every interval lies wholly below it.
    """
    detail = {k: _short(s) for k, s in summaries.items()}
    few = _too_few(summaries, min_rounds)
    if few:
        return Verdict(None, f"inconclusive: {few}", detail)
    target = 1.0 + margin
    better = sorted(k for k, s in summaries.items() if s.low >= target)
    if better:
        return Verdict(True, f"interval at or above {target:g} for {', '.join(better)}", detail)
    if all(s.high < target for s in summaries.values()):
        return Verdict(False, f"every interval below {target:g}", detail)
    return Verdict(None, f"inconclusive: an interval straddles {target:g}", detail)
