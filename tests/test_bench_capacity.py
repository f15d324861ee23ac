"""UDP capacity search, the A/A resolution and CPU per GB, on recorded data (no lab).

The paths below replay iperf3 UDP results recorded in the lab (offered rate ->
received rate and loss), so the search meets what it meets there.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from harness.bench import capacity, procstat, verdict
from harness.bench.capacity import Capacity, Step, next_rate, resume_rate, search
from harness.bench.stats import Interval, RatioSummary, distance
from harness.bench.summary import PerfCost, PerformanceSummary, PerfResolution
from harness.bench.throughput import FIXED_RATE, NATIVE, Probe, Sample, costs, ratios
from harness.results.schema import Measurement, Run


def path(limit: float, sender: float = 100e9, loss_above: float = 40.0
         ) -> Callable[[float], Step]:
    """A path that delivers up to ``limit`` bit/s without loss and drops the excess
    (``loss_above`` percent at least); the sender cannot offer more than ``sender``."""
    def measure(rate: float) -> Step:
        sent = min(rate, sender)
        if sent <= limit:
            return Step(rate, sent, 0.0, int(sent / 16))
        return Step(rate, limit, max(loss_above, 100 * (1 - limit / sent)), int(limit / 16))
    return measure


def summary(median: float, low: float, high: float, rounds: int = 5) -> RatioSummary:
    return RatioSummary(median, low, high, rounds, (median,) * rounds)


# --- capacity search -----------------------------------------------------------------

def test_a_fast_path_is_searched_above_the_fixed_offer() -> None:
    # Native on the lab: about 2 Gbit/s without loss, 1 Gbit/s was the fixed offer.
    found = search(path(2.2e9), 1e9, steps=5, factor=2.0)
    assert found.bits_per_second is not None and found.bits_per_second > 1e9
    assert found.saturated
    assert [s.offered for s in found.steps][:3] == [1e9, 2e9, 4e9]


def test_a_slow_path_is_found_below_the_fixed_offer() -> None:
    # slirp4netns: 1 Gbit/s offered, 180 Mbit/s delivered with heavy loss.
    found = search(path(180e6), 1e9, steps=5, factor=2.0)
    assert found.steps[1].offered == pytest.approx(180e6)  # the receiver's rate as a hint
    assert found.bits_per_second == pytest.approx(180e6)
    assert found.saturated


def test_a_lossy_path_is_searched_down_beyond_the_bound_until_a_rate_passes() -> None:
    # pasta inbound in a --quick run: 2% loss down to 250 Mbit/s with 3 steps allowed.
    def lossy(rate: float) -> Step:
        return Step(rate, rate * 0.98, 2.0) if rate > 40e6 else Step(rate, rate, 0.0)
    found = search(lossy, 1e9, steps=3, factor=2.0)
    assert found.bits_per_second is not None and found.bits_per_second <= 40e6
    assert 3 < len(found.steps) <= 3 + capacity.DOWNWARD_EXTRA


def test_a_path_that_never_passes_stops_at_the_extra_bound() -> None:
    found = search(lambda rate: Step(rate, rate * 0.9, 10.0), 1e9, steps=3, factor=2.0)
    assert found.bits_per_second is None
    assert len(found.steps) == 3 + capacity.DOWNWARD_EXTRA


def test_a_sender_that_falls_short_ends_the_search() -> None:
    # Recorded: -b 3G delivered 1579 Mbit/s with 0% loss: the sender was the limit.
    measure = path(10e9, sender=1.579e9)
    found = search(measure, 3e9, steps=5, factor=2.0)
    assert len(found.steps) == 1 and found.saturated
    assert found.bits_per_second == pytest.approx(1.579e9)


def test_a_capacity_not_reached_is_flagged_as_limited_by_the_offer() -> None:
    found = search(path(50e9), 1e9, steps=2, factor=2.0)
    assert found.bits_per_second == pytest.approx(2e9)
    assert not found.saturated


def test_bisection_stops_within_the_precision() -> None:
    steps = [Step(1e9, 1e9, 0.0), Step(2e9, 1.3e9, 30.0)]
    assert next_rate(steps, factor=2.0) == pytest.approx(math.sqrt(2) * 1e9)
    close = [Step(1e9, 1e9, 0.0), Step(1.05e9, 1.0e9, 4.0)]
    assert next_rate(close, factor=2.0) is None


def test_the_search_never_offers_more_than_factor_times_a_passing_rate() -> None:
    """slirp4netns' control connection: no flood far above what the path passed."""
    found = search(path(300e6), 1e9, steps=6, factor=2.0)
    for i, step in enumerate(found.steps[1:], start=1):
        passed = [s.offered for s in found.steps[:i] if s.passes()]
        assert step.offered <= 2.0 * max([*passed, 1e9])


def test_recorded_steps_of_a_lab_run() -> None:
    # host, inbound-reverse (quick run): 1G passed, 2G lost 0.85% (under 1%).
    found = Capacity((Step(1e9, 981e6, 0.0), Step(2e9, 1241e6, 0.85)))
    assert found.bits_per_second == pytest.approx(1241e6)
    assert found.saturated  # 1241 of 2000 offered: the sender or path fell short
    lossy = Capacity((Step(1e9, 464e6, 53.6), Step(464e6, 429e6, 14.0)))
    assert lossy.bits_per_second is None and not lossy.saturated
    assert resume_rate(lossy, 1e9, 1.25) == pytest.approx(429e6 / 1.25)
    assert resume_rate(found, 1e9, 1.25) == 2e9


def test_step_round_trips_through_the_record() -> None:
    step = Step(1e9, 9.9e8, 0.2, 62_000_000, 0.01)
    assert Step.from_dict(step.as_dict()) == step
    record = Capacity((step,)).as_dict()
    assert record["capacity_offered"] == 1e9 and record["loss_limit"] == capacity.LOSS_LIMIT


# --- A/A resolution --------------------------------------------------------------------

def test_resolution_is_the_widest_a_a_distance_from_one() -> None:
    # Recorded host/native ratios of a default run (20261128T133649Z).
    aa = {"inbound/tcp": summary(1.027, 0.634, 1.389),
          "inbound/udp": summary(1.068, 0.818, 1.307),
          "inbound-reverse/tcp": summary(1.032, 0.856, 1.271)}
    found = PerfResolution.of(aa)
    assert found is not None
    assert found.value == pytest.approx(0.389)
    assert found.per_combo["inbound/udp"] == pytest.approx(0.307)
    assert PerfResolution.of({}) is None
    assert distance(summary(0.8, 0.78, 0.83)) == pytest.approx(0.22)  # a biased control


def test_resolution_round_trips_and_reads_leniently() -> None:
    found = PerfResolution.of({"inbound/tcp": summary(1.0, 0.95, 1.08)},
                              {"inbound/tcp": summary(1.1, 0.9, 1.3)})
    assert found is not None and found.cpu == pytest.approx(0.3)
    assert PerfResolution.from_dict(found.to_dict()) == found
    assert PerfResolution.from_dict({"value": "wide"}) is None
    assert PerfResolution.from_dict(None) is None


def test_native_verdict_leaves_a_slowdown_within_the_resolution_open() -> None:
    slightly = {"inbound/tcp": summary(0.8, 0.75, 0.85)}
    assert verdict.native(slightly).observed is False
    result = verdict.native(slightly, resolution=0.3)
    assert result.observed is None and "resolution" in result.reason
    assert verdict.native({"inbound/tcp": summary(0.4, 0.35, 0.45)},
                          resolution=0.3).observed is False


def test_improvement_must_exceed_the_resolution() -> None:
    better = {"inbound/tcp": summary(1.15, 1.1, 1.2)}
    assert verdict.improves(better).observed is True
    assert verdict.improves(better, resolution=0.25).observed is None


# --- CPU per GB ------------------------------------------------------------------------

CPU_STAT = "usage_usec 4293455\nuser_usec 2552793\nsystem_usec 1740662\nnice_usec 0\n"
PROC = ("100\n"
        "812 (pasta.avx2) S 1 812 812 0 -1 4194560 1 0 0 0 150 50 0 0 20 0 1 0 1 1 1\n")


def test_usage_reads_the_cgroup_and_the_forwarders() -> None:
    usage = procstat.parse_usage(f"{CPU_STAT}{procstat.SEPARATOR}\n{PROC}")
    assert usage.cgroup_seconds == pytest.approx(4.293455)
    assert usage.forwarders == {812: ("pasta", 2.0)}
    # Not a lab of its own: the cgroup would be the machine's, so it is not read.
    assert procstat.parse_usage(f"{CPU_STAT}{procstat.SEPARATOR}\n{PROC}",
                                own_cgroup=False).cgroup_seconds is None
    assert procstat.parse_usage(PROC).forwarders == {812: ("pasta", 2.0)}


def test_lab_cpu_per_gigabyte() -> None:
    before = procstat.Usage({}, 4.0)
    after = procstat.Usage({}, 5.5)
    spent = procstat.cgroup_delta(before, after)
    assert spent == pytest.approx(1.5)
    assert procstat.per_gigabyte(spent, 3_000_000_000) == pytest.approx(0.5)
    assert procstat.cgroup_delta(before, procstat.Usage({}, None)) is None
    assert procstat.per_gigabyte(None, 10) is None


def cost_sample(method: str, round_no: int, forwarder: float, lab: float,
                protocol: str = "tcp") -> Measurement:
    return Measurement("throughput", method, 1e9, "bit/s", "inbound", protocol, round_no,
                       {"forwarder_cpu_seconds_per_gb": forwarder,
                        "lab_cpu_seconds_per_gb": lab})


def dummy(method: str, protocol: str = "tcp") -> Probe:
    return Probe(method, "inbound", protocol, "iperf3", NATIVE, lambda s: Sample(0.0, 0))


def test_costs_have_intervals_over_rounds_and_a_ratio_to_native() -> None:
    samples = [cost_sample(NATIVE, r, 0.0, 0.5) for r in (1, 2, 3)]
    samples += [cost_sample("pasta", r, v, 2 * v + 0.5) for r, v in ((1, 0.4), (2, 0.5),
                                                                      (3, 0.6))]
    found = {c.method: c for c in costs(samples, [dummy(NATIVE), dummy("pasta")])}
    pasta = found["pasta"]
    assert pasta.forwarder is not None and pasta.forwarder.median == pytest.approx(0.5)
    assert pasta.forwarder.low <= 0.5 <= pasta.forwarder.high
    assert pasta.lab is not None and pasta.lab.median == pytest.approx(1.5)
    assert pasta.lab_ratio is not None and pasta.lab_ratio.median == pytest.approx(3.0)
    assert found[NATIVE].lab_ratio is None
    assert PerfCost.from_dict(pasta.to_dict()) == pasta


def test_fixed_rate_is_a_second_labelled_ratio() -> None:
    samples = []
    for r in (1, 2, 3):
        samples += [Measurement("throughput", NATIVE, 2e9, "bit/s", "inbound", "udp", r),
                    Measurement("throughput", "pasta", 1e9, "bit/s", "inbound", "udp", r,
                                {"saturated": True}),
                    Measurement(FIXED_RATE, NATIVE, 1e9, "bit/s", "inbound", "udp", r),
                    Measurement(FIXED_RATE, "pasta", 0.9e9, "bit/s", "inbound", "udp", r)]
    probes = [dummy(NATIVE, "udp"), dummy("pasta", "udp")]
    (capacity_ratio,) = ratios(samples, probes)
    (fixed_ratio,) = ratios(samples, probes, kind=FIXED_RATE)
    assert capacity_ratio.summary.median == pytest.approx(0.5)
    assert capacity_ratio.to_dict()["kind"] == "throughput"
    assert fixed_ratio.summary.median == pytest.approx(0.9)
    assert fixed_ratio.to_dict()["kind"] == FIXED_RATE
    # Only the method's searches carry the flag here.
    assert capacity_ratio.saturated_share == 1.0
    samples[0].extra["saturated"] = False
    assert ratios(samples, probes)[0].saturated_share == pytest.approx(3 / 4)


def test_run_record_keeps_the_resolution() -> None:
    run = Run("r", 0.0, summaries={"performance": {"resolution": {"value": 0.12}}})
    found = PerformanceSummary.of(run).resolution
    assert found is not None and found.value == 0.12
    assert PerformanceSummary.of(Run("r", 0.0)).resolution is None


def test_compare_and_agree_default_to_the_runs_resolution() -> None:
    from harness.reports.compare import DEFAULT_TOLERANCE, run_tolerance

    def with_resolution(value: float | None) -> Run:
        perf = {"resolution": {"value": value}} if value is not None else {}
        return Run("r", 0.0, summaries={"performance": perf})

    assert run_tolerance(with_resolution(0.12), with_resolution(0.2)) == pytest.approx(0.2)
    assert run_tolerance(with_resolution(0.12), with_resolution(None)) == pytest.approx(0.12)
    assert run_tolerance(with_resolution(None), with_resolution(None)) == DEFAULT_TOLERANCE
    assert run_tolerance(with_resolution(0.12), with_resolution(0.2), 0.05) == 0.05


def test_every_report_states_the_resolution_and_the_cost_table() -> None:
    from harness.markup import to_markdown
    from harness.reports.perf import blocks

    def performance_lines(summary: PerformanceSummary) -> list[str]:
        return to_markdown(blocks(summary))

    summary = {"ratios": [{"method": "pasta", "direction": "inbound", "protocol": "udp",
                           "median": 0.5, "low": 0.4, "high": 0.6}],
               "resolution": {"value": 0.123},
               "costs": [PerfCost("pasta", "inbound", "tcp",
                                  lab=Interval(0.7, 0.6, 0.8, 5)).to_dict()]}
    text = "\n".join(performance_lines(PerformanceSummary.from_dict(summary)))
    assert "Resolution of this run: 12.3%" in text
    assert "UDP capacity" in text
    assert "| pasta | inbound | tcp |  | 0.7 [0.6, 0.8] |" in text
    without = "\n".join(performance_lines(
        PerformanceSummary.from_dict({"ratios": summary["ratios"]})))
    assert "Resolution: none" in without


def test_each_combination_is_judged_with_its_own_resolution() -> None:
    assert verdict.resolution_of({"inbound/tcp": 0.1, "outbound/tcp": 0.3}, "x/y") == 0.3


def test_the_report_states_native_udp_capacity_against_the_fixed_offer() -> None:
    from harness.reports.perf import reference_capacity_text

    def native(round_no: int, value: float, saturated: bool) -> Measurement:
        return Measurement("throughput", NATIVE, value, "bit/s", "inbound", "udp", round_no,
                           {"search": [], "saturated": saturated})

    text = reference_capacity_text([native(1, 1.9e9, True), native(2, 2.1e9, False),
                                     native(0, 9e9, True)])
    assert text is not None
    assert "inbound 2.00 Gbit/s (2 rounds)" in text  # the warm-up (round 0) left out
    assert "1 of 2 of native's searches" in text
    assert reference_capacity_text([]) is None


def test_a_rate_whose_test_ended_without_a_result_fails_and_the_search_goes_below_it() -> None:
    """slirp4netns under a 1 Gbit/s flood resets iperf3's control connection: that rate
    was not carried; the search goes on below it instead of losing the measurement."""
    def measure(rate: float) -> Step:
        if rate > 300e6:
            return Step.failed(rate, "iperf3: unable to receive control message: "
                                     "Connection reset by peer")
        return Step(rate, rate, 0.0)

    found = search(measure, 1e9, steps=3, factor=2.0)
    assert found.steps[0].error and not found.steps[0].passes()
    assert found.steps[1].offered == 500e6  # below the failed rate, not at the floor
    assert found.bits_per_second is not None and found.bits_per_second <= 300e6
    assert Step.from_dict(found.steps[0].as_dict()) == found.steps[0]
    assert "error" not in found.steps[-1].as_dict()


def _udp_json(rate: float) -> str:
    import json
    received = {"seconds": 0.5, "bytes": int(rate / 16), "bits_per_second": rate,
                "lost_percent": 0.0, "jitter_ms": 0.01}
    return json.dumps({"start": {"test_start": {"protocol": "UDP", "reverse": 1}},
                       "end": {"sum_received": received, "sum_sent": received}})


def test_a_reset_control_connection_loses_neither_the_probe_nor_its_capacity() -> None:
    """The fixed 1 Gbit/s test and the search's first step both lose iperf3's control
    connection (slirp4netns, reverse UDP): the fixed-rate figure is missing with its
    reason, the capacity is found below the failed rate."""
    from harness.bench.throughput import UdpCapacity

    def argv(seconds: float, *, rate: float = 1e9, window: str | None = None) -> list[str]:
        return [str(rate)]

    def run(argv: list[str], timeout: float) -> str:
        if float(argv[0]) > 300e6:
            return '{"error": "unable to receive control message: Connection reset by peer"}'
        return _udp_json(float(argv[0]))

    sample = UdpCapacity(run, argv)(1)
    assert sample.fixed_rate is None
    assert "Connection reset by peer" in sample.extra["fixed_rate_error"]
    assert 0 < sample.bits_per_second <= 300e6
    assert "Connection reset by peer" in sample.extra["search"][0]["error"]
