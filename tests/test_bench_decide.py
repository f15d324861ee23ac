"""Verdicts that decide on a busy machine: native performance by whether a forwarder
carried the bytes, orderings by paired ratios, the sequential design's open questions
and the machine's state per round. Each verdict has a test of the world in which it
must come out contradicted or inconclusive."""

from __future__ import annotations

import random

import pytest

from harness.bench import decide, machine, schedule, verdict
from harness.bench.stats import RatioSummary
from harness.bench.throughput import Probe, Sample, ratios
from harness.results.schema import Measurement

CARRIED = verdict.Carriage(1.0, 0.17, 0.5)          # pasta inbound, as measured
SPLICED = verdict.Carriage(3e-7, 0.17, 0.375)       # rootlessport: TCP moved by splice
STALLED = verdict.Carriage(1.9, 0.0, 0.0)           # pasta's stall: bytes, no CPU tick
UNTOUCHED = verdict.Carriage(0.0, 0.0, 0.0)         # host, socket activation
IDLE_TICK = verdict.Carriage(0.0002, 0.01, 0.007)   # another container's idle forwarder


def ratio(median: float, low: float, high: float, rounds: int = 5) -> RatioSummary:
    return RatioSummary(median, low, high, rounds, (median,) * rounds)


# --- native performance by what makes a path native ---------------------------------

@pytest.mark.parametrize("world", [CARRIED, SPLICED, STALLED])
def test_a_forwarder_that_carried_the_bytes_is_not_native(world: verdict.Carriage) -> None:
    # Even at native speed: the guide's "native" is about the path, and the ratio stays
    # the measured figure beside.
    found = verdict.native_path({"inbound/tcp": [world] * 5},
                                {"inbound/tcp": ratio(1.0, 0.95, 1.05)})
    assert found.observed is False and "carried" in found.reason


def test_an_untouched_path_at_native_speed_is_native() -> None:
    # A busy machine's wide interval (the A/A control reached 0.59 in a recorded run)
    # does not keep an untouched path from being decided native.
    found = verdict.native_path({"inbound/tcp": [UNTOUCHED, IDLE_TICK] * 3},
                                {"inbound/tcp": ratio(0.97, 0.59, 1.3)}, resolution=0.41)
    assert found.observed is True


def test_an_untouched_path_that_is_slower_contradicts_native() -> None:
    # Wrong world: no forwarder, but the transfer is slower than native beyond the
    # margin and the resolution (a container's CPU limit, say): not native.
    found = verdict.native_path({"inbound/tcp": [UNTOUCHED] * 5},
                                {"inbound/tcp": ratio(0.5, 0.45, 0.55)}, resolution=0.2)
    assert found.observed is False and "slower than native" in found.reason
    # Within the resolution it is not told from noise, and native holds.
    assert verdict.native_path({"inbound/tcp": [UNTOUCHED] * 5},
                               {"inbound/tcp": ratio(0.75, 0.7, 0.85)},
                               resolution=0.35).observed is True


def test_a_forwarder_in_some_rounds_only_is_inconclusive() -> None:
    found = verdict.native_path({"inbound/tcp": [UNTOUCHED, UNTOUCHED, CARRIED, UNTOUCHED]},
                                {"inbound/tcp": ratio(1.0, 0.9, 1.1)})
    assert found.observed is None and "some rounds" in found.reason


def test_native_needs_rounds_and_figures() -> None:
    assert verdict.native_path({"inbound/tcp": [UNTOUCHED] * 2}, {}).observed is None
    assert verdict.native_path({"inbound/tcp": []}, {}).observed is None
    assert verdict.native_path({}, {}).observed is None


def test_every_direction_must_be_untouched() -> None:
    found = verdict.native_path({"inbound/tcp": [UNTOUCHED] * 3,
                                 "inbound-reverse/tcp": [CARRIED] * 3}, {})
    assert found.observed is False and "inbound-reverse/tcp" in found.reason


# --- orderings by paired ratios --------------------------------------------------------

def rounds(values: list[float]) -> dict[int, float]:
    return {i: v for i, v in enumerate(values, 1)}


def test_an_ordering_in_order_holds_however_noisy_the_reference() -> None:
    # Both move with the round's contention; their ratio does not.
    load = [1.0, 0.4, 0.8, 0.3, 0.9, 0.5]
    per_combo = {"inbound/tcp": {"a": rounds([3.0 * f for f in load]),
                                 "b": rounds([2.0 * f for f in load]),
                                 "c": rounds([1.0 * f for f in load])}}
    found = verdict.order_paired(["a", "b", "c"], per_combo)
    assert found.observed == ["a", "b", "c"]


def test_a_reversed_pair_contradicts_the_ordering() -> None:
    per_combo = {"inbound/tcp": {"a": rounds([3.0, 3.1, 2.9, 3.0]),
                                 "b": rounds([2.0, 2.1, 1.9, 2.0])},
                 "inbound-reverse/tcp": {"a": rounds([0.004, 0.008, 0.002, 0.005]),
                                         "b": rounds([0.3, 0.35, 0.28, 0.31])}}
    found = verdict.order_paired(["a", "b"], per_combo)
    assert found.decisive and found.observed == ["b", "a"]
    assert "inbound-reverse/tcp: a > b" in found.reason


def test_a_pair_whose_interval_contains_1_is_open() -> None:
    per_combo = {"inbound/tcp": {"a": rounds([1.0, 1.2, 0.9, 1.1, 0.95]),
                                 "b": rounds([1.05, 1.0, 1.0, 1.0, 1.0])}}
    found = verdict.order_paired(["a", "b"], per_combo)
    assert found.observed is None and "contains 1" in found.reason


def test_costs_order_the_cheapest_first() -> None:
    per_combo = {"inbound/tcp": {"cheap": rounds([0.5, 0.6, 0.4, 0.5]),
                                 "dear": rounds([0.9, 1.0, 0.8, 1.1])}}
    assert verdict.order_paired(["cheap", "dear"], per_combo,
                                higher_is_better=False).observed == ["cheap", "dear"]
    assert verdict.order_paired(["dear", "cheap"], per_combo,
                                higher_is_better=False).observed == ["cheap", "dear"]


def test_a_stricter_level_can_leave_a_pair_open() -> None:
    per_combo = {"inbound/tcp": {"a": rounds([1.1, 1.3, 1.05, 1.2, 1.15, 0.97]),
                                 "b": rounds([1.0] * 6)}}
    assert verdict.order_paired(["a", "b"], per_combo).observed == ["a", "b"]
    assert verdict.order_paired(["a", "b"], per_combo, level=0.999).observed is None


# --- the run's questions and the sequential design -----------------------------------

def measurement(method: str, round_no: int, rate: float, carriage: verdict.Carriage,
                direction: str = "inbound") -> Measurement:
    nbytes = int(rate * 2 / 8)
    return Measurement("throughput", method, rate, "bit/s", direction, "tcp", round_no,
                       {"cpu_bytes": nbytes, "forwarder_byte_share": carriage.share,
                        "forwarder_cpu_seconds": {"pasta": carriage.cpu_seconds,
                                                  "conmon": 0.5}})


def probe(method: str, direction: str = "inbound") -> Probe:
    return Probe(method, direction, "tcp", "iperf3", "native",
                 lambda seconds: Sample(1.0, 1))


PROBES = [probe("native"), probe("host"), probe("pasta"), probe("slirp")]
QUESTIONS = decide.Questions([("host", ("inbound",)), ("pasta", ("inbound",))],
                             [["pasta", "slirp"]], order_directions=("inbound",))


def run(rates: dict[str, list[float]]) -> list[Measurement]:
    how = {"native": UNTOUCHED, "host": UNTOUCHED, "pasta": CARRIED, "slirp": CARRIED}
    return [measurement(m, i, r, how[m]) for m, values in rates.items()
            for i, r in enumerate(values, 1)]


def test_conmon_is_not_a_network_forwarder() -> None:
    # Recorded: conmon's CPU does not make a path carried.
    samples = run({"native": [1e10] * 3, "host": [1e10] * 3, "pasta": [3e9] * 3})
    assert decide.native_verdict(samples, ratios(samples, PROBES), "host", ("inbound",),
                                 QUESTIONS).observed


def test_untouched_needs_a_forwarder_seen_carrying_in_the_same_run() -> None:
    # Wrong world: no reading of the run saw any forwarder carry bytes, so "untouched"
    # could be a reading blind to them.
    samples = run({"native": [1e10] * 3, "host": [1e10] * 3})
    found = decide.native_verdict(samples, ratios(samples, PROBES), "host", ("inbound",),
                                  QUESTIONS)
    assert found.observed is None and "no positive control" in found.reason


def test_open_questions_are_those_not_decided() -> None:
    decided = run({"native": [10e9] * 3, "host": [10e9] * 3, "pasta": [3e9, 3.2e9, 2.9e9],
                   "slirp": [1e9, 1.1e9, 0.9e9]})
    assert decide.open_keys(decided, PROBES, QUESTIONS) == set()
    close = run({"native": [10e9] * 3, "host": [10e9] * 3, "pasta": [1e9, 1.2e9, 0.9e9],
                 "slirp": [1.1e9, 1e9, 1e9]})
    assert decide.open_keys(close, PROBES, QUESTIONS) == {("pasta", "inbound", "tcp"),
                                                          ("slirp", "inbound", "tcp")}
    few = run({"native": [10e9] * 2, "host": [10e9] * 2, "pasta": [3e9] * 2,
               "slirp": [1e9] * 2})
    assert ("host", "inbound", "tcp") in decide.open_keys(few, PROBES, QUESTIONS)


def test_each_look_makes_the_level_stricter() -> None:
    looks = decide.Looks()
    samples = run({"native": [10e9] * 3, "host": [10e9] * 3, "pasta": [1e9, 1.2e9, 0.9e9],
                   "slirp": [1.1e9, 1e9, 1e9]})
    for _ in range(3):
        decide.open_questions(samples, PROBES, QUESTIONS, looks)
    assert looks.open_counts == [2, 2, 2]
    assert looks.level == pytest.approx(1 - 0.05 / 3)
    assert looks.to_dict()["looks"] == 3


def test_extra_rounds_go_to_open_questions_first() -> None:
    settings = schedule.Settings(rounds=3, seconds=1, warmup=False)
    samples = run({"native": [10e9] * 3, "host": [10e9] * 3, "pasta": [3e9] * 3,
                   "slirp": [1e9] * 3})
    chosen = schedule.candidates(samples, PROBES, settings,
                                 lambda done: {("slirp", "inbound", "tcp")})
    assert chosen[0].method == "slirp"
    assert schedule.candidates(samples, PROBES, settings, None) == []


def test_a_sequential_run_stops_when_decided_or_at_its_bound() -> None:
    """A simulated run: the ordering's two methods differ by 5%; the design adds rounds
    while the pair is open, and the bound ends it; it never reports the pair reversed."""
    rng = random.Random(7)
    decided_at = []
    for trial in range(20):
        samples: list[Measurement] = []
        for r in range(1, 16):
            load = rng.uniform(0.3, 1.0)
            samples += [measurement("pasta", r, 1.05e9 * load * rng.gauss(1, 0.05), CARRIED),
                        measurement("slirp", r, 1.0e9 * load * rng.gauss(1, 0.05), CARRIED)]
            if r < 5:
                continue
            level = decide.Looks([0] * (r - 4)).level
            found = decide.order_verdict(samples, ["pasta", "slirp"], QUESTIONS, level=level)
            assert found.observed in (None, ["pasta", "slirp"]), (trial, r, found.reason)
            if found.decisive:
                decided_at.append(r)
                break
    assert decided_at, "a 5% difference with 5% noise is decided within 15 rounds"


# --- the machine ----------------------------------------------------------------------

def test_busy_rounds_are_marked() -> None:
    def at(round_no: int, outside: float) -> Measurement:
        return Measurement("throughput", "native", 1.0, "bit/s", "inbound", "tcp", round_no,
                           {"machine": {"load1": 3.0, "lab_share": 0.3,
                                        "outside_share": outside, "irq_share": 0.05,
                                        "steal_share": 0.0}})
    found = machine.summary([at(1, 0.05), at(1, 0.1), at(2, 0.9), at(2, 0.6), at(0, 0.9)])
    assert found["busy_rounds"] == [2]
    assert [r["round"] for r in found["rounds"]] == [1, 2]
    assert found["rounds"][0]["outside_share"] == pytest.approx(0.075)
