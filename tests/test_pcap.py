"""pasta --pcap captures, on one recorded in the lab (tests/fixtures/record.py).

The capture: nginx in a pasta container publishing 8080; host2 (192.0.2.10,
2001:db8:2::10) requests ``/?probe``, ``/?xff-token`` and ``/?ipv6-token``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.probes.pcap import datagrams_to, http_requests, packets, syns_to

PCAP = Path(__file__).parent / "fixtures" / "pcap" / "pasta-http.pcap"


def test_fixture_is_small() -> None:
    assert PCAP.stat().st_size < 20_000


def test_packets() -> None:
    found = packets(PCAP)
    tcp = [p for p in found if p.proto == "tcp"]
    assert len(tcp) >= 3 * 7  # three short connections
    # pasta keeps the client's address: the container sees host2, not a gateway.
    assert {p.src for p in tcp if p.dport == 8080} == {"192.0.2.10", "2001:db8:2::10"}
    assert {p.dst for p in tcp if p.dport == 8080} == {"192.0.2.1", "2001:db8:2::1"}
    assert all(p.sport is not None and p.dport is not None for p in tcp)
    assert all(p.flags == "" and p.sport is None for p in found if p.proto == "ip")


def test_describe() -> None:
    syn = syns_to(PCAP, 8080)[0]
    assert syn.describe() == f"tcp 192.0.2.10:{syn.sport} > 192.0.2.1:8080 [{syn.flags}]"


def test_syns_to() -> None:
    syns = syns_to(PCAP, 8080)
    assert [p.src for p in syns] == ["192.0.2.10", "192.0.2.10", "2001:db8:2::10"]
    # pasta may set PSH on the SYN it sends into the container ("SP"); never ACK.
    assert all("S" in p.flags and "A" not in p.flags for p in syns)
    assert len({p.sport for p in syns}) == 3
    assert syns_to(PCAP, 80) == []


def test_http_requests() -> None:
    assert http_requests(PCAP) == [
        ("192.0.2.1:8080", "GET", "192.0.2.1"),
        ("192.0.2.1:8080", "GET", "192.0.2.1"),
        ("[2001:db8:2::1]:8080", "GET", "2001:db8:2::1"),
    ]


def test_request_payloads() -> None:
    payloads = [p.payload for p in packets(PCAP) if p.dport == 8080 and p.payload]
    assert [b.split(b" ")[1] for b in payloads] == [b"/?probe", b"/?xff-token", b"/?ipv6-token"]
    assert b"X-Forwarded-For: 203.0.113.7" in payloads[1]


def test_no_udp_to_the_service() -> None:
    assert datagrams_to(PCAP, 8080) == []


@pytest.mark.parametrize(("module", "writes"), [
    ("harness.probes.pcap, harness.probes.tcp_health", False),
    ("scapy.layers.inet", True),  # control: scapy itself writes in the home
])
def test_reading_captures_writes_nothing_in_the_home(tmp_path: Path, module: str,
                                                     writes: bool) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    done = subprocess.run([sys.executable, "-c", f"import {module}"], env={**env, "HOME":
                          str(tmp_path)}, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert bool(list(tmp_path.iterdir())) is writes, list(tmp_path.iterdir())
