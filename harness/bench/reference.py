"""The native reference, checked before anything is divided by it.

Every ratio of the benchmark is a method's rate over the native reference's in the same
round, so a weak reference makes every method look fast. On 2 cores the iperf3 client,
its server and the kernel's packet work compete for CPU: a reference can run at half
the path's speed with thousands of retransmissions, and a forwarder then comes out
"faster than native". Each run checks its reference on the figures iperf3 gives:

- **retransmissions**: the share of the reference's segments sent again (iperf3's
  sender count times a full segment, over the bytes received); above
  :data:`RETRANSMIT_LIMIT` the reference lost packets on a path that loses none when
  it is not overloaded;
- **CPU**: iperf3's own CPU figures of its client and server; at or above
  :data:`CPU_BOUND` percent one of them, not the path, set the rate;
- **repeatability**: the reference is measured twice in every round; the second over
  the first is an A/A ratio of the reference itself; when its interval reaches further
  from 1 than the native-performance margin, one reference measurement cannot tell
  "native" from "slower than native" and throughput alone decides no equality;
- **faster than the reference**: a method whose ratio's whole interval lies above 1
  is reported as a finding about the reference first: no forwarder adds speed to the
  path it forwards over.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.bench.stats import RatioSummary, distance, median_of, summarize
from harness.bench.summary import PerfRatio
from harness.bench.throughput import matching
from harness.clients.base import Client
from harness.probes import iperf3
from harness.results.schema import Measurement
from harness.targets.base import Target

#: The reference's segments sent again, as a share of what it moved: above this its
#: path (a veth pair) lost packets, which an unloaded veth does not.
RETRANSMIT_LIMIT = 0.001
#: Bytes of one TCP segment on the lab's 1500-byte links (1500 - 40 - 12 of options).
SEGMENT_BYTES = 1448
#: iperf3's CPU figure (percent of one CPU) at which its client or server set the rate.
CPU_BOUND = 90.0
REFERENCES = ("native", "native-sink")


@dataclass(frozen=True)
class ReferenceCombo:
    """The check of one reference in one direction/protocol."""

    reference: str
    combo: str
    rounds: int
    bits_per_second: float
    #: Share of segments retransmitted (TCP, iperf3 only).
    retransmitted: float | None = None
    client_cpu_percent: float | None = None
    server_cpu_percent: float | None = None
    #: The second measurement of a round over the first (None with one per round).
    repeat: RatioSummary | None = None

    def problems(self, margin: float) -> list[str]:
        where = f"{self.reference} {self.combo}"
        found = []
        if self.retransmitted is not None and self.retransmitted > RETRANSMIT_LIMIT:
            found.append(f"{where}: {self.retransmitted:.2%} of its segments retransmitted "
                         f"(limit {RETRANSMIT_LIMIT:.1%}): the reference lost packets")
        for side, cpu in (("client", self.client_cpu_percent),
                          ("server", self.server_cpu_percent)):
            if cpu is not None and cpu >= CPU_BOUND:
                found.append(f"{where}: iperf3's {side} used {cpu:.0f}% of a CPU: it, not "
                             "the path, set the reference's rate")
        if self.repeat is not None and distance(self.repeat) > margin:
            found.append(f"{where}: measured twice per round, the second over the first is "
                         f"{self.repeat.median:.2f} [{self.repeat.low:.2f}, "
                         f"{self.repeat.high:.2f}], further from 1 than the margin "
                         f"{margin:.0%}: throughput alone cannot show equality with it")
        return found

    def to_dict(self) -> dict[str, Any]:
        return {"reference": self.reference, "combo": self.combo, "rounds": self.rounds,
                "bits_per_second": self.bits_per_second,
                "retransmitted_share": self.retransmitted,
                "client_cpu_percent": self.client_cpu_percent,
                "server_cpu_percent": self.server_cpu_percent,
                "repeat": None if self.repeat is None else self.repeat.as_dict()}


def _above(r: PerfRatio) -> str:
    """The problem of a method whose ratio's whole interval lies above 1."""
    return (f"{r.method} {r.combo} ran at {r.median:.2f} [{r.low:.2f}, {r.high:.2f}] of the "
            "native reference: a forwarder does not add speed to the path it forwards over, "
            "so the reference fell short of the path first")


@dataclass(frozen=True)
class ReferenceCheck:
    combos: list[ReferenceCombo]
    #: The ratios whose whole interval lies above 1.
    above: list[PerfRatio]
    margin: float
    setup: dict[str, Any] = field(default_factory=dict)

    @property
    def problems(self) -> list[str]:
        return [p for c in self.combos for p in c.problems(self.margin)] + [
            _above(r) for r in self.above]

    @property
    def trusted(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"trusted": self.trusted, "problems": self.problems, "margin": self.margin,
                "limits": {"retransmitted_share": RETRANSMIT_LIMIT,
                           "cpu_bound_percent": CPU_BOUND},
                "combos": [c.to_dict() for c in self.combos],
                "above_reference": [{"method": a.method, "combo": a.combo,
                                     **a.summary.as_dict()} for a in self.above],
                "setup": self.setup}


def _retransmitted(mine: Sequence[Measurement]) -> float | None:
    pairs = [(m.extra["retransmits"], m.extra.get("bytes", 0)) for m in mine
             if isinstance(m.extra.get("retransmits"), int)]
    moved = sum(b for _, b in pairs if isinstance(b, int | float))
    return sum(r for r, _ in pairs) * SEGMENT_BYTES / moved if pairs and moved else None


def repeat(mine: Sequence[Measurement]) -> RatioSummary | None:
    """The second measurement of each round over the first (the order measured)."""
    by_round: dict[int, list[float]] = {}
    for m in mine:
        by_round.setdefault(m.round, []).append(m.value)
    twice = {r: v for r, v in by_round.items() if len(v) >= 2}
    return summarize({r: v[1] for r, v in twice.items()}, {r: v[0] for r, v in twice.items()})


def check_combo(samples: Iterable[Measurement], reference: str, direction: str,
                protocol: str) -> ReferenceCombo | None:
    mine = matching(samples, (reference, direction, protocol))
    if not mine:
        return None
    # With -R the client receives and the server sends: iperf3's "host" is the client.
    return ReferenceCombo(
        reference, f"{direction}/{protocol}", len({m.round for m in mine}),
        statistics.median(m.value for m in mine),
        _retransmitted(mine) if protocol == "tcp" else None,
        median_of(m.extra.get("cpu_host_percent") for m in mine),
        median_of(m.extra.get("cpu_remote_percent") for m in mine),
        repeat(mine))


def check(samples: Sequence[Measurement], ratios: Iterable[PerfRatio], *, margin: float,
          setup: Mapping[str, Any] | None = None) -> ReferenceCheck:
    """The reference check of a run: every reference combination measured, and the
    ``ratios`` whose whole interval lies above 1."""
    keys = sorted({(m.method, m.direction, m.protocol) for m in samples
                   if m.method in REFERENCES})
    combos = [c for key in keys if (c := check_combo(samples, *key)) is not None]
    above = sorted((r for r in ratios if r.low > 1.0), key=lambda r: (r.method, r.combo))
    return ReferenceCheck(combos, above, margin, dict(setup or {}))


#: Link properties that decide how a TCP transfer is cut into packets.
LINK_FIELDS = ("mtu", "gso_max_size", "gso_max_segs", "gro_max_size", "tso_max_size")


def links(text: str) -> dict[str, dict[str, Any]]:
    """``ip -j -d link`` as {interface: {mtu, gso/gro/tso limits, qdisc}}, loopback left
    out."""
    try:
        data = json.loads(text or "[]")
    except ValueError:
        return {}
    named = [link for link in data if isinstance(link, dict)
             and isinstance(link.get("ifname"), str)] if isinstance(data, list) else []
    return {link["ifname"]: {k: link[k] for k in (*LINK_FIELDS, "qdisc") if k in link}
            for link in named if link["ifname"] != "lo"}


def describe(target: Target, client: Client) -> dict[str, Any]:
    """What the native reference was, for the report: its ends, CPU placement, socket
    buffers and the links it crossed (the same as the forwarders' host-side leg)."""
    argv = ["ip", "-j", "-d", "link"]
    return {
        "tcp": f"iperf3 client on {client.name} to iperf3 -s on the target, in the lab "
               "host's cgroup; socket activation's against the same sink run natively",
        "cpu_placement": "the scheduler's (client, server and forwarders not pinned)",
        "socket_buffers": "kernel autotuning (iperf3's default); UDP capacity tests "
                          f"{iperf3.UDP_CAPACITY_WINDOW}B",
        "host_side_leg": "the inbound methods' forwarders receive on the same link as the "
                         "reference's server: its MTU and offloads are theirs",
        "links": {"target": links(target.run(argv, check=False).stdout),
                  client.name: links(client.run(argv, check=False).stdout)},
    }
