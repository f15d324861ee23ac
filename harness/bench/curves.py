"""Cost curves: how each method's cost grows with the work.

- ``streams``: inbound TCP throughput with 1, 2 and 4 parallel streams (iperf3 ``-P``),
  each method over the native reference at the same stream count in the same round, with
  the forwarders' CPU seconds per GB;
- ``ports``: a container's start time as the number of published ports grows (1, 10,
  100, 1000, as one ``-p`` range): ``podman run -d`` until it returns (podman sets up
  the port forwarder before), and until a client on another host connects to the first
  port (the positive control that the forwarder serves);
- ``connections``: new connections per second, short HTTP GETs (one connection each,
  :mod:`harness.bench.httpget`) from 1 and 4 parallel clients on host2 to each inbound
  method's nginx, over the same nginx with ``--network=host`` (the native path);
- ``memory``: the forwarders' resident memory (pasta, slirp4netns, rootlessport, conmon)
  with 1, 10 and 100 connections held open to each method's nginx, as the growth over
  the same reading with none open (:mod:`harness.bench.holdconns`).

Rounds interleave every point (the order shuffled each round), as in the throughput
benchmark, and every figure is a median over rounds with its bootstrap interval.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from harness.bench.stats import interval, median_of, summarize
from harness.results.schema import Measurement

STREAMS = (1, 2, 4)
PORTS = (1, 10, 100, 1000)
#: Parallel HTTP clients of the connection rate, and open connections of the memory curve.
CLIENTS = (1, 4)
CONNECTIONS = (1, 10, 100)
STREAMS_KIND, PORTS_KIND = "cost_curve_streams", "cost_curve_ports"
CONNECTIONS_KIND, MEMORY_KIND = "cost_curve_connections", "cost_curve_memory"
#: The reference of the HTTP curves: the same nginx with --network=host (no forwarder).
HOST = "host"
#: The first port of a published range (the range ends below the throughput bench's).
FIRST_PORT = 6000
NATIVE = "native"


@dataclass(frozen=True)
class Plan:
    """The points each curve measures: a default run measures them all; ``--quick`` the
    ends of each curve that are cheap to reach (its first point and one that shows the
    growth), so every method still has a curve."""

    streams: tuple[int, ...] = STREAMS
    ports: tuple[int, ...] = PORTS
    clients: tuple[int, ...] = CLIENTS
    connections: tuple[int, ...] = CONNECTIONS
    #: Seconds of each throughput measurement of the streams curve.
    seconds: int = 2

    def to_dict(self) -> dict[str, list[int]]:
        return {"streams": list(self.streams), "ports": list(self.ports),
                "clients": list(self.clients), "connections": list(self.connections)}


#: A default run's points, and ``--quick``'s: 100 connections held through slirp4netns
#: take 35 to 42 s to open and 1000 published ports several seconds per method.
FULL = Plan()
QUICK = Plan(streams=(1, 4), ports=(1, 100), clients=(1, 4), connections=(1, 10), seconds=1)


@dataclass(frozen=True)
class Point:
    """One point of a curve: a method at ``x`` (streams, ports), the median over rounds
    with its interval, and its ratio to the native reference at the same ``x`` in the same
    round (None where there is none)."""

    curve: str
    method: str
    x: int
    median: float
    low: float
    high: float
    rounds: int
    unit: str
    ratio: tuple[float, float, float] | None = None
    cpu_seconds_per_gb: float | None = None

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {name: getattr(self, name) for name in (
            "curve", "method", "x", "median", "low", "high", "rounds", "unit")}
        if self.ratio is not None:
            found["ratio"] = {"median": self.ratio[0], "low": self.ratio[1],
                              "high": self.ratio[2]}
        if self.cpu_seconds_per_gb is not None:
            found["forwarder_cpu_seconds_per_gb"] = self.cpu_seconds_per_gb
        return found

    @classmethod
    def from_dict(cls, raw: Any) -> Point | None:
        try:
            ratio = raw.get("ratio")
            return cls(str(raw["curve"]), str(raw["method"]), int(raw["x"]),
                       float(raw["median"]), float(raw["low"]), float(raw["high"]),
                       int(raw["rounds"]), str(raw.get("unit", "")),
                       (float(ratio["median"]), float(ratio["low"]), float(ratio["high"]))
                       if isinstance(ratio, dict) else None,
                       float(c) if isinstance(c := raw.get("forwarder_cpu_seconds_per_gb"),
                                              int | float) else None)
        except (KeyError, TypeError, ValueError, AttributeError):
            return None


def connection_rate(text: str) -> tuple[float, dict[str, Any]]:
    """New connections per second from the lines of parallel httpget clients (one JSON
    object each): the requests answered 200 over the longest client's busy time; the
    rate is NaN (with ``error``) where a client failed or answered otherwise."""
    import json
    import math

    clients: list[dict[str, Any]] = []
    for line in text.splitlines():
        try:
            found = json.loads(line)
        except ValueError:
            continue
        if isinstance(found, dict) and "seconds" in found:
            clients.append(found)
    extra: dict[str, Any] = {"clients": len(clients),
                             "requests": sum(len(c["seconds"]) for c in clients)}
    errors = [str(c["error"]) for c in clients if c.get("error")]
    bad = sorted({s for c in clients for s in c.get("statuses", []) if s != 200})
    if errors or bad or not clients:
        extra["error"] = "; ".join(errors) or (f"statuses {bad}" if bad else "no client output")
        return math.nan, extra
    busy = max(sum(c["seconds"]) for c in clients)
    return (extra["requests"] / busy if busy > 0 else math.nan), extra


def _x_of(m: Measurement) -> int | None:
    x = m.extra.get("x")
    return x if isinstance(x, int) else None


def _by_round(samples: Iterable[Measurement], kind: str, method: str, x: int
              ) -> dict[int, Measurement]:
    return {m.round: m for m in samples if m.kind == kind and m.method == method
            and _x_of(m) == x and m.value == m.value and "error" not in m.extra}


def points(samples: Sequence[Measurement], kind: str, curve: str, unit: str,
           reference: str = NATIVE) -> list[Point]:
    """Every (method, x) of ``kind`` as a point, with its ratio to ``reference`` where
    it was measured at the same ``x``."""
    keys = sorted({(m.method, x) for m in samples if m.kind == kind
                   and (x := _x_of(m)) is not None})
    found = []
    for method, x in keys:
        mine = _by_round(samples, kind, method, x)
        values = {r: m.value for r, m in mine.items()}
        spread = interval(values.values())
        if spread is None:
            continue
        s = None if method == reference else summarize(
            values, {r: m.value for r, m in _by_round(samples, kind, reference, x).items()})
        ratio = None if s is None else (s.median, s.low, s.high)
        found.append(Point(curve, method, x, spread.median, spread.low, spread.high,
                           spread.rounds, unit, ratio, median_of(
                               m.extra.get("forwarder_cpu_seconds_per_gb") for m in mine.values())))
    return found
