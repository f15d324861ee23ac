"""Bar charts of the benchmark, with interval bars, one panel per direction: throughput
ratio to native, and CPU cost per gigabyte moved.

Both are drawn on a log scale with each bar's value printed above it, so that a ratio
of 0.002 of native is as visible as one of 0.9.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import atomic
from harness.bench.throughput import Ratio

PROTOCOL_COLOURS = {"tcp": "#4878a8", "udp": "#e08a3c"}


@dataclass(frozen=True)
class Bar:
    """One bar: a median and its interval, for a method in a direction and protocol."""

    method: str
    direction: str
    protocol: str
    median: float
    low: float
    high: float


def value_label(value: float) -> str:
    """Two significant digits: 0.0021, 0.93, 1.2, 35."""
    return f"{value:.2g}"


def _draw(bars: Sequence[Bar], *, ylabel: str, title: str, line: float | None) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directions = sorted({b.direction for b in bars})
    fig, axes = plt.subplots(len(directions), 1, squeeze=False,
                             figsize=(10, 3.0 * max(1, len(directions))))
    positive = [v for b in bars for v in (b.low, b.median) if v > 0]
    bottom = min(positive, default=1.0) / 3
    top = max((max(b.high, b.median) for b in bars), default=1.0) * 4
    try:
        for ax, direction in zip(axes[:, 0], directions, strict=True):
            _panel(ax, [b for b in bars if b.direction == direction], bottom)
            if line is not None:
                ax.axhline(line, color="black", linewidth=0.8, linestyle="--")
            ax.set_yscale("log")
            ax.set_ylim(bottom, top)
            ax.set_ylabel(ylabel)
            ax.set_title(direction, fontsize=10)
            # Beside the panel, where it hides no bar and no printed value.
            ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        if title:
            fig.suptitle(title, fontsize=11)
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=110)
        return out.getvalue()
    finally:
        plt.close(fig)


def _panel(ax: Any, rows: Sequence[Bar], bottom: float) -> None:
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


def ratio_chart(ratios: Sequence[Ratio], path: Path, title: str = "") -> Path:
    bars = [Bar(r.method, r.direction, r.protocol, r.summary.median, r.summary.low,
                r.summary.high) for r in ratios]
    png = _draw(bars, ylabel="ratio to native (log scale)", title=title, line=1.0)
    return atomic.write_bytes(path, png)


def cost_chart(bars: Sequence[Bar], title: str) -> bytes | None:
    """CPU seconds per gigabyte moved; None without bars."""
    if not bars:
        return None
    return _draw(bars, ylabel="CPU seconds per GB (log scale)", title=title, line=None)
