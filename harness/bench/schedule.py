"""When each throughput probe runs: a warm-up, the base rounds, then extra rounds while
the time budget lasts: for the probes of the questions still open where the benchmark
has questions (the sequential design of :mod:`harness.bench.decide`), otherwise for the
probes whose ratio is still imprecise.

Every round measures its probes in a new random order and always includes the
reference of each probe, so that a ratio is only ever taken within one round. A
reference is the denominator of every method's ratio in its round, so its noise would
move all of them together: each round measures it :attr:`Settings.reference_repeats`
times, at random places in the round, and uses the median.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from harness.bench import capacity
from harness.bench.progress import Report, Tracker, silent
from harness.bench.stats import RatioSummary
from harness.bench.throughput import Probe, measure_once, ratios
from harness.probes import iperf3
from harness.results.schema import Measurement
from harness.targets.base import Target

#: A ratio is precise enough when half its interval is within this share of the median...
PRECISION = 0.05
#: ...or within this many units of native (ratios near zero cannot be relatively precise).
FLOOR = 0.01
#: Measurements of each reference per round (default runs; --quick measures once).
REFERENCE_REPEATS = 2
#: Default seconds for warm-up and rounds together (extra rounds stop when it is spent).
BUDGET = 510.0
#: Default base rounds of the throughput benchmark: the fewest a verdict takes
#: (verdict.MIN_ROUNDS); extra rounds go to the questions still open after them.
ROUNDS = 3


@dataclass(frozen=True)
class Settings:
    rounds: int
    #: Seconds of traffic per measurement (iperf3 takes whole seconds).
    seconds: int
    warmup: bool
    #: Upper limit of rounds for a probe, base rounds included.
    max_rounds: int = 0
    #: Seconds that warm-up and all rounds may take; extra rounds start only within it.
    budget: float = 0.0
    reference_repeats: int = 1
    #: Steps of a UDP probe's first capacity search and of each round's.
    udp_steps: tuple[int, int] = (capacity.FIRST_STEPS, capacity.ROUND_STEPS)
    #: Whether UDP capacity is measured (reported, judged by no verdict).
    udp: bool = False

    @classmethod
    def from_options(cls, rounds: int | None, duration: float, quick: bool,
                     budget: float = BUDGET, *, default_rounds: int = ROUNDS,
                     udp: bool = False) -> Settings:
        """``rounds`` None: ``default_rounds``. ``--quick`` measures UDP whatever
        ``udp`` says: it checks that every path runs."""
        if quick:
            return cls(rounds=1, seconds=1, warmup=False, udp_steps=(3, 1), udp=True)
        rounds = max(1, default_rounds if rounds is None else rounds)
        # Each measurement gets half of --duration (5 s by default).
        return cls(rounds=rounds, seconds=max(1, int(duration) // 2), warmup=True,
                   max_rounds=3 * rounds, budget=max(0.0, budget),
                   reference_repeats=REFERENCE_REPEATS, udp=udp)

    @property
    def protocols(self) -> tuple[str, ...]:
        """The protocols of the inbound probes."""
        return ("tcp", "udp") if self.udp else ("tcp",)

    def excess(self, summary: RatioSummary) -> float:
        """Half the interval over the half-width accepted; 1 or less is precise."""
        accepted = max(PRECISION * abs(summary.median), FLOOR)
        return (summary.high - summary.low) / 2 / accepted

    def precise(self, summary: RatioSummary) -> bool:
        return self.excess(summary) <= 1

    def as_dict(self) -> dict[str, object]:
        return {"rounds": self.rounds, "max_rounds": self.max_rounds or self.rounds,
                "seconds_per_measurement": self.seconds, "warmup": self.warmup,
                "budget_seconds": self.budget, "precision": PRECISION,
                "precision_floor": FLOOR,
                "reference_repeats": self.reference_repeats, "udp": self.udp,
                "udp_capacity": {"first_steps": self.udp_steps[0],
                                 "round_steps": self.udp_steps[1],
                                 "step_seconds": capacity.STEP_SECONDS,
                                 "loss_limit_percent": capacity.LOSS_LIMIT,
                                 "fixed_offered_bits_per_second": iperf3.UDP_OFFERED_RATE}}


def warmup_probes(probes: Iterable[Probe]) -> list[Probe]:
    """One probe per (method, protocol): the first connection through each forwarder
    and port is what a warm-up is for."""
    seen: dict[tuple[str, str], Probe] = {}
    for probe in probes:
        seen.setdefault((probe.method, probe.protocol), probe)
    return list(seen.values())


def prime(probes: Iterable[Probe]) -> None:
    """Connect once to every socket-activated receiver, so that its start is not
    measured."""
    for probe in probes:
        if probe.tool == "bulk":
            probe.measure(0)


def imprecise(samples: list[Measurement], probes: list[Probe], settings: Settings
              ) -> list[Probe]:
    """Probes whose ratio interval is wider than the settings accept, widest (relative
    to what is accepted) first."""
    excess = {(r.method, r.direction, r.protocol): settings.excess(r.summary)
              for r in ratios(samples, probes) if not settings.precise(r.summary)}
    wide = [p for p in probes if p.key in excess]
    return sorted(wide, key=lambda p: -excess[p.key])


def extra_round(candidates: list[Probe], probes: list[Probe], settings: Settings,
                room: int) -> list[Probe]:
    """The most imprecise candidates whose measurements, with their references (each
    measured ``reference_repeats`` times), fit in ``room`` measurements; in plan order."""
    chosen: list[Probe] = []
    references: set[tuple[str, str, str]] = set()
    for probe in candidates:
        ref = probe.key_for(probe.reference)
        cost = len(chosen) + 1 + len(references | {ref}) * settings.reference_repeats
        if cost <= room:
            chosen.append(probe)
            references.add(ref)
    keys = {p.key for p in chosen} | references
    return [p for p in probes if p.key in keys]


def round_plan(todo: list[Probe], settings: Settings) -> list[Probe]:
    """The measurements of one round of ``todo``: each reference
    ``settings.reference_repeats`` times, except UDP references (a UDP measurement is a
    capacity search of several tests already, see :mod:`harness.bench.capacity`)."""
    references = {p.reference for p in todo}
    return todo + [p for p in todo if p.method in references and p.protocol != "udp"] * (
        settings.reference_repeats - 1)


#: The probes of the questions a run has not decided yet (see harness/bench/decide.py).
OpenQuestions = Callable[[list[Measurement]], set[tuple[str, str, str]]]


def candidates(samples: list[Measurement], probes: list[Probe], settings: Settings,
               open_questions: OpenQuestions | None) -> list[Probe]:
    """The probes an extra round is for: with questions, those of the questions not
    decided yet (plan order), and none once all are: a ratio no verdict needs gets no
    extra round of a run's time. Without questions, the imprecise ones (widest first)."""
    if open_questions is None:
        return imprecise(samples, probes, settings)
    undecided = open_questions(samples)
    return [p for p in probes if p.key in undecided]


def run_rounds(target: Target, probes: list[Probe], settings: Settings,
               record: Callable[[Measurement], None], seed: int | None = None,
               clock: Callable[[], float] = time.monotonic, report: Report = silent,
               after_seconds: float = 0.0, open_questions: OpenQuestions | None = None
               ) -> list[int]:
    """Measure; returns how many measurements each round took (round 1 first).

    ``report`` hears of each measurement before it starts, with an estimate of the time
    left; ``after_seconds`` (what the caller spends after the rounds) counts in the
    estimate's upper bound. After the base rounds, extra rounds measure the probes of
    ``open_questions`` (or, without questions, the imprecise ones) until none is left,
    the rounds reach ``settings.max_rounds`` or the budget is spent: a sequential design
    that repeats until decided or a bound."""
    rng = random.Random(seed)
    started = clock()
    warmup = warmup_probes(probes) if settings.warmup else []
    track = Tracker(report, settings.rounds,
                    len(warmup) + settings.rounds * len(round_plan(probes, settings)),
                    settings.budget + after_seconds, clock)
    prime(probes)
    for probe in rng.sample(warmup, len(warmup)):
        track.measuring("warm-up", 0, probe.method, probe.combo)
        measure_once(target, probe, 1, 0)
    samples: list[Measurement] = []
    sizes: list[int] = []

    def one_round(todo: list[Probe]) -> None:
        todo = round_plan(todo, settings)
        sizes.append(len(todo))
        phase = "round" if len(sizes) <= settings.rounds else "extra round"
        if phase == "extra round":
            track.add(len(todo))
        for probe in rng.sample(todo, len(todo)):
            track.measuring(phase, len(sizes), probe.method, probe.combo)
            for sample in measure_once(target, probe, settings.seconds, len(sizes)):
                samples.append(sample)
                record(sample)

    for _ in range(settings.rounds):
        one_round(probes)
    per_probe = (clock() - started) / max(1, sum(sizes))
    while len(sizes) < settings.max_rounds:
        room = int((settings.budget - (clock() - started)) / per_probe)
        todo = extra_round(candidates(samples, probes, settings, open_questions), probes,
                           settings, room)
        if not todo:
            break
        one_round(todo)
    return sizes
