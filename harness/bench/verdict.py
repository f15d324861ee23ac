"""Verdicts on performance claims, from ratios and their intervals only.

No absolute rates are judged: every verdict compares a ratio's interval with a band
around 1 (native performance, improvement) or intervals with each other (ordering).
``None`` means inconclusive; the reason says why.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.bench.stats import RatioSummary, summarize

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


def _short(summary: RatioSummary) -> str:
    return f"{summary.median:.3f} [{summary.low:.3f}, {summary.high:.3f}]"


def _too_few(rounds: Mapping[str, int], min_rounds: int) -> str:
    """Why the counts of ``rounds`` give no decisive verdict ("" when they do)."""
    few = sorted(k for k, n in rounds.items() if n < min_rounds)
    return f"inconclusive: fewer than {min_rounds} rounds for {', '.join(few)}" if few else ""


def _opening(summaries: Mapping[str, RatioSummary], min_rounds: int
             ) -> tuple[dict[str, Any], str]:
    """A verdict's detail (each interval), and why it is inconclusive from the start ("")
    when it is not)."""
    if not summaries:
        return {}, "inconclusive: no measurements"
    return ({k: _short(s) for k, s in summaries.items()},
            _too_few({k: s.rounds for k, s in summaries.items()}, min_rounds))


def _slowdowns(summaries: Mapping[str, RatioSummary], margin: float,
               resolution: Resolution) -> str:
    """The combinations whose interval lies wholly below ``1 - max(margin,
    resolution)``, each with that bound ("" for none)."""
    bound = {k: 1.0 - max(margin, resolution_of(resolution, k)) for k in summaries}
    return ", ".join(f"{k} (below {bound[k]:.3g})" for k in sorted(summaries)
                     if summaries[k].high < bound[k])


def native(summaries: Mapping[str, RatioSummary], *, tolerance: float = NATIVE_TOLERANCE,
           min_rounds: int = MIN_ROUNDS, resolution: Resolution = 0.0) -> Verdict:
    """Native performance, judged over every (direction, protocol) measured.

    A measurement is native if its whole interval lies at or above ``1 - tolerance``
    and not native if its whole interval lies below ``1 - max(tolerance,
    resolution)``: a slowdown smaller than the run's resolution (its A/A control) is
    not told from noise. The method is native if all of its measurements are, not
    native if any is not, inconclusive otherwise.
    """
    detail, few = _opening(summaries, min_rounds)
    if few:
        return Verdict(None, few, detail)
    if below := _slowdowns(summaries, tolerance, resolution):
        return Verdict(False, f"interval wholly below 1 - max(tolerance, resolution) for "
                       f"{below}", detail)
    floor = 1.0 - tolerance
    if unclear := sorted(k for k, s in summaries.items() if s.low < floor):
        within = any(resolution_of(resolution, k) > tolerance for k in unclear)
        band = f"{floor:g}" + (" (and within the run's resolution of 1)" if within else "")
        return Verdict(None, f"inconclusive: interval not wholly above {band} for "
                       f"{', '.join(unclear)}", detail)
    return Verdict(True, f"every interval at or above {floor:g}", detail)


def improves(summaries: Mapping[str, RatioSummary], *, margin: float = IMPROVEMENT_MARGIN,
             min_rounds: int = MIN_ROUNDS, resolution: Resolution = 0.0) -> Verdict:
    """Whether a variant improves on a baseline (ratios variant / baseline per round).

    Holds if some measurement's whole interval is at or above ``1 + max(margin,
    resolution)``; contradicted if every interval lies wholly below ``1 + margin``.
    """
    detail, few = _opening(summaries, min_rounds)
    if few:
        return Verdict(None, few, detail)
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


# --- deciding on a busy machine -------------------------------------------------------

#: The guide's "native performance" (Inbound TCP/UDP connections > Performance): "where
#: there is no slowdown compared to running directly on the host". No measurement shows
#: a slowdown of zero: the margin below which a slowdown counts is stated here and
#: recorded with every run.
NATIVE_MARGIN = {"value": NATIVE_TOLERANCE,
                 "guide": "where there is no slowdown compared to running directly on the host",
                 "reading": "a ratio to native whose whole interval lies below 1 - margin "
                            "(and below 1 - the run's resolution) is a slowdown"}
#: A forwarder that passed at least this share of the bytes moved through its read and
#: write calls carried the transfer...
CARRIED = 0.5
#: ...as did one that spent at least this many CPU seconds per GB moved (and at least
#: CARRIED_CPU_SECONDS: three clock ticks), which shows a forwarder that moves the
#: bytes with splice(2), uncounted by read/write (rootlessport's TCP)...
CARRIED_CPU_PER_GB = 0.1
CARRIED_CPU_SECONDS = 0.03
#: ...and one that passed at most this share and spent at most UNTOUCHED_CPU_SECONDS
#: (two clock ticks, the idle forwarders of the other methods' containers included) in
#: every round touched none of it.
UNTOUCHED = 0.01
UNTOUCHED_CPU_SECONDS = 0.02


@dataclass(frozen=True)
class Carriage:
    """One measurement's forwarders: the largest one's share of the bytes moved (None
    where /proc/PID/io was not read), their CPU seconds, and CPU seconds per GB."""

    share: float | None
    cpu_seconds: float
    cpu_per_gb: float | None = None

    @property
    def carried(self) -> bool:
        return (self.share is not None and self.share >= CARRIED) or (
            self.cpu_seconds >= CARRIED_CPU_SECONDS
            and (self.cpu_per_gb or 0.0) >= CARRIED_CPU_PER_GB)

    @property
    def untouched(self) -> bool:
        return (self.share is None or self.share <= UNTOUCHED) and \
            self.cpu_seconds <= UNTOUCHED_CPU_SECONDS

    def text(self) -> str:
        share = "" if self.share is None else f"share {self.share:.3g}, "
        per_gb = "" if self.cpu_per_gb is None else f" ({self.cpu_per_gb:.3g} s/GB)"
        return f"{share}CPU {self.cpu_seconds:.2f} s{per_gb}"


def _rounds_text(rounds: Sequence[Carriage]) -> str:
    carried = sum(c.carried for c in rounds)
    untouched = sum(c.untouched for c in rounds)
    return (f"{len(rounds)} rounds: carried in {carried}, untouched in {untouched}; "
            + "; ".join(c.text() for c in rounds))


def native_path(rounds: Mapping[str, Sequence[Carriage]],
                throughput: Mapping[str, RatioSummary], *, margin: float = NATIVE_TOLERANCE,
                min_rounds: int = MIN_ROUNDS, resolution: Resolution = 0.0,
                control: bool = True) -> Verdict:
    """Native performance decided by what makes a path native: no user-space forwarder
    handles the bytes.

    ``rounds``: per ``direction/protocol``, each round's :class:`Carriage`. A forwarder
    carried the bytes (not native) where it did in most rounds; none touched them where
    none did in any round. Untouched paths are native unless their throughput ratio
    shows a slowdown: an interval wholly below ``1 - max(margin, resolution)``, and then
    not native either. Contention changes timings, not which process touches the bytes,
    so this verdict repeats on a busy machine; the throughput ratios stay the measured
    figures. Anything between (a forwarder in some rounds only) is inconclusive.

    ``control``: whether the same readings saw a forwarder carry the bytes of some
    measurement of the run (the positive control of "untouched"); without it an
    untouched path stays inconclusive.
    """
    detail: dict[str, Any] = {f"{k} forwarders": _rounds_text(v) for k, v in rounds.items()}
    detail.update({k: _short(s) for k, s in throughput.items()})
    if not rounds or any(not v for v in rounds.values()):
        return Verdict(None, "inconclusive: no forwarder figures", detail)
    if few := _too_few({k: len(v) for k, v in rounds.items()}, min_rounds):
        return Verdict(None, few, detail)
    carried = sorted(k for k, v in rounds.items() if sum(c.carried for c in v) * 2 > len(v))
    if carried:
        return Verdict(False, "a forwarder carried the bytes in most rounds of "
                       f"{', '.join(carried)} (share of the bytes moved at least "
                       f"{CARRIED:g}, or CPU at least {CARRIED_CPU_PER_GB:g} s/GB)", detail)
    partly = sorted(k for k, v in rounds.items() if not all(c.untouched for c in v))
    if partly:
        return Verdict(None, "inconclusive: a forwarder handled part of the bytes in some "
                       f"rounds of {', '.join(partly)}, not in most", detail)
    if below := _slowdowns(throughput, margin, resolution):
        return Verdict(False, "no forwarder carried the bytes, but slower than native: "
                       f"interval wholly below 1 - max(margin, resolution) for {below}", detail)
    if not control:
        return Verdict(None, "inconclusive: no forwarder touched the bytes, but no reading "
                       "of the run saw a forwarder carry any (no positive control)", detail)
    return Verdict(True, f"no forwarder passed more than {UNTOUCHED:g} of the bytes or "
                   f"spent more than {UNTOUCHED_CPU_SECONDS:g} CPU seconds in any round, "
                   "and no throughput interval wholly below 1 - max(margin, resolution)",
                   detail)


def native_rule() -> dict[str, Any]:
    """The rule and the thresholds of :func:`native_path`, recorded with every run."""
    return {"margin": NATIVE_MARGIN,
            "carried": {"share": CARRIED, "cpu_seconds_per_gb": CARRIED_CPU_PER_GB,
                        "cpu_seconds": CARRIED_CPU_SECONDS},
            "untouched": {"share": UNTOUCHED, "cpu_seconds": UNTOUCHED_CPU_SECONDS}}


def order_paired(expected: Sequence[str],
                 per_combo: Mapping[str, Mapping[str, Mapping[int, float]]], *,
                 level: float = 0.95, min_rounds: int = MIN_ROUNDS,
                 higher_is_better: bool = True) -> Verdict:
    """An ordering from best to worst, decided pair by adjacent pair on paired ratios:
    the better method's value over the worse one's in the same round (rates, or costs
    for ``higher_is_better`` False), median and bootstrap interval at ``level``.

    A pair is in order where the interval lies wholly beyond 1 (above for rates, below
    for costs), reversed where it lies wholly on the other side; the reference measured
    in the round cancels out of such a ratio. Any reversed pair contradicts the
    ordering; it holds when every pair is in order in every combination; otherwise
    inconclusive (the pairs still open are named).
    """
    detail: dict[str, Any] = {}
    reversed_at: list[str] = []
    observed: list[str] | None = None
    open_pairs: list[str] = []
    word = ">" if higher_is_better else "<"
    if not per_combo:
        return Verdict(None, "inconclusive: no measurements", detail)
    for combo, methods in sorted(per_combo.items()):
        missing = [m for m in expected if not methods.get(m)]
        if missing:
            return Verdict(None, f"inconclusive: {combo} lacks {', '.join(missing)}", detail)
        for better, worse in itertools.pairwise(expected):
            pair = f"{combo}: {better} {word} {worse}"
            s = summarize(methods[better], methods[worse], level=level)
            if s is None or s.rounds < min_rounds:
                open_pairs.append(f"{pair} (fewer than {min_rounds} paired rounds)")
                continue
            detail[f"{combo}: {better} / {worse}"] = _short(s)
            ahead, behind = (s.low > 1.0, s.high < 1.0) if higher_is_better else (
                s.high < 1.0, s.low > 1.0)
            if behind:
                reversed_at.append(f"{pair} ({better} / {worse} = {_short(s)})")
                observed = observed or _observed(methods, expected, higher_is_better)
                if observed == list(expected):  # medians apart from the paired ratios
                    i = observed.index(better)
                    observed[i], observed[i + 1] = worse, better
            elif not ahead:
                open_pairs.append(f"{pair} ({better} / {worse} = {_short(s)} contains 1)")
    if reversed_at:
        return Verdict(observed, "reversed (paired interval wholly on the other side of 1): "
                       + "; ".join(reversed_at), detail)
    if open_pairs:
        return Verdict(None, "inconclusive: " + "; ".join(open_pairs), detail)
    return Verdict(list(expected), "every adjacent pair in order: paired intervals "
                   f"wholly {'above' if higher_is_better else 'below'} 1", detail)


def _observed(methods: Mapping[str, Mapping[int, float]], expected: Sequence[str],
              higher_is_better: bool) -> list[str]:
    """The methods by their median over the rounds of one combination, best first."""
    sign = -1.0 if higher_is_better else 1.0
    return sorted(expected, key=lambda m: sign * statistics.median(methods[m].values()))
