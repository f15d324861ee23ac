"""The guide's performance claims, from throughput relative to native.

One module fixture sets up a receiver for every method (an iperf3 server in a
container per podman-run method, the sink behind a .socket unit for socket
activation, native references as plain processes on host1 and an iperf3 server on
host2 for outbound), measures in rounds interleaved across methods (order shuffled
each round, after a warm-up) and compares each method with the native reference of
the same round. The tests then decide each claim from the ratios' intervals.

Socket activation is measured with a bulk TCP transfer to the sink (iperf3 cannot be
socket-activated), against the same sink run natively; UDP is not measured for it.

A method beyond the guide whose containers.conf settings apply to every custom network of
the user (podman 6's pasta port forwarder) is measured on its own, in rounds of its own
against the native reference, with its settings in place; its ratios join the run's
performance summary.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from harness import network_settings
from harness.bench import decide, evidence, machine, reference, verdict
from harness.bench.progress import BenchProgress, Report, finished, silent, starting
from harness.bench.schedule import Settings, run_rounds
from harness.bench.servers import MTU_VARIANT, bench_servers
from harness.bench.stats import RatioSummary
from harness.bench.summary import (
    AA_METHOD,
    PerfCost,
    PerformanceSummary,
    PerfRatio,
    PerfResolution,
    publish,
)
from harness.bench.throughput import (
    FIXED_RATE,
    INBOUND_DIRECTIONS,
    Probe,
    costs,
    detect,
    plan,
    ratios,
    variant_ratios,
)
from harness.capabilities import Capabilities
from harness.claims import Claim, load_default
from harness.clients.base import Client
from harness.methods import Method, all_methods
from harness.results.recorder import Recorder
from harness.results.schema import Measurement
from harness.targets.base import Target

pytestmark = [pytest.mark.lab, pytest.mark.throughput]

REGISTRY = load_default()
#: The guide's claims first: a claim beyond the guide is measured on its own, afterwards.
NATIVE_CLAIMS = sorted(REGISTRY.select("native_performance"), key=lambda c: c.beyond_guide)
ORDER_CLAIMS = REGISTRY.select("performance_order")
MTU_CLAIMS = REGISTRY.select("mtu_improves_performance")
#: Protocols whose ratios the verdicts rest on: those that repeat between runs. Three
#: back-to-back default runs repeated TCP throughput and CPU per GB ratios far better
#: than the UDP capacity (docs/benchmarks.md, "Repeatability"); UDP is measured with
#: --udp (and --quick) and reported, not judged.
JUDGED_PROTOCOLS = ("tcp",)
VERDICT_WORDS = {True: "holds", False: "contradicted"}


@dataclass
class Bench:
    probes: list[Probe]
    samples: list[Measurement]
    ratios: list[PerfRatio]
    settings: Settings
    summary: PerformanceSummary
    costs: list[PerfCost]
    resolution: PerfResolution | None
    questions: decide.Questions
    looks: decide.Looks

    @property
    def tolerance(self) -> verdict.Resolution:
        """The run's resolution by combination (0 without an A/A control)."""
        if self.resolution is None:
            return 0.0
        return self.resolution.per_combo or self.resolution.value

    def for_method(self, method: str, directions: tuple[str, ...]) -> dict[str, RatioSummary]:
        return {r.combo: r.summary for r in self.ratios
                if r.method == method and r.direction in directions
                and r.protocol in JUDGED_PROTOCOLS}


def _inbound_methods(capabilities: Capabilities) -> list[Method]:
    """The methods of the guide's overview the target has (measured together)."""
    methods = []
    for claim in REGISTRY.select("native_performance", table="inbound-overview"):
        method = all_methods()[claim.method or ""]
        if not capabilities.first_missing(method.requires):
            methods.append(method)
    return methods


def _questions(methods: list[Method]) -> decide.Questions:
    """The performance claims on ``methods``, as the run's questions."""
    ids = {m.id for m in methods}
    native = [(c.method, tuple(c.extra.get("directions", INBOUND_DIRECTIONS)))
              for c in NATIVE_CLAIMS if c.method and c.method in ids]
    orders = [list(c.expected) for c in ORDER_CLAIMS if set(c.expected) <= ids]
    return decide.Questions(native, orders, protocols=JUDGED_PROTOCOLS)


def _measure(target: Target, client: Client, recorder: Recorder, settings: Settings,
             methods: list[Method], *, mtu_variant: bool,
             separate: bool = False, report: Report = silent, evidence_budget: float = 0.0,
             evidence_for: int | None = None) -> Bench:
    samples: list[Measurement] = []
    questions, looks = _questions(methods), decide.Looks()

    def record(sample: Measurement) -> None:
        samples.append(sample)
        recorder.measure(sample)

    starting(report)
    with bench_servers(target, client, methods, mtu_variant=mtu_variant) as ends:
        probes = plan(target, client, ends, udp_steps=settings.udp_steps,
                      protocols=settings.protocols)
        setup = reference.describe(target, client)
        round_sizes = run_rounds(
            target, probes, settings, record, report=report, after_seconds=evidence_budget,
            open_questions=lambda done: decide.open_questions(done, probes, questions, looks))
        # While the receivers still run: evidence for the slow and the split ratios.
        findings = evidence.gather(target, client, ends, probes,
                                   detect(ratios(samples, probes)), samples,
                                   seconds=settings.seconds, budget=evidence_budget,
                                   directory=recorder.directory, report=report,
                                   most=evidence_for)
    finished(report)
    found = ratios(samples, probes)
    fixed = ratios(samples, probes, kind=FIXED_RATE)
    spent = costs(samples, probes)
    noise = PerfResolution.of({r.combo: r.summary for r in found if r.method == AA_METHOD},
                       {c.combo: c.lab_ratio for c in spent
                        if c.method == AA_METHOD and c.lab_ratio is not None})
    checked = reference.check(samples, found,
                              margin=verdict.NATIVE_TOLERANCE, setup=setup)
    summary = PerformanceSummary(
        settings={**settings.as_dict(), "rounds_run": len(round_sizes),
                  "probes_per_round": round_sizes,
                  "interval": "95% bootstrap of the median",
                  "native_tolerance": verdict.NATIVE_TOLERANCE,
                  "improvement_margin": verdict.IMPROVEMENT_MARGIN,
                  "min_rounds_for_verdict": verdict.MIN_ROUNDS},
        ratios=found + fixed, resolution=noise, findings=findings, costs=spent,
        errors=[{"method": m.method, "direction": m.direction, "protocol": m.protocol,
                 "round": m.round, "error": m.extra["error"]}
                for m in samples if "error" in m.extra],
        reference=checked.to_dict(), machine=machine.summary(samples),
        sequential=looks.to_dict(), native_rule=verdict.native_rule())
    published = publish(recorder.run, summary, [m.id for m in methods], separate=separate)
    return Bench(probes, samples, found, settings, published, spent, noise, questions, looks)


def _progress(pytestconfig: pytest.Config) -> dict[str, Any]:
    """How the benchmark reports its progress (the ``pytest_podnet_bench_progress`` hook)
    and how long it may gather evidence for its findings."""
    def report(progress: BenchProgress) -> None:
        pytestconfig.hook.pytest_podnet_bench_progress(progress=progress)

    quick = pytestconfig.getoption("--quick")
    return {"report": report,
            "evidence_budget": evidence.QUICK_BUDGET if quick else evidence.BUDGET,
            "evidence_for": evidence.QUICK_FINDINGS if quick else None}


def _settings(pytestconfig: pytest.Config) -> Settings:
    opt = pytestconfig.getoption
    return Settings.from_options(opt("--rounds"), opt("--duration"), opt("--quick"),
                                 opt("--budget"), udp=opt("--udp"))


@pytest.fixture(scope="module")
def bench(target: Target, client: Client, capabilities: Capabilities, recorder: Recorder,
          pytestconfig: pytest.Config, environment: dict[str, Any]) -> Bench:
    return _measure(target, client, recorder, _settings(pytestconfig),
                    _inbound_methods(capabilities), mtu_variant=True,
                    **_progress(pytestconfig))


@pytest.fixture(scope="module")
def beyond_guide_bench(target: Target, client: Client, recorder: Recorder,
                       pytestconfig: pytest.Config, environment: dict[str, Any]
                       ) -> Callable[[Method], Bench]:
    """A method beyond the guide, measured on its own with its containers.conf settings
    (they apply to every custom network of the user, so it cannot run alongside the
    guide's pasta + custom network), against the native reference of its own rounds."""
    measured: dict[str, Bench] = {}

    def measure(method: Method) -> Bench:
        if method.id not in measured:
            with network_settings.applied(target, method):
                measured[method.id] = _measure(
                    target, client, recorder, _settings(pytestconfig), [method],
                    mtu_variant=False, separate=True,
                    **_progress(pytestconfig))
        return measured[method.id]

    return measure


#: What decides each kind of verdict, and why (recorded with each verdict).
METRICS = {
    "forwarder_carriage": "whether a forwarder handled the bytes (its read/write byte "
                          "counters and CPU time against the bytes moved): which process "
                          "touches the bytes does not change with contention; the "
                          "throughput ratio must not show a slowdown beyond the margin",
    "throughput_ratio": "throughput over native's in the same round (used where no "
                        "forwarder figures were read: it shows a slowdown, not a native "
                        "path)",
    "paired_rate": "rate over the other method's in the same round: the reference "
                   "cancels, and the pair shares the round's contention",
    "paired_lab_cpu_per_gb": "the lab's CPU seconds per GB over the other method's in "
                             "the same round: the cost that repeats best between runs",
}


def _verdict_entry(claim: Claim, result: verdict.Verdict, metric: str = "") -> dict[str, Any]:
    """The summary's record of a verdict on ``claim``."""
    word = VERDICT_WORDS.get(result.observed == claim.expected) if result.decisive else None
    found = {"verdict": word or "inconclusive", "expected": claim.expected,
             "observed": result.observed, "reason": result.reason, "detail": result.detail}
    if metric:
        found |= {"metric": metric, "why_this_metric": METRICS[metric]}
    return found


def _decide(claim: Claim, result: verdict.Verdict, bench: Bench, recorder: Recorder,
            metric: str = "", **evidence: Any) -> None:
    """Record the verdict; an inconclusive one is recorded as inconclusive, never as
    passed."""
    bench.summary.verdicts[claim.id] = _verdict_entry(claim, result, metric)
    if not result.decisive:
        recorder.inconclusive(claim, result.reason,
                              evidence={"reason": result.reason, **result.detail, **evidence})
        pytest.skip(result.reason)
    recorder.check(claim, result.observed,
                   evidence={"reason": result.reason, **result.detail, **evidence})


def _claim_params(claims: list[Claim]) -> list[Any]:
    methods = all_methods()
    def marks(method: Method | None) -> list[Any]:
        families = [getattr(pytest.mark, f) for f in (method.families if method else ())]
        return families + ([pytest.mark.beyond_guide] if method and method.beyond_guide else [])

    return [pytest.param(c, id=c.id.replace(".native-performance", ""),
                         marks=marks(methods.get(c.method or "")))
            for c in claims]


def test_every_method_measured(bench: Bench) -> None:
    """Every probe (method x direction x protocol) has a ratio to native."""
    have = {(r.method, r.direction, r.protocol) for r in bench.ratios}
    wanted = {p.key for p in bench.probes if p.method != p.reference}
    missing = sorted(wanted - have)
    errors = bench.summary.errors
    assert not missing, f"no ratio for {missing}; errors: {errors[:5]}"


@pytest.mark.parametrize("claim", _claim_params(NATIVE_CLAIMS))
def test_native_performance(claim: Claim, recorder: Recorder, applicable: Any,
                            request: pytest.FixtureRequest) -> None:
    method = all_methods()[claim.method or ""]
    applicable(claim, method)
    bench: Bench = (request.getfixturevalue("beyond_guide_bench")(method)
                    if method.beyond_guide else request.getfixturevalue("bench"))
    directions = tuple(claim.extra.get("directions", INBOUND_DIRECTIONS))
    summaries = bench.for_method(method.id, directions)
    tolerance = float(claim.extra.get("tolerance", verdict.NATIVE_TOLERANCE))
    # The A/A control itself is judged without its own resolution.
    noise = 0.0 if method.id == AA_METHOD else bench.tolerance
    by_rate = verdict.native(summaries, tolerance=tolerance, resolution=noise)
    rounds = decide.carriage(bench.samples, method.id, directions, JUDGED_PROTOCOLS)
    if not rounds or not all(rounds.values()):
        _decide(claim, decide.without_forwarders(by_rate), bench, recorder,
                "throughput_ratio")
        return
    bench.summary.verdicts[f"{claim.id} (by throughput alone)"] = _verdict_entry(
        claim, by_rate, "throughput_ratio")
    _decide(claim, decide.native_verdict(bench.samples, bench.ratios, method.id, directions,
                                         bench.questions, resolution=noise),
            bench, recorder, "forwarder_carriage")


@pytest.mark.parametrize("claim", _claim_params(ORDER_CLAIMS))
def test_performance_order(claim: Claim, bench: Bench, recorder: Recorder,
                           applicable: Any) -> None:
    applicable(claim)
    level = bench.looks.level
    by_cost = decide.order_verdict(bench.samples, claim.expected, bench.questions,
                                   level=level, by_cost=True)
    bench.summary.verdicts[f"{claim.id} (by CPU cost per GB)"] = _verdict_entry(
        claim, by_cost, "paired_lab_cpu_per_gb")
    _decide(claim, decide.order_verdict(bench.samples, claim.expected, bench.questions,
                                        level=level), bench, recorder, "paired_rate")


@pytest.mark.parametrize("claim", _claim_params(MTU_CLAIMS))
def test_pasta_mtu(claim: Claim, bench: Bench, recorder: Recorder, applicable: Any) -> None:
    method = all_methods()[claim.method or ""]
    applicable(claim, method)
    combos = [(d, p) for d in claim.extra.get("directions", INBOUND_DIRECTIONS)
              for p in (claim.protocols or ("tcp",))]
    summaries = variant_ratios(bench.samples, MTU_VARIANT, method.id, combos)
    _decide(claim, verdict.improves(summaries, resolution=bench.tolerance), bench, recorder,
            variant=MTU_VARIANT, baseline=method.id)
