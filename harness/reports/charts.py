"""Every chart of podnet's reports, drawn from the run record as PNG bytes, with one
matplotlib setup (:func:`_figure`; no display needed):

- the benchmark's bars, with interval bars, one panel per direction: throughput ratio to
  native and CPU cost per gigabyte moved, on a log scale with each bar's value printed
  above it, so that a ratio of 0.002 of native is as visible as one of 0.9;
- a box plot of a run's samples of one kind;
- one ratio over many runs (``podnet history``);
- the cost curves, one chart per curve (``summaries["cost_curves"]``).
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from harness.bench.curves import HOST, NATIVE, Point
from harness.bench.summary import PerformanceSummary, PerfRatio
from harness.results.schema import Measurement, Run

if TYPE_CHECKING:
    import pandas as pd

PROTOCOL_COLOURS = {"tcp": "#4878a8", "udp": "#e08a3c"}


@contextmanager
def _figure(rows: int = 1, *, figsize: tuple[float, float], dpi: int = 100,
            squeeze: bool = True) -> Iterator[tuple[Any, Any]]:
    """A figure and its axes, closed on leaving (:func:`_png` draws it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(rows, 1, squeeze=squeeze, figsize=figsize, dpi=dpi)
    try:
        yield fig, axes
    finally:
        plt.close(fig)


def _png(fig: Any) -> bytes:
    """The figure as PNG, without the software's name (the same data gives the same
    bytes)."""
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=fig.dpi, metadata={"Software": None})
    return out.getvalue()


def value_label(value: float) -> str:
    """Two significant digits: 0.0021, 0.93, 1.2, 35."""
    return f"{value:.2g}"


def bar_chart(bars: Sequence[PerfRatio], *, ylabel: str, title: str, line: float | None) -> bytes:
    directions = sorted({b.direction for b in bars})
    positive = [v for b in bars for v in (b.low, b.median) if v > 0]
    bottom = min(positive, default=1.0) / 3
    top = max((max(b.high, b.median) for b in bars), default=1.0) * 4
    with _figure(len(directions), squeeze=False, dpi=110,
                 figsize=(10, 3.0 * max(1, len(directions)))) as (fig, axes):
        for ax, direction in zip(axes[:, 0], directions, strict=True):
            _panel(ax, [b for b in bars if b.direction == direction], bottom)
            if line is not None:
                ax.axhline(line, color="black", linewidth=0.8, linestyle="--")
            ax.set(yscale="log", ylim=(bottom, top), ylabel=ylabel)
            ax.set_title(direction, fontsize=10)
            # Beside the panel, where it hides no bar and no printed value.
            ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        if title:
            fig.suptitle(title, fontsize=11)
        return _png(fig)


def _panel(ax: Any, rows: Sequence[PerfRatio], bottom: float) -> None:
    methods = sorted({b.method for b in rows})
    protocols = sorted({b.protocol for b in rows})
    width = 0.8 / max(1, len(protocols))
    for i, protocol in enumerate(protocols):
        chosen = [(j, b) for j, m in enumerate(methods) for b in rows
                  if b.method == m and b.protocol == protocol]
        xs = [j + (i - (len(protocols) - 1) / 2) * width for j, _ in chosen]
        medians = [max(b.median, bottom) for _, b in chosen]
        errors = [[max(0.0, b.median - max(b.low, bottom)) for _, b in chosen],
                  [max(0.0, b.high - b.median) for _, b in chosen]]
        ax.bar(xs, [m - bottom for m in medians], width, bottom=bottom, yerr=errors,
               capsize=3, label=protocol.upper(), color=PROTOCOL_COLOURS.get(protocol))
        for x, (_, b) in zip(xs, chosen, strict=True):
            ax.text(x, max(b.high, b.median, bottom) * 1.15, value_label(b.median),
                    ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(methods)), methods, rotation=15, ha="right", fontsize=8)


def ratio_png(ratios: Sequence[PerfRatio], title: str = "") -> bytes:
    return bar_chart(ratios, ylabel="ratio to native (log scale)", title=title, line=1.0)


def _ratio_title(settings: dict[str, Any]) -> str:
    rounds, run = settings.get("rounds"), settings.get("rounds_run")
    counted = "rounds"
    if isinstance(rounds, int):
        extra = run - rounds if isinstance(run, int) else 0
        counted = f"{rounds} rounds" + (f" + {extra} for imprecise ratios" if extra else "")
    seconds = settings.get("seconds_per_measurement", "?")
    return f"throughput ratio to native ({counted} of {seconds} s, 95% interval)"


def throughput_charts(summary: PerformanceSummary) -> list[tuple[str, bytes]]:
    """The throughput ratios to native of the guide's methods (``throughput-ratio``),
    and of each method measured on its own (``throughput-ratio-<method>``)."""
    found = [r for r in summary.ratios if r.kind == "throughput"]
    apart = {str(m): part for part in summary.separate for m in part.get("methods", [])}
    charts = [("throughput-ratio", [r for r in found if r.method not in apart], summary.settings),
              *((f"throughput-ratio-{method}", [r for r in found if r.method == method],
                 part.get("settings")) for method, part in apart.items())]
    return [(name, ratio_png(own, _ratio_title(settings if isinstance(settings, dict) else {})))
            for name, own, settings in charts if own]


def cost_png(summary: PerformanceSummary) -> bytes | None:
    """The CPU cost chart of a performance summary: CPU seconds per GB of every process
    of the lab's host, or of the forwarding processes where a cost has only those; None
    when the summary has no costs."""
    bars = [PerfRatio(cost.method, cost.direction, cost.protocol, value.median, value.low,
                      value.high) for cost in summary.costs
            if (value := cost.lab or cost.forwarder) is not None and value.median > 0]
    if not bars:
        return None
    return bar_chart(bars, ylabel="CPU seconds per GB (log scale)", line=None,
                     title="CPU cost: CPU seconds per GB moved, all processes of the lab's "
                           "host (median over rounds, 95% interval)")


def _label(m: Measurement) -> str:
    extra = " ".join(p for p in (m.protocol, m.direction) if p)
    return f"{m.method}\n{extra}" if extra else m.method


def samples_chart(measurements: Sequence[Measurement], kind: str, title: str) -> bytes | None:
    """A horizontal box plot of every sample of ``kind``, one box per method/protocol/
    direction; ``None`` when the run has no such samples."""
    import matplotlib

    chosen = [m for m in measurements if m.kind == kind and isinstance(m.value, int | float)
              and m.value == m.value]  # failed samples are recorded as NaN
    if not chosen:
        return None
    groups: dict[str, list[float]] = {}
    for m in chosen:
        groups.setdefault(_label(m), []).append(float(m.value))
    units = sorted({m.unit for m in chosen})
    labels = list(groups)
    with _figure(figsize=(8, 1.2 + 0.55 * len(labels))) as (fig, ax):
        # ``vert`` is deprecated from matplotlib 3.10, ``orientation`` new in it.
        layout: dict[str, Any] = (
            {"orientation": "horizontal"} if matplotlib.__version_info__ >= (3, 10)
            else {"vert": False})
        ax.boxplot([groups[label] for label in labels], widths=0.6, **layout)
        ax.set_yticks(range(1, len(labels) + 1), labels, fontsize=8)
        ax.invert_yaxis()
        ax.set(xlabel=" / ".join(units), title=title)
        ax.grid(axis="x", alpha=0.3)
        return _png(fig)


def series_chart(ratios: pd.DataFrame, title: str) -> bytes:
    """One ratio over the runs: its median per run with the 95% interval, one line per
    release, the native reference as a dashed line."""
    import pandas as pd

    with _figure(figsize=(9, 3.2)) as (fig, ax):
        for release, rows in ratios.groupby("release", sort=True):
            when = pd.to_datetime(rows["started"], unit="s", utc=True)
            ax.errorbar(when, rows["median"],
                        yerr=[(rows["median"] - rows["low"]).clip(lower=0),
                              (rows["high"] - rows["median"]).clip(lower=0)],
                        marker="o", capsize=3, label=str(release))
        ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
        ax.set_ylabel("ratio (median, 95% interval)")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8)
        fig.autofmt_xdate()
        return _png(fig)


#: Each cost curve's chart: title, x label, y label, the scale of its values, and the
#: reference drawn dashed.
CURVES = {
    "streams": ("inbound TCP by parallel streams", "parallel streams (iperf3 -P)",
                "Gbit/s", 1e-9, NATIVE),
    "ports": ("start until the first port serves", "published ports (one -p range)",
              "seconds", 1.0, NATIVE),
    "connections": ("new connections per second: short HTTP GETs", "parallel clients",
                    "connections per second", 1.0, HOST),
    "memory": ("forwarders' resident memory as connections grow (over none open)",
               "connections held open", "MB", 1.0, NATIVE),
}


def curve_points(run: Run) -> list[Point]:
    raw = run.summaries.get("cost_curves")
    found = raw.get("points") if isinstance(raw, dict) else None
    return [p for x in (found if isinstance(found, list) else [])
            if (p := Point.from_dict(x)) is not None]


#: The names of the cost curves' charts: ``cost-curve-<curve>``.
CURVE_PREFIX = "cost-curve-"


def curve_charts(run: Run) -> list[tuple[str, bytes]]:
    """One chart per cost curve of the run record, ``("cost-curve-<curve>", png)``."""
    import matplotlib

    points, drawn = curve_points(run), []
    for curve, (title, xlabel, ylabel, scale, reference) in CURVES.items():
        found = [p for p in points if p.curve == curve]
        if not found:
            continue
        rounds = max(p.rounds for p in found)
        with _figure(figsize=(7, 4.2), dpi=110) as (fig, ax):
            for method in sorted({p.method for p in found}, key=lambda m: (m != reference, m)):
                line = sorted((p for p in found if p.method == method), key=lambda p: p.x)
                ax.errorbar([p.x for p in line], [p.median * scale for p in line],
                            yerr=[[(p.median - p.low) * scale for p in line],
                                  [(p.high - p.median) * scale for p in line]],
                            marker="o", capsize=3, label=method,
                            linestyle="--" if method == reference else "-")
            ax.set_xscale("log", base=2 if max(p.x for p in found) <= 8 else 10)
            ax.set(xticks=sorted({p.x for p in found}), xlabel=xlabel, ylabel=ylabel)
            ax.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
            ax.set_title(f"{title} ({rounds} rounds, 95% interval)", fontsize=10)
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=7)
            drawn.append((f"{CURVE_PREFIX}{curve}", _png(fig)))
    return drawn
