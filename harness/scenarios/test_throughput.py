"""The guide's performance claims, from throughput relative to native.

One module fixture sets up a receiver for every method (an iperf3 server in a
container per podman-run method, the sink behind a .socket unit for socket
activation, native references as plain processes on host1 and an iperf3 server on
host2 for outbound), measures in rounds interleaved across methods (order shuffled
each round, after a warm-up) and compares each method with the native reference of
the same round. The tests then decide each claim from the ratios' intervals.

Socket activation is measured with a bulk TCP transfer to the sink (iperf3 cannot be
socket-activated), against the same sink run natively; UDP is not measured for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from harness.bench import verdict
from harness.bench.chart import ratio_chart
from harness.bench.schedule import Settings, run_rounds
from harness.bench.servers import MTU_VARIANT, bench_servers
from harness.bench.stats import RatioSummary
from harness.bench.throughput import INBOUND_DIRECTIONS, Probe, Ratio, plan, ratios, variant_ratios
from harness.claims import Claim, load_default
from harness.clients.base import Client
from harness.methods import Method, all_methods
from harness.requirements import Capabilities
from harness.results.recorder import Recorder
from harness.results.schema import Measurement
from harness.targets.base import Target

pytestmark = [pytest.mark.lab, pytest.mark.throughput]

REGISTRY = load_default()
NATIVE_CLAIMS = REGISTRY.select("native_performance")
ORDER_CLAIMS = REGISTRY.select("performance_order")
MTU_CLAIMS = REGISTRY.select("mtu_improves_performance")
CHART = "throughput-ratio.png"
VERDICT_WORDS = {True: "holds", False: "contradicted"}


@dataclass
class Bench:
    probes: list[Probe]
    samples: list[Measurement]
    ratios: list[Ratio]
    settings: Settings
    summary: dict[str, Any]

    def for_method(self, method: str, directions: tuple[str, ...]) -> dict[str, RatioSummary]:
        return {r.combo: r.summary for r in self.ratios
                if r.method == method and r.direction in directions}


def _inbound_methods(capabilities: Capabilities) -> list[Method]:
    methods = []
    for claim in REGISTRY.select("native_performance", table="inbound-overview"):
        method = all_methods()[claim.method or ""]
        if not capabilities.first_missing(method.requires):
            methods.append(method)
    return methods


@pytest.fixture(scope="module")
def bench(target: Target, client: Client, capabilities: Capabilities, recorder: Recorder,
          pytestconfig: pytest.Config, environment: dict[str, Any]) -> Bench:
    opt = pytestconfig.getoption
    settings = Settings.from_options(opt("--rounds"), opt("--duration"), opt("--quick"),
                                     opt("--budget"))
    samples: list[Measurement] = []

    def record(sample: Measurement) -> None:
        samples.append(sample)
        recorder.measure(sample)

    with bench_servers(target, client, _inbound_methods(capabilities)) as ends:
        probes = plan(target, client, ends)
        round_sizes = run_rounds(target, probes, settings, record)
    found = ratios(samples, probes)
    summary: dict[str, Any] = {
        "settings": {**settings.as_dict(), "rounds_run": len(round_sizes),
                     "probes_per_round": round_sizes,
                     "interval": "95% bootstrap of the median",
                     "native_tolerance": verdict.NATIVE_TOLERANCE,
                     "improvement_margin": verdict.IMPROVEMENT_MARGIN,
                     "min_rounds_for_verdict": verdict.MIN_ROUNDS},
        "ratios": [r.as_dict() for r in found],
        "errors": [{"method": m.method, "direction": m.direction, "protocol": m.protocol,
                    "round": m.round, "error": m.extra["error"]}
                   for m in samples if "error" in m.extra],
        "verdicts": {},
    }
    if found:
        chart = ratio_chart(found, recorder.directory / CHART,
                            f"throughput ratio to native ({_rounds_text(settings, round_sizes)} of "
                            f"{settings.seconds} s, 95% interval)")
        summary["chart"] = chart.name
    recorder.run.summaries["performance"] = summary
    return Bench(probes, samples, found, settings, summary)


def _rounds_text(settings: Settings, sizes: list[int]) -> str:
    extra = len(sizes) - settings.rounds
    return f"{settings.rounds} rounds" + (f" + {extra} for imprecise ratios" if extra else "")


def _decide(claim: Claim, result: verdict.Verdict, bench: Bench, recorder: Recorder,
            **evidence: Any) -> None:
    """Record the verdict; an inconclusive one is recorded as skipped, never as passed."""
    word = VERDICT_WORDS.get(result.observed == claim.expected) if result.decisive else None
    bench.summary["verdicts"][claim.id] = {
        "verdict": word or "inconclusive", "expected": claim.expected,
        "observed": result.observed, "reason": result.reason, "detail": result.detail}
    if not result.decisive:
        recorder.skip(claim, result.reason)
        pytest.skip(result.reason)
    recorder.check(claim, result.observed,
                   evidence={"reason": result.reason, **result.detail, **evidence})


def _claim_params(claims: list[Claim]) -> list[Any]:
    methods = all_methods()
    return [pytest.param(c, id=c.id.replace(".native-performance", ""),
                         marks=[getattr(pytest.mark, f) for f in
                                (methods[c.method].families if c.method in methods else ())])
            for c in claims]


def test_every_method_measured(bench: Bench) -> None:
    """Every probe (method x direction x protocol) has a ratio to native."""
    have = {(r.method, r.direction, r.protocol) for r in bench.ratios}
    wanted = {p.key for p in bench.probes if p.method != p.reference}
    missing = sorted(wanted - have)
    errors = bench.summary["errors"]
    assert not missing, f"no ratio for {missing}; errors: {errors[:5]}"


@pytest.mark.parametrize("claim", _claim_params(NATIVE_CLAIMS))
def test_native_performance(claim: Claim, bench: Bench, recorder: Recorder,
                            applicable: Any) -> None:
    method = all_methods()[claim.method or ""]
    applicable(claim, method)
    directions = tuple(claim.extra.get("directions", INBOUND_DIRECTIONS))
    summaries = bench.for_method(method.id, directions)
    tolerance = float(claim.extra.get("tolerance", verdict.NATIVE_TOLERANCE))
    _decide(claim, verdict.native(summaries, tolerance=tolerance), bench, recorder)


@pytest.mark.parametrize("claim", _claim_params(ORDER_CLAIMS))
def test_performance_order(claim: Claim, bench: Bench, recorder: Recorder,
                           applicable: Any) -> None:
    applicable(claim)
    per_combo: dict[str, dict[str, RatioSummary]] = {}
    for r in bench.ratios:
        if r.method in claim.expected and r.direction in INBOUND_DIRECTIONS:
            per_combo.setdefault(r.combo, {})[r.method] = r.summary
    _decide(claim, verdict.order(claim.expected, per_combo), bench, recorder)


@pytest.mark.parametrize("claim", _claim_params(MTU_CLAIMS))
def test_pasta_mtu(claim: Claim, bench: Bench, recorder: Recorder, applicable: Any) -> None:
    method = all_methods()[claim.method or ""]
    applicable(claim, method)
    combos = [(d, p) for d in claim.extra.get("directions", INBOUND_DIRECTIONS)
              for p in (claim.protocols or ("tcp",))]
    summaries = variant_ratios(bench.samples, MTU_VARIANT, method.id, combos)
    _decide(claim, verdict.improves(summaries), bench, recorder,
            variant=MTU_VARIANT, baseline=method.id)
