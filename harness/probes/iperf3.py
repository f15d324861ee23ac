"""iperf3's JSON output (``iperf3 -J``), reduced to what the benchmarks use.

Throughput is what the receiver got (``end.sum_received``), for TCP and UDP, and in
both directions (with ``-R`` the client is the receiver; iperf3 reports the same
fields). UDP adds loss and jitter from the receiver's side.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from harness.errors import PodnetError


class Iperf3Error(PodnetError):
    """iperf3 reported an error, or printed something that is not its JSON."""


@dataclass(frozen=True)
class Iperf3Result:
    protocol: str
    reverse: bool
    seconds: float
    bytes_received: int
    bits_per_second: float
    #: TCP only: retransmissions counted by the sender (None when iperf3 has none).
    retransmits: int | None = None
    #: UDP only.
    lost_percent: float | None = None
    jitter_ms: float | None = None
    cpu_host_percent: float | None = None
    cpu_remote_percent: float | None = None
    version: str = ""

    def extra(self) -> dict[str, Any]:
        """The fields a Measurement keeps besides its value."""
        fields = {
            "bytes": self.bytes_received, "seconds": self.seconds,
            "retransmits": self.retransmits, "lost_percent": self.lost_percent,
            "jitter_ms": self.jitter_ms, "cpu_host_percent": self.cpu_host_percent,
            "cpu_remote_percent": self.cpu_remote_percent, "iperf3": self.version,
        }
        return {k: v for k, v in fields.items() if v is not None}


def parse(text: str) -> Iperf3Result:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise Iperf3Error(f"iperf3 printed no JSON: {text.strip()[:300]!r}") from exc
    if not isinstance(data, dict):
        raise Iperf3Error("iperf3 JSON is not an object")
    return from_dict(data)


def from_dict(data: dict[str, Any]) -> Iperf3Result:
    if data.get("error"):
        raise Iperf3Error(f"iperf3: {data['error']}")
    try:
        start, end = data["start"], data["end"]
        test = start["test_start"]
        received = end["sum_received"]
    except (KeyError, TypeError) as exc:
        raise Iperf3Error(f"iperf3 JSON lacks {exc}") from exc
    protocol = str(test.get("protocol", "TCP")).lower()
    sent = end.get("sum_sent", {})
    cpu = end.get("cpu_utilization_percent", {})
    udp = protocol == "udp"
    return Iperf3Result(
        protocol=protocol,
        reverse=bool(test.get("reverse")),
        seconds=float(received["seconds"]),
        bytes_received=int(received["bytes"]),
        bits_per_second=float(received["bits_per_second"]),
        retransmits=None if udp or "retransmits" not in sent else int(sent["retransmits"]),
        lost_percent=float(received["lost_percent"]) if udp and "lost_percent" in received
        else None,
        jitter_ms=float(received["jitter_ms"]) if udp and "jitter_ms" in received else None,
        cpu_host_percent=_float(cpu.get("host_total")),
        cpu_remote_percent=_float(cpu.get("remote_total")),
        version=str(start.get("version", "")),
    )


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


#: iperf3's offered UDP bit rate (see :func:`client_argv`).
UDP_OFFERED_RATE = "1G"


def client_argv(host: str, port: int, seconds: int, *, protocol: str = "tcp",
                reverse: bool = False) -> list[str]:
    """An iperf3 client run with JSON output.

    UDP is offered at :data:`UDP_OFFERED_RATE`, the same for every method and the native
    reference. Unthrottled UDP (``-b 0``) starves iperf3's own control connection
    through slirp4netns, so the test never ends; a finite rate above what any forwarder
    here delivers keeps the comparison and lets every test finish.
    """
    argv = ["iperf3", "-c", host, "-p", str(port), "-J", "-t", str(seconds),
            "--connect-timeout", "5000"]
    if protocol == "udp":
        argv += ["-u", "-b", UDP_OFFERED_RATE]
    if reverse:
        argv.append("-R")
    return argv
