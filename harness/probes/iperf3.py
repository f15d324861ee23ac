"""iperf3's JSON output (``iperf3 -J``), reduced to what the benchmarks use.

Throughput is what the receiver got (``end.sum_received``), for TCP and UDP, and in
both directions (with ``-R`` the client is the receiver; iperf3 reports the same
fields). UDP adds loss and jitter from the receiver's side.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from harness.errors import PodnetError

#: The fields :meth:`Iperf3Result.extra` leaves out, and those it names otherwise.
NOT_EXTRA = ("protocol", "reverse", "bits_per_second")
EXTRA_NAMES = {"bytes_received": "bytes", "version": "iperf3"}


class Iperf3Error(PodnetError):
    """iperf3 reported an error, or printed something that is not its JSON."""


@dataclass(frozen=True)
class Iperf3Result:
    protocol: str
    reverse: bool
    bytes_received: int
    seconds: float
    bits_per_second: float
    #: TCP only: retransmissions counted by the sender (None when iperf3 has none).
    retransmits: int | None = None
    #: UDP only.
    lost_percent: float | None = None
    jitter_ms: float | None = None
    cpu_host_percent: float | None = None
    cpu_remote_percent: float | None = None
    version: str = ""
    #: TCP, when the client sends (without -R): its largest congestion window (bytes)
    #: and mean round-trip time (microseconds), as the kernel reported them.
    max_snd_cwnd: int | None = None
    mean_rtt_us: int | None = None
    #: The sender's congestion control algorithm.
    congestion: str | None = None

    def extra(self) -> dict[str, Any]:
        """The fields a Measurement keeps besides its value (those set, in their order,
        two of them renamed)."""
        return {EXTRA_NAMES.get(k, k): v for k, v in asdict(self).items()
                if v is not None and k not in NOT_EXTRA}


def parse(text: str) -> Iperf3Result:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise Iperf3Error(f"iperf3 printed no JSON: {text.strip()[:300]!r}") from exc
    if not isinstance(data, dict):
        raise Iperf3Error("iperf3 JSON is not an object")
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
        lost_percent=_float(received.get("lost_percent")) if udp else None,
        jitter_ms=_float(received.get("jitter_ms")) if udp else None,
        cpu_host_percent=_float(cpu.get("host_total")),
        cpu_remote_percent=_float(cpu.get("remote_total")),
        version=str(start.get("version", "")),
        **_sender_stream(end, udp),
    )


def _sender_stream(end: dict[str, Any], udp: bool) -> dict[str, Any]:
    """The kernel's view of the sending socket, which iperf3 knows only on the sending
    side (the client without -R; with -R the fields are zero)."""
    streams = end.get("streams") or [{}]
    sender = streams[0].get("sender", {}) if isinstance(streams[0], dict) else {}
    if udp or not sender.get("sender") or not sender.get("max_snd_cwnd"):
        return {}
    return {"max_snd_cwnd": int(sender["max_snd_cwnd"]),
            "mean_rtt_us": int(sender.get("mean_rtt", 0)) or None,
            "congestion": end.get("sender_tcp_congestion")}


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


#: iperf3's fixed offered UDP bit rate (see :func:`client_argv`), in bit/s.
UDP_OFFERED_RATE = 1_000_000_000
#: Socket buffer of a capacity search's UDP tests: with the default buffer a burst of
#: datagrams overflows the receiver's socket well below what the path carries.
UDP_CAPACITY_WINDOW = "4M"


def client_argv(host: str, port: int, seconds: float, *, protocol: str = "tcp",
                reverse: bool = False, rate: float = UDP_OFFERED_RATE,
                window: str | None = None) -> list[str]:
    """An iperf3 client run with JSON output.

    TCP runs for whole ``seconds``. UDP is offered at ``rate`` (bit/s; by default
    :data:`UDP_OFFERED_RATE`, the same for every method and the native reference) and
    sends ``rate * seconds`` bytes, so that a test can be shorter than a second.
    Unthrottled UDP (``-b 0``) starves iperf3's own control connection through
    slirp4netns, so the test never ends: every UDP test has a finite rate.
    """
    argv = ["iperf3", "-c", host, "-p", str(port), "-J", "--connect-timeout", "5000"]
    if protocol == "udp":
        nbytes = max(1, int(rate * seconds / 8))
        argv += ["-u", "-b", str(int(rate)), "-n", str(nbytes)]
    else:
        argv += ["-t", str(max(1, round(seconds)))]
    if window:
        argv += ["-w", window]
    if reverse:
        argv.append("-R")
    return argv
