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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.bench import procstat
from harness.bench.servers import Endpoints
from harness.bench.stats import RatioSummary, summarize
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


@dataclass(frozen=True)
class Sample:
    bits_per_second: float
    nbytes: int
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Probe:
    method: str
    direction: str
    protocol: str
    tool: str
    reference: str
    measure: Callable[[int], Sample]

    @property
    def key(self) -> tuple[str, str, str]:
        return self.method, self.direction, self.protocol

    @property
    def combo(self) -> str:
        return f"{self.direction}/{self.protocol}"


def _iperf3_sample(text: str) -> Sample:
    result = iperf3.parse(text)
    return Sample(result.bits_per_second, result.bytes_received, result.extra())


def _bulk_sample(text: str) -> Sample:
    lines = text.strip().splitlines()
    data = json.loads(lines[-1]) if lines else {"error": "bulk client printed nothing"}
    if "error" in data:
        raise PodnetError(f"bulk transfer: {data['error']}")
    nbytes, seconds = int(data["bytes"]), float(data["seconds"])
    return Sample(nbytes * 8 / seconds, nbytes, {"bytes": nbytes, "seconds": seconds})


def plan(target: Target, client: Client, ends: Endpoints) -> list[Probe]:
    host = target.main_address
    probes: list[Probe] = []

    def inbound(mid: str, port: int, direction: str, protocol: str) -> Callable[[int], Sample]:
        def run(seconds: int) -> Sample:
            argv = iperf3.client_argv(host, port, seconds, protocol=protocol,
                                      reverse=direction == "inbound-reverse")
            try:
                return _iperf3_sample(client.run(argv, check=False, timeout=seconds + 15).stdout)
            except PodnetError:
                # A server stuck in a failed test refuses every later round: kill it, the
                # container's loop starts a fresh one (see servers._iperf3_container).
                if mid in ends.containers:
                    target.podman("exec", ends.containers[mid], "pkill", "-x", "iperf3",
                                  check=False)
                raise
        return run

    def outbound(container: str | None, direction: str, protocol: str
                 ) -> Callable[[int], Sample]:
        def run(seconds: int) -> Sample:
            argv = iperf3.client_argv(client.address, ends.host2_port, seconds,
                                      protocol=protocol, reverse=direction == "outbound-reverse")
            if container is None:
                done = target.run(argv, check=False, timeout=seconds + 30)
            else:
                done = target.podman("exec", container, *argv, check=False, timeout=seconds + 30)
            return _iperf3_sample(done.stdout)
        return run

    def bulk(port: int) -> Callable[[int], Sample]:
        def run(seconds: int) -> Sample:
            done = client.run([sys.executable, str(BULK), host, str(port), str(seconds)],
                              check=False, timeout=seconds + 60)
            return _bulk_sample(done.stdout)
        return run

    for mid, port in ends.iperf3.items():
        for direction in INBOUND_DIRECTIONS:
            for protocol in ("tcp", "udp"):
                probes.append(Probe(mid, direction, protocol, "iperf3", NATIVE,
                                    inbound(mid, port, direction, protocol)))
    for mid in (NATIVE, *OUTBOUND_METHODS):
        if mid != NATIVE and mid not in ends.containers:
            continue
        for direction in OUTBOUND_DIRECTIONS:
            probes.append(Probe(mid, direction, "tcp", "iperf3", NATIVE,
                                outbound(ends.containers.get(mid), direction, "tcp")))
    for mid, port in ends.sinks.items():
        probes.append(Probe(mid, "inbound", "tcp", "bulk", NATIVE_SINK, bulk(port)))
    return probes


def measure_once(target: Target, probe: Probe, seconds: int, round_no: int,
                 retries: int = 1) -> Measurement:
    error = ""
    for _ in range(retries + 1):
        before = procstat.snapshot(target)
        try:
            sample = probe.measure(seconds)
        except PodnetError as exc:
            error = str(exc)
            continue
        spent = procstat.delta(before, procstat.snapshot(target))
        per_gb = procstat.per_gigabyte(spent, sample.nbytes)
        extra = {**sample.extra, "tool": probe.tool, "reference": probe.reference,
                 "forwarder_cpu_seconds": spent, "forwarder_cpu_seconds_per_gb": per_gb}
        return Measurement("throughput", probe.method, sample.bits_per_second, "bit/s",
                           probe.direction, probe.protocol, round_no, extra)
    return Measurement("throughput", probe.method, float("nan"), "bit/s", probe.direction,
                       probe.protocol, round_no, {"tool": probe.tool, "error": error})


# --- analysis -------------------------------------------------------------------------

@dataclass(frozen=True)
class Ratio:
    method: str
    direction: str
    protocol: str
    reference: str
    summary: RatioSummary
    cpu_seconds_per_gb: float | None

    @property
    def combo(self) -> str:
        return f"{self.direction}/{self.protocol}"

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "direction": self.direction, "protocol": self.protocol,
                "reference": self.reference, **self.summary.as_dict(),
                "forwarder_cpu_seconds_per_gb": self.cpu_seconds_per_gb}


def _ok(m: Measurement) -> bool:
    return m.kind == "throughput" and m.round > 0 and m.value == m.value and "error" not in m.extra


def _by_round(samples: Iterable[Measurement], method: str, direction: str,
              protocol: str) -> dict[int, float]:
    """The value of each round; the median where a round measured it more than once
    (references are, see :mod:`harness.bench.schedule`)."""
    values: dict[int, list[float]] = {}
    for m in samples:
        if _ok(m) and (m.method, m.direction, m.protocol) == (method, direction, protocol):
            values.setdefault(m.round, []).append(m.value)
    return {r: statistics.median(v) for r, v in values.items()}


def ratios(samples: list[Measurement], probes: Iterable[Probe]) -> list[Ratio]:
    """Median ratio of every probe to its reference of the same round."""
    found = []
    for probe in probes:
        if probe.method == probe.reference:
            continue
        values = _by_round(samples, *probe.key)
        reference = _by_round(samples, probe.reference, probe.direction, probe.protocol)
        summary = summarize(values, reference)
        if summary is None:
            continue
        cpu = [m.extra["forwarder_cpu_seconds_per_gb"] for m in samples
               if _ok(m) and (m.method, m.direction, m.protocol) == probe.key
               and m.extra.get("forwarder_cpu_seconds_per_gb") is not None]
        found.append(Ratio(probe.method, probe.direction, probe.protocol, probe.reference,
                           summary, statistics.median(cpu) if cpu else None))
    return found


def variant_ratios(samples: list[Measurement], variant: str, baseline: str,
                   combos: Iterable[tuple[str, str]]) -> dict[str, RatioSummary]:
    """variant / baseline per round, for each (direction, protocol)."""
    found = {}
    for direction, protocol in combos:
        summary = summarize(_by_round(samples, variant, direction, protocol),
                            _by_round(samples, baseline, direction, protocol))
        if summary is not None:
            found[f"{direction}/{protocol}"] = summary
    return found
