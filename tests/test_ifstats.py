"""Interface counters from ``ip -s -j link`` and ``tc -s -j qdisc``, on readings recorded
in the lab (a --network=pasta container, and host1)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from harness.probes import ifstats

FIXTURES = Path(__file__).parent / "fixtures" / "ifstats"


def test_container_reading_has_its_tap_interface_and_qdisc() -> None:
    found = ifstats.parse((FIXTURES / "pasta-container.txt").read_text())
    assert list(found) == ["eth0"]  # loopback left out
    eth0 = found["eth0"]
    assert (eth0.mtu, eth0.txqlen, eth0.qdisc) == (65520, 1000, "pfifo_fast")
    assert eth0.tx_packets >= 0 and eth0.qdisc_drops == 0


def test_host_reading_has_every_link() -> None:
    found = ifstats.parse((FIXTURES / "host1.txt").read_text())
    assert ifstats.mtus(found) == {"eth0": 1500, "eth1": 1500}
    assert found["eth0"].rx_packets > 0 and found["eth0"].qdisc == "noqueue"


def test_delta_subtracts_growing_counters_and_keeps_the_queue_state() -> None:
    before = ifstats.parse((FIXTURES / "pasta-container.txt").read_text())
    eth0 = before["eth0"]
    after = {"eth0": dataclasses.replace(eth0, tx_packets=eth0.tx_packets + 2000,
                                         qdisc_drops=eth0.qdisc_drops + 3, qdisc_qlen=7,
                                         qdisc_backlog=9000)}
    changed = ifstats.delta(before, after)["eth0"]
    assert (changed["tx_packets"], changed["qdisc_drops"], changed["rx_packets"]) == (2000, 3, 0)
    assert (changed["qdisc_qlen"], changed["qdisc_backlog"]) == (7, 9000)


def test_an_interface_that_appeared_counts_from_zero() -> None:
    after = ifstats.parse((FIXTURES / "host1.txt").read_text())
    assert ifstats.delta({}, after)["eth1"]["tx_packets"] == after["eth1"].tx_packets


def test_unreadable_output_gives_nothing() -> None:
    assert ifstats.parse("") == {}
    assert ifstats.parse("ip: command not found\n--\n[]") == {}
    # Without tc, the links still read.
    links = (FIXTURES / "host1.txt").read_text().partition("\n--\n")[0]
    assert ifstats.parse(links + "\n--\nnot json")["eth0"].qdisc == "noqueue"
