"""Read pasta ``--pcap`` captures with scapy."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Packet:
    src: str
    dst: str
    proto: str
    sport: int | None
    dport: int | None
    flags: str
    payload: bytes
    time: float = 0.0
    #: TCP: the segment's numbers, window and options (by name), and its length from the
    #: IP header, not from the captured bytes: a capture truncated to its headers
    #: (harness.probes.tcp_health.truncate) reads the same as the full one.
    seq: int = 0
    ack: int = 0
    window: int = 0
    length: int = 0
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def source(self) -> str:
        return f"{self.src}:{self.sport}"

    @property
    def destination(self) -> str:
        return f"{self.dst}:{self.dport}"

    def describe(self) -> str:
        return f"{self.proto} {self.source} > {self.destination} [{self.flags}]"


def packets(path: Path, limit: int | None = None) -> list[Packet]:
    """The IP packets of a capture (of its first ``limit`` packets)."""
    # scapy is imported when a capture is read, not when the suites are collected
    from harness.probes.scapy_layers import IP, TCP, UDP, IPv6, PcapReader

    found = []
    with PcapReader(str(path)) as reader:
        for pkt in islice(reader, limit):
            ip = pkt.getlayer(IP) or pkt.getlayer(IPv6)
            if ip is None:
                continue
            tcp = pkt.getlayer(TCP)
            l4 = tcp or pkt.getlayer(UDP)
            found.append(Packet(
                src=str(ip.src), dst=str(ip.dst),
                proto="tcp" if tcp is not None else "udp" if l4 is not None else "ip",
                sport=int(l4.sport) if l4 is not None else None,
                dport=int(l4.dport) if l4 is not None else None,
                flags=str(tcp.flags) if tcp is not None else "",
                payload=bytes(l4.payload) if l4 is not None else b"",
                time=float(pkt.time), **({} if tcp is None else _tcp(ip, tcp)),
            ))
    return found


def _tcp(ip: Any, tcp: Any) -> dict[str, Any]:
    header = (int(ip.ihl) * 4 if ip.version == 4 else 0) + int(tcp.dataofs) * 4
    options = tcp.options if isinstance(tcp.options, list) else []
    return {"seq": int(tcp.seq), "ack": int(tcp.ack), "window": int(tcp.window),
            "length": max(0, int(ip.len if ip.version == 4 else ip.plen) - header),
            "options": {str(o[0]): o[1] for o in options
                        if isinstance(o, tuple) and len(o) == 2}}


def syns_to(path: Path, port: int) -> list[Packet]:
    """Connection attempts (SYN without ACK) to ``port``."""
    return [p for p in packets(path)
            if p.proto == "tcp" and p.dport == port and "S" in p.flags and "A" not in p.flags]


def datagrams_to(path: Path, port: int) -> list[Packet]:
    return [p for p in packets(path) if p.proto == "udp" and p.dport == port]


def http_requests(path: Path) -> list[tuple[str, str, str]]:
    """(host, method, destination) of HTTP requests, as tshark's http.host/request.method."""
    found = []
    for p in packets(path):
        if p.proto != "tcp" or not p.payload:
            continue
        head = p.payload.split(b"\r\n\r\n", 1)[0].decode(errors="replace").split("\r\n")
        words = head[0].split(" ")
        if len(words) != 3 or not words[2].startswith("HTTP/"):
            continue
        host = next((h.split(":", 1)[1].strip() for h in head[1:]
                     if h.lower().startswith("host:")), "")
        found.append((host, words[0], p.dst))
    return found
