"""The round schedule of the throughput benchmark: warm-up, base rounds, extra rounds
for imprecise ratios within the budget (fake probes, no lab)."""

from __future__ import annotations

import itertools
from collections import Counter
from types import SimpleNamespace
from typing import Any

from harness.bench.schedule import Settings, extra_round, imprecise, run_rounds, warmup_probes
from harness.bench.servers import Endpoints
from harness.bench.stats import RatioSummary
from harness.bench.throughput import NATIVE, Probe, Sample, plan
from harness.results.schema import Measurement


class NoProc:
    """A target whose /proc shows no forwarder (all measure_once asks of it)."""

    isolated = False

    def sh(self, script: str, check: bool = True) -> Any:
        return SimpleNamespace(stdout="100\n", ok=True)


def probe(method: str, values: list[float], calls: Counter[str] | None = None,
          direction: str = "inbound", protocol: str = "tcp") -> Probe:
    cycle = itertools.cycle(values)

    def measure(seconds: int) -> Sample:
        if calls is not None:
            calls[method] += 1
        return Sample(next(cycle), 1000)

    return Probe(method, direction, protocol, "iperf3", NATIVE, measure)


def summary(median: float, low: float, high: float) -> RatioSummary:
    return RatioSummary(median, low, high, 5, (median,) * 5)


def test_precise_is_relative_with_an_absolute_floor() -> None:
    s = Settings(rounds=5, seconds=1, warmup=False)
    assert s.precise(summary(0.5, 0.48, 0.52))
    assert not s.precise(summary(0.5, 0.40, 0.60))
    # Near zero, a relatively wide interval is still within 0.01 of native.
    assert s.precise(summary(0.004, 0.002, 0.012))
    assert not s.precise(summary(0.02, 0.002, 0.06))


def test_quick_has_no_extra_rounds_and_default_allows_three_times() -> None:
    quick = Settings.from_options(5, 5, quick=True)
    assert (quick.rounds, quick.seconds, quick.warmup, quick.max_rounds) == (1, 1, False, 0)
    default = Settings.from_options(5, 5, quick=False, budget=300)
    assert (default.rounds, default.seconds, default.max_rounds, default.budget) == (
        5, 2, 15, 300)


def test_without_rounds_each_benchmark_takes_its_own_default() -> None:
    assert Settings.from_options(None, 5, quick=False).rounds == 3
    assert Settings.from_options(None, 5, quick=False).max_rounds == 9
    assert Settings.from_options(None, 5, quick=False, default_rounds=5).rounds == 5
    assert Settings.from_options(4, 5, quick=False, default_rounds=5).rounds == 4


def test_udp_is_measured_when_asked_and_in_quick_runs() -> None:
    assert Settings.from_options(None, 5, quick=False).protocols == ("tcp",)
    assert Settings.from_options(None, 5, quick=False, udp=True).protocols == ("tcp", "udp")
    assert Settings.from_options(None, 5, quick=True).protocols == ("tcp", "udp")
    assert Settings.from_options(None, 5, quick=False).as_dict()["udp"] is False


def test_the_plan_measures_udp_only_when_asked() -> None:
    ends = Endpoints(iperf3={NATIVE: 5200, "pasta": 5201}, sinks={"native-sink": 5220})
    target, client = SimpleNamespace(main_address="192.0.2.1"), SimpleNamespace(
        address="198.51.100.2")
    tcp = plan(target, client, ends, protocols=("tcp",))  # type: ignore[arg-type]
    both = plan(target, client, ends)  # type: ignore[arg-type]
    assert {p.protocol for p in tcp} == {"tcp"}
    assert {p.key for p in both} - {p.key for p in tcp} == {
        (m, d, "udp") for m in (NATIVE, "pasta") for d in ("inbound", "inbound-reverse")}


def test_warmup_takes_one_probe_per_method_and_protocol() -> None:
    probes = [probe("a", [1.0], direction=d, protocol=p)
              for d in ("inbound", "inbound-reverse") for p in ("tcp", "udp")]
    assert [(p.direction, p.protocol) for p in warmup_probes(probes)] == [
        ("inbound", "tcp"), ("inbound", "udp")]


def measurements(method: str, values: list[float]) -> list[Measurement]:
    return [Measurement("throughput", method, v, "bit/s", "inbound", "tcp", i + 1)
            for i, v in enumerate(values)]


def test_imprecise_selects_wide_ratios_and_extra_rounds_add_their_reference() -> None:
    native, steady, noisy = probe(NATIVE, [1.0]), probe("steady", [1.0]), probe("noisy", [1.0])
    samples = (measurements(NATIVE, [10.0] * 5) + measurements("steady", [5.0] * 5)
               + measurements("noisy", [3.0, 7.0, 3.0, 7.0, 5.0]))
    settings = Settings(5, 1, False)
    chosen = imprecise(samples, [native, steady, noisy], settings)
    assert [p.method for p in chosen] == ["noisy"]
    assert extra_round(chosen, [native, steady, noisy], settings, room=9) == [native, noisy]


def run(probes: list[Probe], settings: Settings, tick: float = 1.0) -> list[int]:
    now = itertools.count(step=tick)
    return run_rounds(NoProc(), probes, settings, lambda m: None,  # type: ignore[arg-type]
                      seed=1, clock=lambda: float(next(now)))


def test_extra_rounds_go_to_noisy_probes_until_max_rounds() -> None:
    calls: Counter[str] = Counter()
    probes = [probe(NATIVE, [10.0], calls), probe("steady", [5.0], calls),
              probe("noisy", [3.0, 7.0, 3.5, 6.5], calls)]
    sizes = run(probes, Settings(rounds=3, seconds=1, warmup=True, max_rounds=6,
                                 budget=10_000))
    assert sizes == [3, 3, 3, 2, 2, 2]
    # warm-up (1 each) + 3 base rounds + 3 extra rounds for noisy and its reference
    assert calls == {NATIVE: 7, "steady": 4, "noisy": 7}


def test_with_questions_extra_rounds_go_only_to_the_open_ones() -> None:
    """The noisy probe's ratio is imprecise, but no question needs it: no extra round;
    while a question on it is open, extra rounds measure it (with its reference) and
    nothing else."""
    calls: Counter[str] = Counter()
    probes = [probe(NATIVE, [10.0], calls), probe("steady", [5.0], calls),
              probe("noisy", [3.0, 7.0, 3.5, 6.5], calls)]
    settings = Settings(rounds=3, seconds=1, warmup=False, max_rounds=6, budget=10_000)
    now = itertools.count()

    def rounds(open_keys: set[tuple[str, str, str]]) -> list[int]:
        return run_rounds(NoProc(), probes, settings, lambda m: None,  # type: ignore[arg-type]
                          seed=1, clock=lambda: float(next(now)),
                          open_questions=lambda done: open_keys)

    assert rounds(set()) == [3, 3, 3]
    calls.clear()
    assert rounds({("steady", "inbound", "tcp")}) == [3, 3, 3, 2, 2, 2]
    assert calls == {NATIVE: 6, "steady": 6, "noisy": 3}


def test_budget_stops_extra_rounds_and_never_cuts_base_rounds() -> None:
    probes = [probe(NATIVE, [10.0]), probe("noisy", [3.0, 7.0, 3.5, 6.5])]
    tight = Settings(rounds=3, seconds=1, warmup=False, max_rounds=6, budget=1)
    assert run(probes, tight) == [2, 2, 2]


def test_all_precise_needs_no_extra_round() -> None:
    probes = [probe(NATIVE, [10.0]), probe("steady", [5.0])]
    assert run(probes, Settings(rounds=2, seconds=1, warmup=False, max_rounds=9,
                                budget=10_000)) == [2, 2]


def test_references_are_measured_repeatedly_and_their_round_median_is_used() -> None:
    from harness.bench.throughput import ratios

    calls: Counter[str] = Counter()
    probes = [probe(NATIVE, [8.0, 12.0], calls), probe("pasta", [5.0], calls)]
    kept: list[Measurement] = []
    run_rounds(NoProc(), probes,  # type: ignore[arg-type]
               Settings(rounds=3, seconds=1, warmup=False, reference_repeats=2), kept.append,
               seed=1)
    assert calls == {NATIVE: 6, "pasta": 3}
    (ratio,) = ratios(kept, probes)
    assert ratio.summary.ratios == (0.5, 0.5, 0.5)  # 5 / median(8, 12) every round


def test_an_extra_round_takes_the_widest_ratios_that_fit_the_time_left() -> None:
    native, udp_native = probe(NATIVE, [10.0]), probe(NATIVE, [1.0], protocol="udp")
    a, b = probe("a", [1.0]), probe("b", [1.0], protocol="udp")
    probes = [native, udp_native, a, b]
    settings = Settings(rounds=5, seconds=1, warmup=False, reference_repeats=2)
    # a (tcp) is the widest; room for a + native twice, not also b + udp native twice.
    assert extra_round([a, b], probes, settings, room=4) == [native, a]
    assert extra_round([a, b], probes, settings, room=6) == probes
    assert extra_round([a, b], probes, settings, room=2) == []


def test_imprecise_ranks_by_how_far_the_interval_is_from_accepted() -> None:
    native = probe(NATIVE, [1.0])
    probes = [native, probe("slightly", [1.0]), probe("very", [1.0])]
    samples = (measurements(NATIVE, [10.0] * 5)
               + measurements("slightly", [4.6, 5.4, 4.6, 5.4, 5.0])
               + measurements("very", [2.0, 8.0, 2.0, 8.0, 5.0]))
    ranked = imprecise(samples, probes, Settings(5, 1, False))
    assert [p.method for p in ranked] == ["very", "slightly"]
