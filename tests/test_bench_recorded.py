"""The throughput benchmark's questions on recorded runs cut to its default base
rounds (3; tests/fixtures/throughput/record.py): a quiet one (load 0.1 to 4.3), a
busy one (load 17 to 27, other work taking 80% to 95% of the CPU) and one beside two
CPU-bound loops (busy-loops: load 12.7 to 14.7, 3 base rounds of the default run).
Each decides every native-performance question and the ordering after the base rounds,
so a default run needs no extra round; and the wrong worlds, a reading that saw
nothing, readings blind to the forwarders, a forwarder in some rounds, a slowdown
beyond the reference's own noise, must not come out native."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from harness.bench import decide, verdict
from harness.bench.throughput import (
    INBOUND_DIRECTIONS,
    OUTBOUND_DIRECTIONS,
    Probe,
    Sample,
    ratios,
)
from harness.results.schema import Measurement

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "throughput"
WORLDS = ("quiet", "busy", "busy-loops")
#: The guide's native-performance column (inbound overview, outbound table).
NATIVE = {("socket-activation-user", INBOUND_DIRECTIONS): True,
          ("socket-activation-system", ("inbound",)): True,
          ("host", INBOUND_DIRECTIONS): True,
          ("pasta", INBOUND_DIRECTIONS): False,
          ("pasta-custom-network", INBOUND_DIRECTIONS): False,
          ("slirp4netns-slirp4netns", INBOUND_DIRECTIONS): False,
          ("slirp4netns-rootlesskit", INBOUND_DIRECTIONS): False,
          ("host", OUTBOUND_DIRECTIONS): True,
          ("pasta", OUTBOUND_DIRECTIONS): False,
          ("slirp4netns-slirp4netns", OUTBOUND_DIRECTIONS): False}
ORDER = ["pasta", "slirp4netns-rootlesskit", "slirp4netns-slirp4netns"]
QUESTIONS = decide.Questions(list(NATIVE), [ORDER])


def load(world: str) -> list[Measurement]:
    data = json.loads((FIXTURES / f"{world}.json").read_text())
    return [Measurement(**m) for m in data["measurements"]]


def probes(samples: list[Measurement]) -> list[Probe]:
    keys = {(m.method, m.direction, m.protocol, m.extra["tool"], m.extra["reference"])
            for m in samples}
    return [Probe(*key, lambda seconds: Sample(1.0, 1)) for key in sorted(keys)]


def native(samples: list[Measurement], method: str, directions: tuple[str, ...]
           ) -> verdict.Verdict:
    return decide.native_verdict(samples, ratios(samples, probes(samples)), method,
                                 directions, QUESTIONS)


def blank(samples: list[Measurement], method: str, round_no: int,
          **extra: object) -> list[Measurement]:
    """``samples`` with the readings around ``method``'s measurements of ``round_no``
    (every round for 0) replaced by ``extra``'s forwarder figures."""
    changed = copy.deepcopy(samples)
    for m in changed:
        if m.method == method and round_no in (0, m.round):
            for key in ("forwarder_cpu_seconds", "forwarder_bytes", "forwarder_byte_share"):
                m.extra.pop(key, None)
            m.extra.update(extra)
    return changed


@pytest.mark.parametrize("world", WORLDS)
def test_the_base_rounds_decide_every_question_as_recorded(world: str) -> None:
    samples = load(world)
    assert {m.round for m in samples} == {1, 2, 3}
    for (method, directions), expected in NATIVE.items():
        found = native(samples, method, directions)
        assert found.observed is expected, (method, directions, found.reason)
    order = decide.order_verdict(samples, ORDER, QUESTIONS)
    # pasta's stall from the container to host2 reverses the guide's first pair.
    assert order.decisive and order.observed != ORDER, order.reason
    assert "inbound-reverse/tcp: pasta > slirp4netns-rootlesskit" in order.reason
    assert decide.open_keys(samples, probes(samples), QUESTIONS) == set()


@pytest.mark.parametrize("world", WORLDS)
def test_a_reading_that_saw_nothing_is_missing_evidence(world: str) -> None:
    """The reading's command printed nothing in one round (no process, no /proc/PID/io):
    that round is not "untouched". The question stays open and gets an extra round."""
    samples = blank(load(world), "host", 2, forwarder_cpu_seconds={})
    found = native(samples, "host", INBOUND_DIRECTIONS)
    assert found.observed is None and "fewer than 3 rounds" in found.reason
    assert ("host", "inbound", "tcp") in decide.open_keys(samples, probes(samples), QUESTIONS)


@pytest.mark.parametrize("world", WORLDS)
def test_readings_blind_to_the_forwarders_decide_nothing_native(world: str) -> None:
    """No reading finds a forwarder (renamed, or in a process namespace the reading
    cannot see): every path reads as untouched, pasta's too. Without a positive control
    none may come out native; "not native" by a slowdown still stands."""
    samples = load(world)
    for method in {m.method for m in samples}:
        samples = blank(samples, method, 0, forwarder_cpu_seconds={},
                        forwarder_byte_share=0.0)
    for (method, directions), expected in NATIVE.items():
        found = native(samples, method, directions)
        assert found.observed is not True, (method, found.reason)
        if found.observed is None and expected:
            assert "no positive control" in found.reason


@pytest.mark.parametrize("world", WORLDS)
@pytest.mark.parametrize("carried_in", [(2,), (1, 3)])
def test_a_forwarder_on_the_native_path_contradicts_native(world: str,
                                                           carried_in: tuple[int, ...]) -> None:
    """A reading shows pasta carrying host's bytes in one round (inconclusive) or in
    most (not native): never native."""
    samples = load(world)
    for round_no in carried_in:
        samples = blank(samples, "host", round_no, forwarder_cpu_seconds={"pasta": 0.9},
                        forwarder_byte_share=1.0)
    found = native(samples, "host", INBOUND_DIRECTIONS)
    assert found.observed is (None if len(carried_in) == 1 else False), found.reason


@pytest.mark.parametrize("world", WORLDS)
def test_without_forwarder_figures_throughput_alone_shows_no_native_path(world: str) -> None:
    samples = blank(load(world), "host", 0)
    assert decide.carriage(samples, "host", INBOUND_DIRECTIONS, ("tcp",)) == {
        "inbound/tcp": [], "inbound-reverse/tcp": []}
    near = verdict.Verdict(True, "every interval at or above 0.9")
    assert decide.without_forwarders(near).observed is None
    slower = verdict.Verdict(False, "interval wholly below 0.9")
    assert decide.without_forwarders(slower) is slower


def test_a_slowdown_within_the_references_own_noise_is_not_told_from_it() -> None:
    """busy-loops: socket activation (user) at 0.60 [0.43, 0.63] of its native sink,
    wholly below 1 - the host A/A resolution (0.29), but the native sink's own two
    measurements per round were 1.38 [1.26, 1.65] apart: the slowdown is within the
    noise of the denominator, and the untouched path is native. Halved (0.21 to 0.31),
    it is slower than that noise allows: not native."""
    samples = load("busy-loops")
    host_aa = {"inbound/tcp": 0.289}
    found = decide.native_verdict(samples, ratios(samples, probes(samples)),
                                  "socket-activation-user",
                                  ("inbound",), QUESTIONS, resolution=host_aa)
    assert found.observed is True, found.reason
    assert "the reference's own 0.647" in found.detail["inbound/tcp resolution"]
    slowed = copy.deepcopy(samples)
    for m in slowed:
        if m.method == "socket-activation-user":
            m.value /= 2
    found = decide.native_verdict(slowed, ratios(slowed, probes(slowed)),
                                  "socket-activation-user",
                                  ("inbound",), QUESTIONS, resolution=host_aa)
    assert found.observed is False and "slower than native" in found.reason
