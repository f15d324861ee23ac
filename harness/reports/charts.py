"""Charts of a run's samples as PNG bytes (matplotlib, no display needed)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from harness.bench.summary import PerformanceSummary
from harness.results.schema import Measurement


def _label(m: Measurement) -> str:
    extra = " ".join(p for p in (m.protocol, m.direction) if p)
    return f"{m.method}\n{extra}" if extra else m.method


def samples_chart(measurements: Sequence[Measurement], kind: str, title: str) -> bytes | None:
    """A horizontal box plot of every sample of ``kind``, one box per method/protocol/
    direction; ``None`` when the run has no such samples."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chosen = [m for m in measurements if m.kind == kind and isinstance(m.value, int | float)
              and m.value == m.value]  # failed samples are recorded as NaN
    if not chosen:
        return None
    groups: dict[str, list[float]] = {}
    for m in chosen:
        groups.setdefault(_label(m), []).append(float(m.value))
    units = sorted({m.unit for m in chosen})
    labels = list(groups)
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.55 * len(labels)), dpi=100)
    try:
        # ``vert`` is deprecated from matplotlib 3.10, ``orientation`` new in it.
        layout: dict[str, Any] = (
            {"orientation": "horizontal"} if matplotlib.__version_info__ >= (3, 10)
            else {"vert": False})
        ax.boxplot([groups[label] for label in labels], widths=0.6, **layout)
        ax.set_yticks(range(1, len(labels) + 1), labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel(" / ".join(units))
        ax.set_title(title)
        ax.grid(axis="x", alpha=0.3)
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format="png")
        return out.getvalue()
    finally:
        plt.close(fig)


def cost_png(summary: PerformanceSummary) -> bytes | None:
    """The CPU cost chart of a performance summary (``costs``, as the benchmark writes
    them): CPU seconds per GB of every process of the lab's host, or of the forwarding
    processes where a cost has only those; None when the summary has no costs."""
    from harness.bench.chart import Bar, cost_chart

    bars = []
    for cost in summary.costs:
        value = cost.lab or cost.forwarder
        if value is not None and value.median > 0:
            bars.append(Bar(cost.method, cost.direction, cost.protocol, value.median,
                            value.low, value.high))
    return cost_chart(bars, "CPU cost: CPU seconds per GB moved, all processes of the lab's "
                            "host (median over rounds, 95% interval)")
