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

from harness.bench.resolution import distinguishable
from harness.bench.stats import RatioSummary

#: A ratio to native within this fraction below 1 counts as "no slowdown".
NATIVE_TOLERANCE = 0.10
#: An improvement must be at least this fraction to count.
IMPROVEMENT_MARGIN = 0.05
#: Fewer rounds than this give no decisive verdict (an interval needs spread).
MIN_ROUNDS = 3


#: The run's resolution: one value, or one per ``direction/protocol`` (a combination
#: missing from the mapping takes the largest).
Resolution = float | Mapping[str, float]


def resolution_of(resolution: Resolution, combo: str) -> float:
    if isinstance(resolution, int | float):
        return float(resolution)
    return resolution.get(combo, max(resolution.values(), default=0.0))


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
           min_rounds: int = MIN_ROUNDS, resolution: Resolution = 0.0) -> Verdict:
    """Native performance, judged over every (direction, protocol) measured.

    A measurement is native if its whole interval lies at or above ``1 - tolerance``
    and not native if its whole interval lies below ``1 - max(tolerance,
    resolution)``: a slowdown smaller than the run's resolution (its A/A control) is
    not told from noise. The method is native if all of its measurements are, not
    native if any is not, inconclusive otherwise.
    """
    detail = {k: _short(s) for k, s in summaries.items()}
    few = _too_few(summaries, min_rounds)
    if few:
        return Verdict(None, f"inconclusive: {few}", detail)
    floor = 1.0 - tolerance

    def slower(combo: str) -> float:
        return 1.0 - max(tolerance, resolution_of(resolution, combo))
    below = sorted(k for k, s in summaries.items() if s.high < slower(k))
    unclear = sorted(k for k, s in summaries.items() if s.low < floor and s.high >= slower(k))
    if below:
        bounds = ", ".join(f"{k} (below {slower(k):.3g})" for k in below)
        return Verdict(False, f"interval wholly below 1 - max(tolerance, resolution) for "
                       f"{bounds}", detail)
    if unclear:
        within = [k for k in unclear if slower(k) < floor]
        band = f"{floor:g}" + (" (and within the run's resolution of 1)" if within else "")
        return Verdict(None, f"inconclusive: interval not wholly above {band} for "
                       f"{', '.join(unclear)}", detail)
    return Verdict(True, f"every interval at or above {floor:g}", detail)


def order(expected: Sequence[str], per_combo: Mapping[str, Mapping[str, RatioSummary]], *,
          min_rounds: int = MIN_ROUNDS, resolution: Resolution = 0.0,
          higher_is_better: bool = True) -> Verdict:
    """An ordering from best to worst, pair by adjacent pair, in every combination.

    A pair is in order where the better method's interval lies wholly beyond the
    worse one's and their medians differ by more than the run's ``resolution``
    (relative), reversed where the same holds the other way; closer pairs are
    indistinguishable. Any reversed pair contradicts the ordering; it holds when every
    pair is in order in every combination. ``higher_is_better`` False orders costs
    (lowest first).
    """
    detail: dict[str, Any] = {}
    reversed_at: list[str] = []
    overlapping: list[str] = []
    observed_reversed: list[str] | None = None
    sign = 1.0 if higher_is_better else -1.0
    better_word = ">" if higher_is_better else "<"
    for combo, methods in per_combo.items():
        missing = [m for m in expected if m not in methods]
        if missing:
            return Verdict(None, f"inconclusive: {combo} lacks {', '.join(missing)}", detail)
        few = _too_few({m: methods[m] for m in expected}, min_rounds)
        if few:
            return Verdict(None, f"inconclusive: {combo}: {few}", detail)
        by_rank = sorted(expected, key=lambda m: -sign * methods[m].median)
        detail[combo] = {m: _short(methods[m]) for m in by_rank}
        noise = resolution_of(resolution, combo)
        for better, worse in itertools.pairwise(expected):
            a, b = methods[better], methods[worse]
            pair = f"{combo}: {better} {better_word} {worse}"
            apart = distinguishable(a.median, b.median, noise)
            lo_a, hi_a, lo_b, hi_b = ((a.low, a.high, b.low, b.high) if higher_is_better
                                      else (-a.high, -a.low, -b.high, -b.low))
            if hi_a < lo_b and apart:
                reversed_at.append(pair)
                observed_reversed = observed_reversed or by_rank
            elif not (lo_a > hi_b and apart):
                overlapping.append(pair + ("" if apart or not noise else
                                           f" (closer than the resolution {noise:.1%})"))
    if not per_combo:
        return Verdict(None, "inconclusive: no measurements", detail)
    if reversed_at:
        return Verdict(observed_reversed, "reversed (non-overlapping intervals): "
                       + "; ".join(reversed_at), detail)
    if overlapping:
        return Verdict(None, "inconclusive: indistinguishable (overlapping intervals or "
                       "closer than the run's resolution): " + "; ".join(overlapping), detail)
    return Verdict(list(expected), "every adjacent pair in order with non-overlapping "
                   "intervals" + (", apart by more than the run's resolution"
                                  if resolution else ""), detail)


def improves(summaries: Mapping[str, RatioSummary], *, margin: float = IMPROVEMENT_MARGIN,
             min_rounds: int = MIN_ROUNDS, resolution: Resolution = 0.0) -> Verdict:
    """Whether a variant improves on a baseline (ratios variant / baseline per round).

    Holds if some measurement's whole interval is at or above ``1 + max(margin,
    resolution)``; contradicted if every interval lies wholly below ``1 + margin``.
    """
    detail = {k: _short(s) for k, s in summaries.items()}
    few = _too_few(summaries, min_rounds)
    if few:
        return Verdict(None, f"inconclusive: {few}", detail)
    target = 1.0 + margin

    def resolved(combo: str) -> float:
        return 1.0 + max(margin, resolution_of(resolution, combo))
    better = sorted(k for k, s in summaries.items() if s.low >= resolved(k))
    if better:
        bounds = ", ".join(f"{k} (at or above {resolved(k):.3g})" for k in better)
        return Verdict(True, f"interval above 1 + max(margin, resolution) for {bounds}",
                       detail)
    if all(s.high < target for s in summaries.values()):
        return Verdict(False, f"every interval below {target:g}", detail)
    return Verdict(None, f"inconclusive: an interval reaches {target:g} but not wholly "
                   "1 + max(margin, the run's resolution)", detail)
