"""Cost curves: points with intervals and ratios to native at the same point, their
record and their rows in the report (no lab needed)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from harness.bench import curves, procstat
from harness.reports.charts import curve_charts
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
    assert "![cost curve: streams](cost-curve-streams.png)" in render(run, [])
    drawn = dict(curve_charts(run))
    assert sorted(drawn) == ["cost-curve-ports", "cost-curve-streams"]
    assert all(png.startswith(b"\x89PNG") for png in drawn.values())
    assert curve_charts(Run("x", 0.0)) == []


PROC_STAT = (Path(__file__).parent / "fixtures" / "curves" / "proc-stat.txt").read_text()
HTTPGET_LINES = (Path(__file__).parent / "fixtures" / "curves" / "httpget-4-clients.txt"
                 ).read_text()


def test_forwarder_memory_from_recorded_proc_stat() -> None:
    rss = procstat.parse_rss(PROC_STAT)
    assert set(rss) == {"pasta", "slirp4netns", "rootlessport", "conmon"}
    assert all(1e6 < v < 1e9 for v in rss.values())
    # pasta.avx2 counts as pasta; systemd and podman are not forwarders
    assert rss["pasta"] == sum(int(line.split(") ")[1].split()[21]) * 4096
                               for line in PROC_STAT.splitlines() if "(pasta" in line)


def test_wrong_world_no_page_size_no_memory() -> None:
    assert procstat.parse_rss(PROC_STAT.split("\n", 1)[1]) == {}


def test_connection_rate_from_recorded_clients() -> None:
    rate, extra = curves.connection_rate(HTTPGET_LINES)
    assert extra["clients"] == 4 and "error" not in extra and rate > 0
    busiest = max(sum(json.loads(line)["seconds"]) for line in HTTPGET_LINES.splitlines())
    assert rate == pytest.approx(extra["requests"] / busiest)


def test_wrong_world_a_failed_client_makes_no_rate() -> None:
    lines = HTTPGET_LINES.splitlines()
    failed = json.loads(lines[0])
    failed["error"] = "ConnectionRefusedError: [Errno 111] Connection refused"
    rate, extra = curves.connection_rate("\n".join([json.dumps(failed), *lines[1:]]))
    assert math.isnan(rate) and "refused" in extra["error"]


def test_wrong_world_an_error_status_makes_no_rate() -> None:
    line = json.loads(HTTPGET_LINES.splitlines()[0])
    line["statuses"][0] = 502
    rate, extra = curves.connection_rate(json.dumps(line))
    assert math.isnan(rate) and extra["error"] == "statuses [502]"
    assert math.isnan(curves.connection_rate("")[0])


def test_connection_points_are_over_the_host_reference() -> None:
    samples = [Measurement(curves.CONNECTIONS_KIND, m, v * (1 if m == "host" else 0.5),
                           "conn/s", "inbound", "tcp", r, {"x": 1})
               for r, v in ((1, 100.0), (2, 120.0), (3, 90.0)) for m in ("host", "pasta")]
    found = {p.method: p for p in curves.points(samples, curves.CONNECTIONS_KIND,
                                                "connections", "conn/s",
                                                reference=curves.HOST)}
    assert found["host"].ratio is None
    assert found["pasta"].ratio is not None and found["pasta"].ratio[0] == pytest.approx(0.5)


def test_the_quick_plan_keeps_a_curve_of_every_kind() -> None:
    """--quick measures fewer points, each of them a point of a default run, and at least
    two per curve (its start and one that shows the growth)."""
    quick, full = curves.QUICK.to_dict(), curves.FULL.to_dict()
    assert quick.keys() == full.keys()
    for curve, xs in quick.items():
        assert len(xs) >= 2 and set(xs) <= set(full[curve]), curve
        assert xs[0] == full[curve][0], curve
    assert sum(map(len, quick.values())) < sum(map(len, full.values()))
