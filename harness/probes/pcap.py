"""Read pasta ``--pcap`` captures with scapy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Packet:
    src: str
    dst: str
    proto: str
    sport: int | None
    dport: int | None
    flags: str
    payload: bytes

    def describe(self) -> str:
        return f"{self.proto} {self.src}:{self.sport} > {self.dst}:{self.dport} [{self.flags}]"


def packets(path: Path) -> list[Packet]:
    # scapy is imported when a capture is read, not when the suites are collected
    from harness.probes.scapy_layers import IP, TCP, UDP, IPv6, PcapReader

    found = []
    with PcapReader(str(path)) as reader:
        for pkt in reader:
            ip = pkt.getlayer(IP) or pkt.getlayer(IPv6)
            if ip is None:
                continue
            l4 = pkt.getlayer(TCP) or pkt.getlayer(UDP)
            proto = "tcp" if pkt.haslayer(TCP) else "udp" if pkt.haslayer(UDP) else "ip"
            found.append(Packet(
                src=str(ip.src), dst=str(ip.dst), proto=proto,
                sport=int(l4.sport) if l4 is not None else None,
                dport=int(l4.dport) if l4 is not None else None,
                flags=str(l4.flags) if proto == "tcp" and l4 is not None else "",
                payload=bytes(l4.payload) if l4 is not None else b"",
            ))
    return found


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
