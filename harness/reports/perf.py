"""Reading ``run.summaries["performance"]`` defensively, and raw measurement medians.

The expected shape (docs/results-schema.md)::

    {"ratios": [{"method": "pasta", "direction": "inbound", "protocol": "tcp",
                 "reference": "native", "kind": "throughput",
                 "median": 0.62, "low": 0.58, "high": 0.66, "higher_is_better": true}, ...],
     "verdicts": {"<claim id>": {"verdict": ..., "reason": ...}}, ...}

as harness/bench writes it. A bare list of entries is accepted too, as are the names
``median_ratio``/``ratio`` for ``median``, ``ci_low``/``ci_high`` or ``ci: [low, high]``
for the interval, and a dict keyed by method id. Entries that cannot be read are
ignored, never fatal: a report must render whatever a newer or older benchmark wrote.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.methods import all_methods
from harness.results.schema import (
    Measurement,
    PerfInterval,
    PerfResolution,
    performance_costs,
)
from harness.words import BEYOND_GUIDE

_LIST_KEYS = ("ratios", "entries", "results", "rows", "methods")


@dataclass(frozen=True)
class PerfEntry:
    method: str
    direction: str
    protocol: str
    median_ratio: float
    ci_low: float
    ci_high: float
    kind: str = "throughput"
    higher_is_better: bool = True
    reference: str = ""
    rounds: int | None = None
    #: The ranges of the two groups of rounds, when the rounds split (bench/stats.py).
    split: tuple[tuple[float, float], tuple[float, float]] | None = None

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.kind, self.method, self.direction, self.protocol, self.reference)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return None  # not a number, or NaN
    return float(value)


def _entry(raw: Any, method: str | None = None) -> PerfEntry | None:
    if not isinstance(raw, dict):
        return None
    method = raw.get("method", method)
    median = next((n for k in ("median", "median_ratio", "ratio")
                   if (n := _number(raw.get(k))) is not None), None)
    if not isinstance(method, str) or median is None:
        return None
    low, high = _number(raw.get("ci_low", raw.get("low"))), _number(
        raw.get("ci_high", raw.get("high")))
    ci = raw.get("ci")
    if (low is None or high is None) and isinstance(ci, list | tuple) and len(ci) == 2:
        low, high = _number(ci[0]), _number(ci[1])
    kind = str(raw.get("kind", "throughput"))
    better = raw.get("higher_is_better")
    return PerfEntry(
        method=method, direction=str(raw.get("direction", "")),
        protocol=str(raw.get("protocol", "")), median_ratio=median,
        ci_low=median if low is None else min(low, median),
        ci_high=median if high is None else max(high, median),
        kind=kind,
        higher_is_better=better if isinstance(better, bool) else kind != "latency",
        reference=str(raw.get("reference", "")),
        rounds=int(n) if (n := _number(raw.get("rounds"))) is not None else None,
        split=_split(raw.get("split")) or _split_of(raw.get("ratios")),
    )


def _split_of(ratios: Any) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """For records written before ``split`` was: from the per-round ratios."""
    from harness.bench.stats import split_rounds

    if not isinstance(ratios, list):
        return None
    return split_rounds([v for r in ratios if (v := _number(r)) is not None])


def _split(raw: Any) -> tuple[tuple[float, float], tuple[float, float]] | None:
    try:
        (a, b), (c, d) = raw
        return (float(a), float(b)), (float(c), float(d))
    except (TypeError, ValueError):
        return None


def performance_entries(summary: Any) -> list[PerfEntry]:
    """The ratio entries of a performance summary, whatever its exact shape."""
    raws: list[tuple[Any, str | None]] = []
    if isinstance(summary, list):
        raws = [(r, None) for r in summary]
    elif isinstance(summary, dict):
        listed = next((summary[k] for k in _LIST_KEYS if isinstance(summary.get(k), list)), None)
        if listed is not None:
            raws = [(r, None) for r in listed]
        else:
            for method, value in summary.items():
                items = value if isinstance(value, list) else [value]
                raws += [(r, str(method)) for r in items]
    entries = [e for raw, method in raws if (e := _entry(raw, method)) is not None]
    return entries


@dataclass(frozen=True)
class SampleStats:
    kind: str
    method: str
    direction: str
    protocol: str
    unit: str
    count: int
    median: float
    low: float
    high: float


def measurement_stats(measurements: list[Measurement]) -> list[SampleStats]:
    """Median and range of the samples of each (kind, method, direction, protocol, unit)."""
    groups: dict[tuple[str, str, str, str, str], list[float]] = {}
    for m in measurements:
        value = _number(m.value)
        if value is None:
            continue
        groups.setdefault((m.kind, m.method, m.direction, m.protocol, m.unit), []).append(value)
    return [
        SampleStats(kind, method, direction, protocol, unit, len(values),
                    statistics.median(values), min(values), max(values))
        for (kind, method, direction, protocol, unit), values in groups.items()
    ]


RATIO_HEADER = ["kind", "method", "direction", "protocol", "relative to", "median ratio",
                "interval", "rounds"]
VERDICT_HEADER = ["claim", "verdict", "reason"]
#: Shown under the ratios when one of them is split.
SPLIT_NOTE = ("⚠ split: the rounds of this ratio fell into two groups at least "
              "1.5 times apart (the method ran in two states during the run); its median "
              "depends on how many rounds fell into each, and another run may differ "
              "by more than its interval suggests.")


def method_words(method: str) -> str:
    """A method id as the performance tables show it, marked when beyond the guide."""
    found = all_methods().get(method)
    return f"{method} ({BEYOND_GUIDE})" if found is not None and found.beyond_guide else method


def ratio_rows(summary: Any) -> list[list[str]]:
    return [[kind_words(e.kind, e.protocol), method_words(e.method), e.direction, e.protocol,
             e.reference or "native",
             f"{e.median_ratio:.3f}", f"[{e.ci_low:.3f}, {e.ci_high:.3f}]", _rounds(e)]
            for e in performance_entries(summary)]


def split_note(summary: Any) -> str | None:
    """:data:`SPLIT_NOTE` when a ratio of ``summary`` is split."""
    return SPLIT_NOTE if any(e.split for e in performance_entries(summary)) else None


def _rounds(e: PerfEntry) -> str:
    count = "" if e.rounds is None else str(e.rounds)
    if e.split is None:
        return count
    (a, b), (c, d) = e.split
    return f"{count} ⚠ split: {_range(a, b)} and {_range(c, d)}".strip()


def _range(a: float, b: float) -> str:
    return f"{a:.3f}" if a == b else f"{a:.3f} to {b:.3f}"


def verdict_rows(summary: Any) -> list[list[str]]:
    """``summary["verdicts"]``: claim id -> {verdict, reason, ...}, as the benchmarks
    record how they judged the performance claims."""
    verdicts = summary.get("verdicts") if isinstance(summary, dict) else None
    if not isinstance(verdicts, dict):
        return []
    return [[str(claim), str(v.get("verdict", "")), str(v.get("reason", ""))]
            for claim, v in verdicts.items() if isinstance(v, dict)]


def resolution_text(summary: Any) -> str:
    """The run's resolution from its A/A control, in one sentence (every report)."""
    found = PerfResolution.from_dict(summary.get("resolution")) if isinstance(
        summary, dict) else None
    if found is None:
        return ("Resolution: none (the run has no A/A control: `host` against native was "
                "not measured), so no difference between methods is known to exceed noise.")
    cpu = (f"; CPU per GB: {found.cpu:.1%}" if found.cpu is not None else "")
    combos = ", ".join(f"{c} {v:.1%}" for c, v in found.per_combo.items())
    return (f"Resolution of this run: {found.value:.1%} (throughput ratio{cpu}). A/A control: "
            f"`{found.method}` against {found.reference} takes the same path, so its ratio "
            "differs from 1 by noise only; the resolution is the largest distance of its "
            f"interval from 1" + (f" (by combination: {combos})" if combos else "") + ". "
            "Methods whose medians are closer than the resolution of their combination are "
            "reported as indistinguishable, not ordered; the resolution is the default "
            "tolerance of `podnet compare` and `podnet agree` for this run.")


COST_HEADER = ["method", "direction", "protocol", "forwarder CPU s/GB", "lab CPU s/GB",
               "lab CPU per GB / native's", "rounds"]
#: Shown under the cost table.
COST_NOTE = ("CPU seconds per gigabyte received: of the forwarding processes (pasta, "
             "slirp4netns, rootlessport, conmon) and of every process of the lab's host "
             "(its cgroup: forwarder, container, server or client on host1, podman, "
             "systemd), median over rounds with its 95% interval; the last column is the "
             "lab's CPU per GB over the native reference's in the same round. UDP counts "
             "the fixed-rate test and every step of the capacity search.")


def cost_rows(summary: Any) -> list[list[str]]:
    rows = []
    for cost in performance_costs(summary):
        rounds = max((i.rounds for i in (cost.forwarder, cost.lab) if i is not None), default=0)
        rows.append([method_words(cost.method), cost.direction, cost.protocol,
                     _interval(cost.forwarder),
                     _interval(cost.lab), _interval(cost.lab_ratio), str(rounds or "")])
    return rows


def _interval(found: PerfInterval | None) -> str:
    if found is None:
        return ""
    return f"{found.median:.3g} [{found.low:.3g}, {found.high:.3g}]"


#: What a ratio's kind measures, where the kind alone would not say.
KIND_WORDS = {("throughput", "udp"): "UDP capacity (highest rate with < 1% loss)",
              ("udp_fixed_rate", "udp"): "UDP at a fixed 1 Gbit/s offer (received rate)"}


def kind_words(kind: str, protocol: str) -> str:
    return KIND_WORDS.get((kind, protocol), kind)


def reference_capacity_text(measurements: Sequence[Measurement]) -> str | None:
    """The native reference's UDP capacity by direction (median over rounds), beside
    the fixed offer UDP was measured at before; None without capacity measurements."""
    from harness.probes.iperf3 import UDP_OFFERED_RATE

    found: dict[str, list[float]] = {}
    saturated: list[bool] = []
    for m in measurements:
        if (m.kind, m.method, m.protocol) == ("throughput", "native", "udp") and m.round > 0 \
                and "search" in m.extra and (value := _number(m.value)) is not None:
            found.setdefault(m.direction, []).append(value)
            saturated.append(bool(m.extra.get("saturated")))
    if not found:
        return None
    parts = ", ".join(f"{d} {statistics.median(v) / 1e9:.2f} Gbit/s ({len(v)} rounds)"
                      for d, v in sorted(found.items()))
    return (f"Native UDP capacity (highest rate with < 1% loss, median over rounds): {parts}; "
            f"the fixed offer UDP is also measured at is {UDP_OFFERED_RATE / 1e9:g} Gbit/s. "
            f"{sum(saturated)} of {len(saturated)} of native's searches reached the path's "
            "limit (the others may be limited by the offered rate).")
