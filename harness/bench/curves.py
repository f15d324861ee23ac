"""Cost curves: how each method's cost grows with the work.

- ``streams``: inbound TCP throughput with 1, 2 and 4 parallel streams (iperf3 ``-P``),
  each method over the native reference at the same stream count in the same round, with
  the forwarders' CPU seconds per GB;
- ``ports``: a container's start time as the number of published ports grows (1, 10,
  100, 1000, as one ``-p`` range): ``podman run -d`` until it returns (podman sets up
  the port forwarder before), and until a client on another host connects to the first
  port (the positive control that the forwarder serves).

Rounds interleave every point (the order shuffled each round), as in the throughput
benchmark, and every figure is a median over rounds with its bootstrap interval.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import atomic
from harness.bench.stats import interval, summarize
from harness.results.schema import Measurement

STREAMS = (1, 2, 4)
PORTS = (1, 10, 100, 1000)
STREAMS_KIND, PORTS_KIND = "cost_curve_streams", "cost_curve_ports"
#: The first port of a published range (the range ends below the throughput bench's).
FIRST_PORT = 6000
NATIVE = "native"


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
        found: dict[str, Any] = {"curve": self.curve, "method": self.method, "x": self.x,
                                 "median": self.median, "low": self.low, "high": self.high,
                                 "rounds": self.rounds, "unit": self.unit}
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


def _x_of(m: Measurement) -> int | None:
    x = m.extra.get("x")
    return x if isinstance(x, int) else None


def _by_round(samples: Iterable[Measurement], kind: str, method: str, x: int
              ) -> dict[int, Measurement]:
    return {m.round: m for m in samples if m.kind == kind and m.method == method
            and _x_of(m) == x and m.value == m.value and "error" not in m.extra}


def points(samples: Sequence[Measurement], kind: str, curve: str, unit: str) -> list[Point]:
    """Every (method, x) of ``kind`` as a point, with its ratio to native where native
    was measured at the same ``x``."""
    keys = sorted({(m.method, x) for m in samples if m.kind == kind
                   and (x := _x_of(m)) is not None})
    found = []
    for method, x in keys:
        mine = _by_round(samples, kind, method, x)
        spread = interval(m.value for m in mine.values())
        if spread is None:
            continue
        ratio = None
        if method != NATIVE and (native := _by_round(samples, kind, NATIVE, x)):
            s = summarize({r: m.value for r, m in mine.items()},
                          {r: m.value for r, m in native.items()})
            ratio = None if s is None else (s.median, s.low, s.high)
        cpu = interval(v for m in mine.values()
                       if isinstance(v := m.extra.get("forwarder_cpu_seconds_per_gb"),
                                     int | float))
        found.append(Point(curve, method, x, spread.median, spread.low, spread.high,
                           spread.rounds, unit, ratio, None if cpu is None else cpu.median))
    return found


def chart(found: Sequence[Point], path: Path, *, title: str, xlabel: str, ylabel: str,
          scale: float = 1.0) -> Path:
    """One line per method (native dashed), with interval bars, log-scaled x."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    for method in sorted({p.method for p in found}, key=lambda m: (m != NATIVE, m)):
        line = sorted((p for p in found if p.method == method), key=lambda p: p.x)
        xs = [p.x for p in line]
        ys = [p.median * scale for p in line]
        errors = [[(p.median - p.low) * scale for p in line],
                  [(p.high - p.median) * scale for p in line]]
        ax.errorbar(xs, ys, yerr=errors, marker="o", capsize=3, label=method,
                    linestyle="--" if method == NATIVE else "-")
    ax.set_xscale("log", base=2 if max((p.x for p in found), default=1) <= 8 else 10)
    ax.set_xticks(sorted({p.x for p in found}))
    ax.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    atomic.write_bytes(path, buffer.getvalue())
    return path
