"""Bar chart of throughput ratio to native, with interval bars, one panel per direction."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from harness.bench.throughput import Ratio

PROTOCOL_COLOURS = {"tcp": "#4878a8", "udp": "#e08a3c"}


def ratio_chart(ratios: Sequence[Ratio], path: Path, title: str = "") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directions = sorted({r.direction for r in ratios})
    fig, axes = plt.subplots(len(directions), 1, squeeze=False,
                             figsize=(10, 2.8 * max(1, len(directions))))
    for ax, direction in zip(axes[:, 0], directions, strict=True):
        rows = [r for r in ratios if r.direction == direction]
        methods = sorted({r.method for r in rows})
        protocols = sorted({r.protocol for r in rows})
        width = 0.8 / max(1, len(protocols))
        for i, protocol in enumerate(protocols):
            xs: list[float] = []
            medians: list[float] = []
            errs: list[list[float]] = [[], []]
            for j, method in enumerate(methods):
                match = [r for r in rows if r.method == method and r.protocol == protocol]
                if not match:
                    continue
                s = match[0].summary
                xs.append(j + (i - (len(protocols) - 1) / 2) * width)
                medians.append(s.median)
                errs[0].append(max(0.0, s.median - s.low))
                errs[1].append(max(0.0, s.high - s.median))
            ax.bar(xs, medians, width, yerr=errs, capsize=3, label=protocol.upper(),
                   color=PROTOCOL_COLOURS.get(protocol))
        ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
        ax.set_xticks(range(len(methods)), methods, rotation=15, ha="right", fontsize=8)
        ax.set_ylabel("ratio to native")
        ax.set_title(direction, fontsize=10)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
