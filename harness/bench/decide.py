"""The guide's performance questions, asked of a run's measurements: which are decided,
and which probes the still-open ones need more rounds of (the sequential design of
:func:`harness.bench.schedule.run_rounds`: extra rounds go to open questions first,
until each is decided or the bound of rounds or time is reached).

Two kinds of question:

- **native performance** of a method, decided by whether a forwarder carried the bytes
  (:func:`harness.bench.verdict.native_path`), with its throughput ratios beside;
- **an ordering** of methods, decided pair by adjacent pair on paired ratios of the
  same round (:func:`harness.bench.verdict.order_paired`): by rate, and by CPU cost.

Each time the schedule asks is a *look*. Stopping when a question is decided would make
a chance decision likelier with every look, so an ordering is judged at the level
``1 - (1 - LEVEL) / looks`` (Bonferroni over the looks taken): more rounds never make a
verdict easier to reach by chance.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.bench import reference, verdict
from harness.bench.procstat import NETWORK_FORWARDERS, per_gigabyte
from harness.bench.stats import LEVEL, distance
from harness.bench.summary import PerfRatio
from harness.bench.throughput import LAB_COST, Probe, matching, per_round, ratios, usable
from harness.results.schema import Measurement

Key = tuple[str, str, str]


@dataclass(frozen=True)
class Questions:
    """What the run must decide: the methods whose native performance is claimed, each
    with the directions judged, and the orderings claimed (best first)."""

    native: Sequence[tuple[str, tuple[str, ...]]]
    orders: Sequence[Sequence[str]] = ()
    order_directions: tuple[str, ...] = ("inbound", "inbound-reverse")
    protocols: tuple[str, ...] = ("tcp",)


@dataclass
class Looks:
    """The sequential design's record: how many questions were open at each look."""

    open_counts: list[int] = field(default_factory=list)

    @property
    def count(self) -> int:
        return max(1, len(self.open_counts))

    @property
    def level(self) -> float:
        return 1.0 - (1.0 - LEVEL) / self.count

    def to_dict(self) -> dict[str, Any]:
        return {"looks": self.count, "open_questions_at_each_look": list(self.open_counts),
                "order_level": self.level}


def read_forwarders(m: Measurement) -> bool:
    """Whether the reading around ``m`` saw the target's processes: forwarder CPU times
    recorded, and some forwarder found or its /proc/PID/io read. A reading that failed
    (the command printed nothing) leaves both empty, and would look like a path no
    forwarder touched."""
    spent = m.extra.get("forwarder_cpu_seconds")
    return isinstance(spent, dict) and (bool(spent) or "forwarder_byte_share" in m.extra)


def _carriage(m: Measurement) -> verdict.Carriage:
    spent = m.extra.get("forwarder_cpu_seconds")
    cpu = sum(float(v) for name, v in spent.items() if name in NETWORK_FORWARDERS
              and isinstance(v, int | float)) if isinstance(spent, dict) else 0.0
    nbytes = m.extra.get("cpu_bytes")
    share = m.extra.get("forwarder_byte_share")
    return verdict.Carriage(float(share) if isinstance(share, int | float) else None, cpu,
                            per_gigabyte(cpu, nbytes) if isinstance(nbytes, int) else None)


def carriage(samples: Sequence[Measurement], method: str, directions: Iterable[str],
             protocols: Iterable[str]) -> dict[str, list[verdict.Carriage]]:
    """Per ``direction/protocol`` measured, what the network forwarders did in each
    round (rounds whose reading saw no process left out, see :func:`read_forwarders`)."""
    found: dict[str, list[verdict.Carriage]] = {}
    for direction, protocol in itertools.product(directions, protocols):
        mine = sorted(matching(samples, (method, direction, protocol)), key=lambda m: m.round)
        if mine:
            found[f"{direction}/{protocol}"] = [_carriage(m) for m in mine
                                                if read_forwarders(m)]
    return found


def positive_control(samples: Sequence[Measurement], protocols: Iterable[str]) -> bool:
    """Whether some measurement of the run (any method, ``protocols``) was read as carried
    by a forwarder: the readings that found no forwarder touching the bytes can tell
    one that does. Without it (the forwarders renamed, another process namespace),
    every path would read as untouched."""
    protocols = tuple(protocols)
    return any(_carriage(m).carried for m in samples
               if usable(m) and m.protocol in protocols and read_forwarders(m))


def without_forwarders(by_rate: verdict.Verdict) -> verdict.Verdict:
    """The throughput-only verdict where no forwarder figures were read: a slowdown
    beyond the margin still shows "not native", an interval near 1 does not show
    "native" (the reference may be the weaker path: docs/benchmarks.md)."""
    if by_rate.observed is not True:
        return by_rate
    return verdict.Verdict(None, "inconclusive: no forwarder figures, and a throughput "
                           f"ratio near native does not show a native path ({by_rate.reason})",
                           by_rate.detail)


def native_verdict(samples: Sequence[Measurement], found: Iterable[PerfRatio], method: str,
                   directions: Iterable[str], questions: Questions,
                   resolution: verdict.Resolution = 0.0) -> verdict.Verdict:
    """Native performance of ``method`` (:func:`verdict.native_path`) from the run's
    ratios ``found``, a slowdown judged against the larger of the run's ``resolution``
    and its reference's own A/A noise: how far the reference's second measurement of a
    round over its first reaches from 1, the noise of the ratio's denominator, which the
    ``host`` A/A control does not measure where the reference is another tool (socket
    activation's native sink)."""
    directions = tuple(directions)
    mine = [r for r in found if r.method == method and r.direction in directions
            and r.protocol in questions.protocols]
    aa = {r.combo: verdict.resolution_of(resolution, r.combo) for r in mine}
    own = {r.combo: distance(s) if (s := reference.repeat(matching(samples, r.key_for(
        r.reference)))) else 0.0 for r in mine}
    both = {c: max(aa[c], own[c]) for c in aa}
    judged = verdict.native_path(carriage(samples, method, directions, questions.protocols),
                                 {r.combo: r.summary for r in mine}, resolution=both,
                                 control=positive_control(samples, questions.protocols))
    shown = {f"{c} resolution": f"{v:.3f} (A/A {aa[c]:.3f}, the reference's own "
             f"{own[c]:.3f})" for c, v in both.items()}
    return verdict.Verdict(judged.observed, judged.reason, {**judged.detail, **shown})


def order_verdict(samples: Sequence[Measurement], expected: Sequence[str],
                  questions: Questions, *, level: float = LEVEL, by_cost: bool = False
                  ) -> verdict.Verdict:
    values = per_round(samples, expected, itertools.product(questions.order_directions,
                                                            questions.protocols),
                       LAB_COST if by_cost else None)
    measured = {c: v for c, v in values.items() if any(v.values())}
    return verdict.order_paired(expected, measured, level=level,
                                higher_is_better=not by_cost)


def open_keys(samples: Sequence[Measurement], probes: Sequence[Probe], questions: Questions,
              level: float = LEVEL) -> set[Key]:
    """The probes of every question not decided yet."""
    keys: set[Key] = set()
    found = ratios(list(samples), probes)
    for method, directions in questions.native:
        if not native_verdict(samples, found, method, directions, questions).decisive:
            keys |= {p.key for p in probes if p.method == method
                     and p.direction in directions and p.protocol in questions.protocols}
    for expected in questions.orders:
        if not order_verdict(samples, expected, questions, level=level).decisive:
            keys |= {p.key for p in probes if p.method in expected
                     and p.direction in questions.order_directions
                     and p.protocol in questions.protocols}
    return keys


def open_questions(samples: Sequence[Measurement], probes: Sequence[Probe],
                   questions: Questions, looks: Looks) -> set[Key]:
    """A look: the open questions' probes, counted in ``looks``."""
    keys = open_keys(samples, probes, questions, level=Looks([*looks.open_counts, 0]).level)
    looks.open_counts.append(len(keys))
    return keys

