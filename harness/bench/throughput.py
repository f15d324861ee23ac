"""The throughput plan: one probe per (method, direction, protocol), run in rounds
interleaved across methods, order shuffled each round, each compared with the native
reference measured in the same round.

Directions: ``inbound`` (host2 sends to the server on host1), ``inbound-reverse``
(the server sends to host2, iperf3 ``-R``), ``outbound`` (a client on host1 sends to
a server on host2, "the internet") and ``outbound-reverse`` (it downloads from it).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.bench import capacity, procstat
from harness.bench.findings import SLOW, Finding
from harness.bench.servers import Endpoints
from harness.bench.stats import Measured, RatioSummary, interval, median_of, number, paired_ratios, summarize
from harness.bench.summary import PerfCost, PerfRatio
from harness.clients.base import Client
from harness.errors import PodnetError
from harness.probes import iperf3
from harness.results.schema import Measurement
from harness.targets.base import Target

BULK = Path(__file__).with_name("bulk.py")
NATIVE, NATIVE_SINK = "native", "native-sink"
INBOUND_DIRECTIONS = ("inbound", "inbound-reverse")
OUTBOUND_DIRECTIONS = ("outbound", "outbound-reverse")
#: Methods whose outbound traffic is measured, as the guide's outbound table has them.
OUTBOUND_METHODS = ("pasta", "slirp4netns-slirp4netns", "host")
#: Measurement kind of the UDP test at the fixed offered rate.
FIXED_RATE = "udp_fixed_rate"
#: The measurement's CPU seconds of the lab's host per GB moved (lower is better).
LAB_COST = "lab_cpu_seconds_per_gb"
#: Calls of a UDP probe that also run the fixed-rate test (the warm-up's first search
#: and then three rounds, the fewest a verdict takes).
FIXED_RATE_CALLS = 4


@dataclass(frozen=True)
class Sample:
    bits_per_second: float
    nbytes: int
    extra: dict[str, Any] = field(default_factory=dict)
    #: UDP: the test at the fixed offered rate, kept beside the capacity.
    fixed_rate: Sample | None = None


@dataclass(frozen=True)
class Probe(Measured):
    tool: str
    reference: str
    measure: Callable[[int], Sample]

    @property
    def key(self) -> tuple[str, str, str]:
        return self.key_for(self.method)


def _iperf3_sample(text: str) -> Sample:
    result = iperf3.parse(text)
    return Sample(result.bits_per_second, result.bytes_received, result.extra())


def iperf3_figures(text: str) -> dict[str, Any]:
    """iperf3's output as a transfer's figures (``bits_per_second`` and what
    :meth:`iperf3.Iperf3Result.extra` keeps), or ``{"error": ...}``."""
    try:
        sample = _iperf3_sample(text)
    except iperf3.Iperf3Error as exc:
        return {"error": str(exc)[:300]}
    return {"bits_per_second": sample.bits_per_second, **sample.extra}


def bulk_sample(text: str) -> Sample:
    """A bulk client's last line, ``{"bytes": N, "seconds": S, ...}``, as a sample (its
    other keys kept); ``{"error": ...}`` or no output raises."""
    lines = text.strip().splitlines()
    data = json.loads(lines[-1]) if lines else {"error": "bulk client printed nothing"}
    if "error" in data:
        raise PodnetError(f"bulk transfer: {data['error']}")
    nbytes, seconds = int(data["bytes"]), float(data["seconds"])
    return Sample(nbytes * 8 / seconds, nbytes, {**data, "bytes": nbytes, "seconds": seconds})


#: Runs an iperf3 client argv where the probe's client runs; returns its stdout.
Runner = Callable[[list[str], float], str]


class UdpCapacity:
    """The UDP measurement of one probe: a test at the fixed offered rate, then a
    capacity search that starts where the probe's previous search ended (the first
    one, from the fixed rate, takes more steps)."""

    def __init__(self, run: Runner, argv: Callable[..., list[str]],
                 steps: tuple[int, int] = (capacity.FIRST_STEPS, capacity.ROUND_STEPS)) -> None:
        self._run, self._argv, self._steps = run, argv, steps
        self._start: float | None = None
        self._calls = 0

    def _step(self, rate: float) -> capacity.Step:
        argv = self._argv(capacity.STEP_SECONDS, rate=rate, window=iperf3.UDP_CAPACITY_WINDOW)
        try:
            result = iperf3.parse(self._run(argv, capacity.STEP_SECONDS + 30))
        except PodnetError as exc:
            # slirp4netns under a flood resets iperf3's control connection: the rate
            # was not carried, and the search goes on below it.
            return capacity.Step.failed(rate, str(exc).splitlines()[0][:300])
        return capacity.Step(rate, result.bits_per_second, result.lost_percent or 0.0,
                             result.bytes_received, result.jitter_ms)

    def __call__(self, seconds: int) -> Sample:
        # The fixed-rate test in the first calls only (the warm-up's and the first
        # rounds'): enough rounds for its interval, not a cost in every round.
        self._calls += 1
        fixed, fixed_error = None, ""
        if self._calls <= FIXED_RATE_CALLS:
            try:
                fixed = _iperf3_sample(self._run(self._argv(capacity.STEP_SECONDS), 45))
            except PodnetError as exc:  # a measurement of its own: the capacity goes on
                fixed_error = str(exc).splitlines()[0][:300]
        first = self._start is None
        found = capacity.search(
            self._step, iperf3.UDP_OFFERED_RATE if self._start is None else self._start,
            steps=self._steps[0] if first else self._steps[1],
            factor=capacity.FIRST_FACTOR if first else capacity.ROUND_FACTOR)
        self._start = capacity.resume_rate(found, iperf3.UDP_OFFERED_RATE,
                                           capacity.ROUND_FACTOR)
        value = found.bits_per_second
        extra = found.as_dict() | ({"fixed_rate_error": fixed_error} if fixed_error else {})
        if value is None:
            lowest = min(s.offered for s in found.steps)
            extra["error"] = (f"UDP capacity: loss of {capacity.LOSS_LIMIT:g}% or more at "
                              f"every offered rate down to {lowest / 1e6:.0f} Mbit/s")
        return Sample(float("nan") if value is None else value, found.nbytes, extra, fixed)


#: Tries and pause when an iperf3 server is still finishing the previous test.
BUSY_TRIES, BUSY_PAUSE = 3, 0.5


def _when_not_busy(run: Callable[[], str]) -> str:
    """iperf3's output, tried again while its server says it is busy (a test that
    ended a moment ago on the client may still be closing on the server)."""
    tries = 1
    while True:
        text = run()
        try:
            iperf3.parse(text)
            return text
        except iperf3.Iperf3Error as exc:
            if "busy" not in str(exc) or tries == BUSY_TRIES:
                raise
        tries += 1
        time.sleep(BUSY_PAUSE)


def plan(target: Target, client: Client, ends: Endpoints,
         udp_steps: tuple[int, int] = (capacity.FIRST_STEPS, capacity.ROUND_STEPS),
         protocols: tuple[str, ...] = ("tcp", "udp")) -> list[Probe]:
    """The probes: every iperf3 receiver in both inbound directions over ``protocols``,
    the outbound methods over TCP, the sinks inbound over TCP."""
    host = target.main_address
    probes: list[Probe] = []

    def inbound_runner(mid: str) -> Runner:
        def run(argv: list[str], timeout: float) -> str:
            try:
                return _when_not_busy(lambda: client.run(argv, check=False,
                                                         timeout=timeout).stdout)
            except PodnetError:
                # A server stuck in a failed test refuses every later round: kill it, the
                # container's loop starts a fresh one (see servers._iperf3_container).
                if mid in ends.containers:
                    target.podman("exec", ends.containers[mid], "pkill", "-x", "iperf3",
                                  check=False)
                raise
        return run

    def outbound_runner(container: str | None) -> Runner:
        def run(argv: list[str], timeout: float) -> str:
            if container is None:
                return target.run(procstat.in_lab_cgroup(target, argv), check=False,
                                  timeout=timeout).stdout
            return target.podman("exec", container, *argv, check=False,
                                 timeout=timeout).stdout
        return run

    def iperf3_measure(run: Runner, address: str, port: int, direction: str,
                       protocol: str) -> Callable[[int], Sample]:
        reverse = direction.endswith("-reverse")

        def argv(seconds: float, **options: Any) -> list[str]:
            return iperf3.client_argv(address, port, seconds, protocol=protocol,
                                      reverse=reverse, **options)
        if protocol == "udp":
            return UdpCapacity(run, argv, udp_steps)
        return lambda seconds: _iperf3_sample(run(argv(seconds), seconds + 30))

    def bulk(port: int) -> Callable[[int], Sample]:
        return lambda seconds: bulk_sample(client.run(
            [sys.executable, str(BULK), host, str(port), str(seconds)], check=False,
            timeout=seconds + 60).stdout)

    for mid, port in ends.iperf3.items():
        for direction in INBOUND_DIRECTIONS:
            for protocol in protocols:
                probes.append(Probe(mid, direction, protocol, "iperf3", NATIVE, iperf3_measure(
                    inbound_runner(mid), host, port, direction, protocol)))
    for mid in (NATIVE, *(m for m in OUTBOUND_METHODS if m in ends.containers)):
        for direction in OUTBOUND_DIRECTIONS:
            probes.append(Probe(mid, direction, "tcp", "iperf3", NATIVE, iperf3_measure(
                outbound_runner(ends.containers.get(mid)), client.address, ends.host2_port,
                direction, "tcp")))
    for mid, port in ends.sinks.items():
        probes.append(Probe(mid, "inbound", "tcp", "bulk", NATIVE_SINK, bulk(port)))
    return probes


def measure_once(target: Target, probe: Probe, seconds: int, round_no: int,
                 retries: int = 1) -> list[Measurement]:
    """The probe's throughput measurement (for UDP its capacity, then the test at the
    fixed offered rate as a second measurement of kind ``udp_fixed_rate``)."""
    error = ""
    for _ in range(retries + 1):
        before = procstat.snapshot(target)
        try:
            sample = probe.measure(seconds)
        except PodnetError as exc:
            error = str(exc)
            continue
        after = procstat.snapshot(target)
        spent = procstat.delta(before.forwarders, after.forwarders)
        lab = procstat.cgroup_delta(before, after)
        nbytes = sample.nbytes + (sample.fixed_rate.nbytes if sample.fixed_rate else 0)
        cost = {"forwarder_cpu_seconds": spent,
                "forwarder_cpu_seconds_per_gb": procstat.per_gigabyte(spent, nbytes),
                "lab_cpu_seconds": lab, "lab_cpu_seconds_per_gb": procstat.per_gigabyte(
                    lab, nbytes), "cpu_bytes": nbytes,
                **_carried(before, after, nbytes),
                **_machine(before, after, probe, sample)}
        common = {"tool": probe.tool, "reference": probe.reference}
        found = [Measurement("throughput", probe.method, sample.bits_per_second, "bit/s",
                             probe.direction, probe.protocol, round_no,
                             {**sample.extra, **common, **cost})]
        if sample.fixed_rate is not None:
            found.append(Measurement(
                FIXED_RATE, probe.method, sample.fixed_rate.bits_per_second, "bit/s",
                probe.direction, probe.protocol, round_no,
                {**sample.fixed_rate.extra, **common,
                 "offered_bits_per_second": iperf3.UDP_OFFERED_RATE}))
        return found
    return [Measurement("throughput", probe.method, float("nan"), "bit/s", probe.direction,
                        probe.protocol, round_no, {"tool": probe.tool, "error": error})]


def _carried(before: procstat.Usage, after: procstat.Usage, nbytes: int) -> dict[str, Any]:
    """The bytes the forwarders passed through read/write calls, by name, and the
    largest over the bytes moved (``forwarder_byte_share``: about 1 where a forwarder
    carried the transfer, about 0 where none touched it)."""
    if not after.io:
        return {}
    carried = procstat.carried_bytes(before, after)
    share = max(carried.values(), default=0) / nbytes if nbytes > 0 else None
    return {"forwarder_bytes": carried, "forwarder_byte_share": share}


def _machine(before: procstat.Usage, after: procstat.Usage, probe: Probe,
             sample: Sample) -> dict[str, Any]:
    """The machine's state during the measurement (see :class:`procstat.MachineShare`);
    the inbound iperf3 client on host2 is outside the lab's cgroup, its own CPU time
    (iperf3's figure) is taken out of the "outside" share."""
    client = 0.0
    if probe.direction in INBOUND_DIRECTIONS and probe.tool == "iperf3":
        client = float(sample.extra.get("cpu_host_percent", 0.0)) / 100 * float(
            sample.extra.get("seconds", 0.0))
    share = procstat.machine_share(before, after, client_seconds=client)
    return {} if share is None else {"machine": share.to_dict()}


# --- analysis -------------------------------------------------------------------------

def usable(m: Measurement, kind: str = "throughput") -> bool:
    """Whether ``m`` is a measurement of ``kind`` in a round (not the warm-up), with a
    value and no error."""
    return m.kind == kind and m.round > 0 and m.value == m.value and "error" not in m.extra


def matching(samples: Iterable[Measurement], key: tuple[str, str, str],
             kind: str = "throughput") -> list[Measurement]:
    """The usable measurements of ``key`` (method, direction, protocol)."""
    return [m for m in samples if usable(m, kind) and (m.method, m.direction, m.protocol) == key]


def by_round(samples: Iterable[Measurement], key: tuple[str, str, str],
             kind: str = "throughput", value: str | None = None) -> dict[int, float]:
    """The value of each round of ``key`` (method, direction, protocol), or its extra
    field ``value`` where a number; the median where a round measured it more than once
    (references are, see :mod:`harness.bench.schedule`)."""
    values: dict[int, list[float]] = {}
    for m in matching(samples, key, kind):
        if (v := m.value if value is None else number(m.extra.get(value))) is not None:
            values.setdefault(m.round, []).append(v)
    return {r: statistics.median(v) for r, v in values.items()}


def per_round(samples: Sequence[Measurement], methods: Iterable[str],
              combos: Iterable[tuple[str, str]], value: str | None = None
              ) -> dict[str, dict[str, dict[int, float]]]:
    """{combo: {method: {round: rate (or the extra field ``value``)}}}."""
    return {f"{d}/{p}": {m: by_round(samples, (m, d, p), value=value) for m in methods}
            for d, p in combos}


def ratios(samples: list[Measurement], probes: Iterable[Probe],
           kind: str = "throughput") -> list[PerfRatio]:
    """Median ratio of every probe to its reference of the same round."""
    found = []
    for probe in probes:
        if probe.method == probe.reference:
            continue
        reference = probe.key_for(probe.reference)
        summary = summarize(by_round(samples, probe.key, kind), by_round(samples, reference, kind))
        if summary is None:
            continue
        mine = matching(samples, probe.key, kind)
        flags = [m.extra["saturated"] for m in mine if "saturated" in m.extra]
        both = flags + [m.extra["saturated"] for m in matching(samples, reference, kind)
                        if "saturated" in m.extra]
        found.append(PerfRatio.of(*probe.key, probe.reference, summary,
                                  median_of(m.extra.get("forwarder_cpu_seconds_per_gb")
                                            for m in mine), kind,
                                  sum(both) / len(both) if flags else None))
    return found


def detect(found: Iterable[PerfRatio], slow: float = SLOW) -> list[Finding]:
    """The findings among the ratios ``found``, slowest first (evidence still empty)."""
    findings = []
    for r in found:
        kinds = tuple(k for k, hit in (("slow", r.median < slow),
                                       ("split", r.split is not None)) if hit)
        if kinds:
            findings.append(Finding(r.method, r.direction, r.protocol, r.median, r.low,
                                    r.high, r.rounds or 0, kinds, r.split, r.reference))
    return sorted(findings, key=lambda f: f.median)


def variant_ratios(samples: list[Measurement], variant: str, baseline: str,
                   combos: Iterable[tuple[str, str]]) -> dict[str, RatioSummary]:
    """variant / baseline per round, for each (direction, protocol)."""
    found = {c: summarize(v[variant], v[baseline])
             for c, v in per_round(samples, (variant, baseline), combos).items()}
    return {c: s for c, s in found.items() if s is not None}


def costs(samples: list[Measurement], probes: Iterable[Probe]) -> list[PerfCost]:
    """CPU per GB of every probe (references included), per round."""
    found = []
    for probe in probes:
        forwarder = by_round(samples, probe.key, value="forwarder_cpu_seconds_per_gb")
        lab = by_round(samples, probe.key, value=LAB_COST)
        if not forwarder and not lab:
            continue
        ratio = None if probe.method == probe.reference else interval(paired_ratios(
            lab, by_round(samples, probe.key_for(probe.reference), value=LAB_COST)))
        found.append(PerfCost(*probe.key, interval(forwarder.values()), interval(lab.values()),
                              ratio))
    return found
