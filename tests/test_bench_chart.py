"""Charts that show small numbers: a log scale and each bar's value printed on it, so a
ratio of 0.002 of native is visible; the CPU cost chart drawn from the run record."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from harness.bench.stats import RatioSummary
from harness.bench.summary import PerformanceSummary, PerfRatio
from harness.reports import charts as chart
from harness.reports.charts import cost_png, ratio_png, throughput_charts, value_label


def ratio(method: str, median: float, direction: str = "outbound",
          protocol: str = "tcp") -> PerfRatio:
    return PerfRatio.of(method, direction, protocol, "native",
                        RatioSummary(median, median * 0.9, median * 1.1, 5, (median,) * 5))


@pytest.mark.parametrize(("value", "text"), [(0.0021, "0.0021"), (0.93, "0.93"),
                                             (1.0, "1"), (35.2, "35")])
def test_value_label_keeps_two_significant_digits(value: float, text: str) -> None:
    assert value_label(value) == text


class Recording:
    """Stands in for the axes, to see what a panel draws."""

    def __init__(self) -> None:
        self.bars: list[tuple[list[float], list[float], float]] = []
        self.texts: list[tuple[float, float, str]] = []

    def bar(self, xs: list[float], heights: list[float], width: float, *, bottom: float,
            **kw: Any) -> None:
        self.bars.append((xs, heights, bottom))

    def text(self, x: float, y: float, text: str, **kw: Any) -> None:
        self.texts.append((x, y, text))

    def set_xticks(self, *args: Any, **kw: Any) -> None:
        pass


def test_every_bar_has_its_value_printed_above_its_interval() -> None:
    bars = [PerfRatio("pasta", "outbound", "tcp", 0.002, 0.0018, 0.0022),
            PerfRatio("host", "outbound", "tcp", 0.97, 0.9, 1.05)]
    axes = Recording()
    chart._panel(axes, bars, bottom=0.0006)
    assert [t[2] for t in axes.texts] == ["0.97", "0.002"]  # methods sorted by name
    assert [t[1] for t in axes.texts] == pytest.approx([1.05 * 1.15, 0.0022 * 1.15])
    # Bars stand on the axis' bottom, which lies below the smallest value.
    (_xs, heights, bottom), = axes.bars
    assert bottom == 0.0006 and heights == pytest.approx([0.97 - 0.0006, 0.002 - 0.0006])


def test_ratio_chart_is_a_png_on_a_log_scale(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib.axes

    scales: list[str] = []
    limits: list[tuple[float, float]] = []
    monkeypatch.setattr(matplotlib.axes.Axes, "set_yscale",
                        lambda self, s, **kw: scales.append(s))
    original = matplotlib.axes.Axes.set_ylim

    def set_ylim(self: Any, *args: Any, **kw: Any) -> Any:
        if len(args) == 2:
            limits.append(args)
        return original(self, *args, **kw)

    monkeypatch.setattr(matplotlib.axes.Axes, "set_ylim", set_ylim)
    png = ratio_png([ratio("pasta", 0.002), ratio("host", 0.97),
                     ratio("pasta", 0.8, "inbound", "udp")], "t")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert scales == ["log", "log"]  # one panel per direction
    assert all(low < 0.002 * 0.9 and high > 0.97 * 1.1 for low, high in limits)


def test_cost_chart_from_the_run_record() -> None:
    summary = {"costs": [
        {"method": "pasta", "direction": "inbound", "protocol": "tcp",
         "forwarder_cpu_seconds_per_gb": {"median": 0.4, "low": 0.3, "high": 0.5},
         "lab_cpu_seconds_per_gb": {"median": 0.9, "low": 0.8, "high": 1.0},
         "lab_ratio": None},
        {"method": "slirp4netns", "direction": "inbound", "protocol": "tcp",
         "forwarder_cpu_seconds_per_gb": {"median": 3.0, "low": 2.0, "high": 4.0}},
        {"method": "nothing", "direction": "inbound", "protocol": "tcp"},
        "unreadable"]}
    png = cost_png(PerformanceSummary.from_dict(summary))
    assert png is not None and png[:4] == b"\x89PNG"
    from PIL import Image

    assert Image.open(io.BytesIO(png)).size[0] > 500


def test_no_costs_no_chart() -> None:
    assert cost_png(PerformanceSummary.from_dict({"ratios": []})) is None
    assert cost_png(PerformanceSummary.from_dict(None)) is None
    assert throughput_charts(PerformanceSummary()) == []


def test_throughput_charts_from_the_run_record() -> None:
    """The guide's methods in one chart, a method measured on its own in its own; not
    drawn during the run but from the record, like every chart of the report."""
    summary = PerformanceSummary(
        ratios=[ratio("pasta", 0.5), ratio("host", 0.97), ratio("pesto", 0.8),
                ratio("pasta", 0.6, "inbound", "udp")], settings={"rounds": 5},
        separate=[{"methods": ["pesto"], "settings": {"rounds": 3}}])
    drawn = dict(throughput_charts(summary))
    assert sorted(drawn) == ["throughput-ratio", "throughput-ratio-pesto"]
    assert all(png[:4] == b"\x89PNG" for png in drawn.values())
