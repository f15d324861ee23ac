"""The run's performance summary, ``run.summaries["performance"]``: one typed structure
that the benchmark assembles and writes and every report reads.

Shape in run.json (docs/results-schema.md)::

    {"settings": {...}, "ratios": [PerfRatio, ...], "resolution": PerfResolution | null,
     "findings": [Finding, ...], "costs": [PerfCost, ...], "errors": [{...}, ...],
     "verdicts": {"<claim id>": {"verdict": ..., "reason": ...}},
     "separate_only": true, "separate": [{...}]}

Readers never fail on an entry they cannot read: it is left out (:meth:`from_dict`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from harness.bench.findings import Finding, Split, split_of
from harness.bench.stats import Interval, Measured, RatioSummary, distance, number, split_rounds
from harness.results.schema import Run

KEY = "performance"
#: The method measured against native as an A/A control.
AA_METHOD = "host"


def _plain(value: Any) -> Any:
    """A field as JSON data: a record (or a list of them) as its ``to_dict``."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value.to_dict() if hasattr(value, "to_dict") else value


@dataclass(frozen=True)
class PerfResolution:
    """``resolution``: the run's noise control, an A/A ratio (``method`` against
    ``reference``, the same path). ``value`` is the relative difference two medians must
    exceed to be told apart; ``per_combo`` the A/A distance of each
    ``direction/protocol``; ``cpu`` the same for CPU per GB."""

    value: float
    per_combo: dict[str, float] = field(default_factory=dict)
    method: str = "host"
    reference: str = "native"
    cpu: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Any) -> PerfResolution | None:
        if not isinstance(raw, dict) or (value := number(raw.get("value"))) is None:
            return None
        combos = raw.get("per_combo")
        per_combo = {str(k): v for k, x in combos.items() if (v := number(x)) is not None} \
            if isinstance(combos, dict) else {}
        return cls(value, per_combo, str(raw.get("method", "host")),
                   str(raw.get("reference", "native")), number(raw.get("cpu")))

    @classmethod
    def of(cls, aa: Mapping[str, RatioSummary], cpu: Mapping[str, Interval] | None = None,
           method: str = AA_METHOD) -> PerfResolution | None:
        """The resolution from the A/A ratios by combination (and of the lab's CPU per GB,
        ``cpu``); None without any. With ``--network=host`` the container's traffic takes
        the same path as the native reference, so every difference between the two is
        noise: two methods whose medians are closer than the largest distance of that
        ratio's interval from 1 (relative to the larger) cannot be told apart by this
        run."""
        if not aa:
            return None
        per_combo = {combo: distance(s) for combo, s in sorted(aa.items())}
        cpu_distance = max((distance(s) for s in cpu.values()), default=None) if cpu else None
        return cls(max(per_combo.values()), per_combo, method, "native", cpu_distance)


@dataclass(frozen=True)
class PerfCost(Measured):
    """``costs[]``: CPU seconds per gigabyte moved (median over rounds, 95% interval), of
    the forwarding processes and of every process of the lab's host (its cgroup), and the
    latter over the reference's in the same round (None for a reference)."""

    forwarder: Interval | None = None
    lab: Interval | None = None
    lab_ratio: Interval | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "direction": self.direction, "protocol": self.protocol,
                "forwarder_cpu_seconds_per_gb": _plain(self.forwarder),
                "lab_cpu_seconds_per_gb": _plain(self.lab),
                "lab_ratio": _plain(self.lab_ratio)}

    @classmethod
    def from_dict(cls, raw: Any) -> PerfCost | None:
        if not isinstance(raw, dict) or not isinstance(raw.get("method"), str):
            return None
        return cls(raw["method"], str(raw.get("direction", "")), str(raw.get("protocol", "")),
                   Interval.from_dict(raw.get("forwarder_cpu_seconds_per_gb")),
                   Interval.from_dict(raw.get("lab_cpu_seconds_per_gb")),
                   Interval.from_dict(raw.get("lab_ratio")))


@dataclass(frozen=True)
class PerfRatio(Measured):
    """``ratios[]``: a method's median ratio to ``reference`` over rounds, its interval,
    the per-round ratios and, when they split into two groups, the groups' ranges."""

    median: float
    low: float
    high: float
    kind: str = "throughput"
    reference: str = ""
    rounds: int | None = None
    ratios: tuple[float, ...] = ()
    split: Split | None = None
    forwarder_cpu_seconds_per_gb: float | None = None
    #: UDP capacity: the share of the searches (the method's and its reference's) that
    #: reached the path's limit; the others may be limited by the offered rate.
    saturated_share: float | None = None
    #: None: as the kind says (a lower latency is better, a higher throughput).
    higher_is_better: bool | None = None

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.kind, self.method, self.direction, self.protocol, self.reference)

    @property
    def better_higher(self) -> bool:
        return self.kind != "latency" if self.higher_is_better is None else self.higher_is_better

    @property
    def summary(self) -> RatioSummary:
        """The median, interval and per-round ratios, as the verdicts judge them."""
        return RatioSummary(self.median, self.low, self.high, self.rounds or 0, self.ratios)

    @classmethod
    def of(cls, method: str, direction: str, protocol: str, reference: str,
           s: RatioSummary, forwarder_cpu_seconds_per_gb: float | None = None,
           kind: str = "throughput", saturated_share: float | None = None) -> PerfRatio:
        return cls(method, direction, protocol, s.median, s.low, s.high, kind, reference,
                   s.rounds, s.ratios, s.split, forwarder_cpu_seconds_per_gb, saturated_share)

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {name: getattr(self, name) for name in (
            "kind", "method", "direction", "protocol", "reference", "median", "low", "high",
            "rounds")}
        found["ratios"] = list(self.ratios)
        if self.split is not None:
            found["split"] = [list(self.split[0]), list(self.split[1])]
        found["forwarder_cpu_seconds_per_gb"] = self.forwarder_cpu_seconds_per_gb
        if self.saturated_share is not None:
            found["saturated_share"] = self.saturated_share
        if self.higher_is_better is not None:
            found["higher_is_better"] = self.higher_is_better
        return found

    @classmethod
    def from_dict(cls, raw: Any) -> PerfRatio | None:
        """None for an entry without a method or a median. A record written before
        ``split`` was gets it from its per-round ratios."""
        if not isinstance(raw, dict) or not isinstance(method := raw.get("method"), str) \
                or (median := number(raw.get("median"))) is None:
            return None
        low, high = number(raw.get("low")), number(raw.get("high"))
        per_round = raw.get("ratios")
        ratios = tuple(v for r in per_round if (v := number(r)) is not None) \
            if isinstance(per_round, list) else ()
        better, rounds = raw.get("higher_is_better"), number(raw.get("rounds"))
        return cls(method, str(raw.get("direction", "")), str(raw.get("protocol", "")), median,
                   median if low is None else min(low, median),
                   median if high is None else max(high, median),
                   str(raw.get("kind", "throughput")), str(raw.get("reference", "")),
                   None if rounds is None else int(rounds), ratios,
                   split_of(raw.get("split")) or split_rounds(ratios),
                   number(raw.get("forwarder_cpu_seconds_per_gb")),
                   number(raw.get("saturated_share")), better if isinstance(better, bool) else None)


#: Records of the run's measurement kept as written (plain JSON objects).
_RECORDS = ("settings", "reference", "machine", "sequential", "native_rule")
#: The fields written also when empty.
_ALWAYS = ("settings", "ratios", "resolution", "findings", "costs", "errors", "verdicts")


def _object(raw: Any) -> dict[str, Any] | None:
    return raw if isinstance(raw, dict) else None


#: The list fields, each with the reader of an entry (None: left out).
_LISTS: dict[str, Callable[[Any], Any]] = {
    "ratios": PerfRatio.from_dict, "findings": Finding.from_dict,
    "costs": PerfCost.from_dict, "errors": _object, "separate": _object}


@dataclass
class PerformanceSummary:
    settings: dict[str, Any] = field(default_factory=dict)
    ratios: list[PerfRatio] = field(default_factory=list)
    resolution: PerfResolution | None = None
    findings: list[Finding] = field(default_factory=list)
    costs: list[PerfCost] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    #: How the benchmark judged each performance claim: claim id -> {verdict, reason, ...}.
    verdicts: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Only methods measured on their own (beyond the guide) so far.
    separate_only: bool = False
    #: Each measurement of a method on its own: its methods and settings.
    separate: list[dict[str, Any]] = field(default_factory=list)
    #: The native reference's check (harness/bench/reference.py, ReferenceCheck.to_dict).
    reference: dict[str, Any] | None = None
    #: The machine's state per round (harness/bench/machine.py).
    machine: dict[str, Any] | None = None
    #: The sequential design's looks (harness/bench/decide.py, Looks.to_dict).
    sequential: dict[str, Any] | None = None
    #: How native performance was decided (harness/bench/verdict.py, native_rule).
    native_rule: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Every field, the others than :data:`_ALWAYS` only where not empty."""
        found = {f.name: _plain(getattr(self, f.name)) for f in fields(self)}
        return {k: v for k, v in found.items() if k in _ALWAYS or v not in (None, False, [])}

    @classmethod
    def from_dict(cls, raw: Any) -> PerformanceSummary:
        """The summary as recorded; an empty one for anything else."""
        if isinstance(raw, PerformanceSummary):
            return raw
        if not isinstance(raw, dict):
            return cls()
        lists: dict[str, Any] = {
            name: [v for x in entries if (v := read(x)) is not None]
            if isinstance(entries := raw.get(name), list) else [] for name, read in _LISTS.items()}
        records: dict[str, Any] = {
            name: value for name in _RECORDS if isinstance(value := raw.get(name), dict)}
        verdicts = _object(raw.get("verdicts")) or {}
        return cls(**lists, **records, resolution=PerfResolution.from_dict(raw.get("resolution")),
                   verdicts={str(k): v for k, v in verdicts.items() if isinstance(v, dict)},
                   separate_only=raw.get("separate_only") is True)

    @classmethod
    def of(cls, run: Run) -> PerformanceSummary:
        return cls.from_dict(run.summaries.get(KEY))


def publish(run: Run, summary: PerformanceSummary, methods: list[str], *,
            separate: bool) -> PerformanceSummary:
    """The run's one performance summary: the guide's methods' measurement, with the
    ratios, findings, costs, errors and verdicts of a method measured on its own (beyond
    the guide) added and its settings listed under ``separate``, whichever of
    them ran first."""
    if separate:
        summary.separate_only = True
        summary.separate = [{"methods": methods, "settings": summary.settings}]
    if run.summaries.get(KEY) is None:
        run.summaries[KEY] = summary
        return summary
    published = PerformanceSummary.from_dict(run.summaries[KEY])
    base, added = ((summary, published) if not separate and published.separate_only
                   else (published, summary))
    for name in ("ratios", "errors", "findings", "costs", "separate"):
        getattr(base, name).extend(getattr(added, name))
    base.verdicts.update(added.verdicts)
    run.summaries[KEY] = base
    return base
