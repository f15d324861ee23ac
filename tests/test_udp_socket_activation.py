"""The positive control of socket activation over UDP (a ListenDatagram= socket), on
evidence recorded in the lab (tests/fixtures/socket_udp/lab.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.proxies.sockets import parse_ss
from harness.results.recorder import NoObservation
from harness.services import socket_unit
from scenarios.test_source_address import udp_socket_activated

LAB: dict[str, Any] = json.loads(
    (Path(__file__).parent / "fixtures" / "socket_udp" / "lab.json").read_text())


@pytest.mark.parametrize("kind", ["user", "system"])
def test_socket_activated_reporter_passes(kind: str) -> None:
    seen = LAB[kind]
    udp_socket_activated(seen["active_state_before"], seen["active_state_after"],
                         parse_ss(seen["ss_host"]), seen["reporter_pid"])


def test_reporter_with_its_own_socket_is_no_observation() -> None:
    """The wrong world: the same reporter published with -p/udp (pasta holds the
    socket, no unit is started by the datagram)."""
    seen = LAB["published_with_p"]
    with pytest.raises(NoObservation, match="systemd holds no socket") as raised:
        udp_socket_activated("", "", parse_ss(seen["ss_host"]), seen["reporter_pid"])
    assert "holds no socket on the port" in str(raised.value)
    assert "not 'inactive' then 'active'" in str(raised.value)


def test_service_already_running_is_no_observation() -> None:
    """A service that was active before the first datagram was not started by it."""
    seen = LAB["user"]
    with pytest.raises(NoObservation, match="'active' before the first datagram"):
        udp_socket_activated("active", "active", parse_ss(seen["ss_host"]),
                             seen["reporter_pid"])


def test_systemd_socket_without_the_reporter_is_no_observation() -> None:
    """systemd listens, but the answer came from some other process."""
    seen = LAB["user"]
    with pytest.raises(NoObservation, match="reporter \\(pid 4242\\) holds no socket"):
        udp_socket_activated("inactive", "active", parse_ss(seen["ss_host"]), 4242)


def test_datagram_socket_unit() -> None:
    assert "ListenDatagram=0.0.0.0:8081\n" in socket_unit("0.0.0.0:8081", "d", protocol="udp")
    assert "ListenStream=0.0.0.0:8080\n" in socket_unit("0.0.0.0:8080", "d")
