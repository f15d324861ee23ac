"""Cost curves: points with intervals and ratios to native at the same point, their
record and their rows in the report (no lab needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.bench import curves
from harness.reports.markdown import render
from harness.reports.perf import cost_curve_rows
from harness.results.schema import Measurement, Run


def streams(method: str, round_no: int, streams: int, rate: float, **extra: object
            ) -> Measurement:
    return Measurement(curves.STREAMS_KIND, method, rate, "bit/s", "inbound", "tcp", round_no,
                       {"x": streams, **extra})


def ports(method: str, round_no: int, count: int, seconds: float, **extra: object
          ) -> Measurement:
    return Measurement(curves.PORTS_KIND, method, seconds, "s", "inbound", "tcp", round_no,
                       {"x": count, **extra})


SAMPLES = [
    *(streams("native", r, s, 10e9 * f) for r, f in ((1, 1.0), (2, 0.5), (3, 0.8))
      for s in (1, 4)),
    *(streams("pasta", r, 1, 3e9 * f, forwarder_cpu_seconds_per_gb=0.5)
      for r, f in ((1, 1.0), (2, 0.5), (3, 0.8))),
    *(streams("pasta", r, 4, 6e9 * f) for r, f in ((1, 1.0), (2, 0.5), (3, 0.8))),
    streams("pasta", 4, 4, float("nan"), error="iperf3: the server is busy"),
    *(ports("pasta", r, n, 0.5 + n / 1000) for r in (1, 2, 3) for n in (1, 1000)),
]


def test_a_ratio_is_to_native_at_the_same_point_and_round() -> None:
    found = {(p.method, p.x): p for p in curves.points(SAMPLES, curves.STREAMS_KIND,
                                                        "streams", "bit/s")}
    # The load of each round moves both; the ratio of the same round does not.
    assert found[("pasta", 1)].ratio == pytest.approx((0.3, 0.3, 0.3))
    assert found[("pasta", 4)].ratio == pytest.approx((0.6, 0.6, 0.6))
    assert found[("pasta", 1)].cpu_seconds_per_gb == pytest.approx(0.5)
    # The failed measurement is not a point of the curve.
    assert found[("pasta", 4)].rounds == 3
    assert found[("native", 1)].ratio is None


def test_a_curve_without_native_has_no_ratio() -> None:
    found = curves.points(SAMPLES, curves.PORTS_KIND, "ports", "s")
    assert [(p.method, p.x, p.ratio) for p in found] == [("pasta", 1, None),
                                                         ("pasta", 1000, None)]
    assert found[1].median == pytest.approx(1.5)


def test_points_round_trip_and_bad_entries() -> None:
    for point in curves.points(SAMPLES, curves.STREAMS_KIND, "streams", "bit/s"):
        assert curves.Point.from_dict(point.to_dict()) == point
    assert curves.Point.from_dict({"curve": "streams"}) is None
    assert curves.Point.from_dict("nonsense") is None


def test_the_report_shows_every_point(tmp_path: Path) -> None:
    points = curves.points(SAMPLES, curves.STREAMS_KIND, "streams", "bit/s") + \
        curves.points(SAMPLES, curves.PORTS_KIND, "ports", "s")
    run = Run("20261207T000000Z-abcdef", 0.0, summaries={
        "cost_curves": {"points": [p.to_dict() for p in points] + [{"bad": 1}]}})
    rows = cost_curve_rows(run)
    assert len(rows) == len(points) == 6
    assert ["streams", "pasta", "1", "2.4", "[1.5, 3]", "0.3 [0.3, 0.3]", "3", "0.5"] in rows
    assert "## Cost curves" in render(run, [])
    run.summaries["cost_curves"]["reference"] = {"problems": ["pasta ran above native"]}
    assert "⚠ The streams curve's native reference is in doubt" in render(run, [])
    assert cost_curve_rows(Run("x", 0.0)) == []
    drawn = curves.chart(points[:4], tmp_path / "c.png", title="t", xlabel="x", ylabel="y")
    assert drawn.read_bytes().startswith(b"\x89PNG")
