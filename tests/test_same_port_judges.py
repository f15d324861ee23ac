"""The same-port checks (ReusePort=, Sockets=) fed wrong worlds: ss output and systemd
messages recorded in the lab (systemd 257, trixie)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.proxies.sockets import parse_ss
from harness.results.recorder import ClaimMismatch, NoObservation
from scenarios.test_same_port import (
    activated,
    reuse_port_observation,
    second_socket_refused,
    shared_socket_observation,
    socket_holders,
)
from tests.claim_check import check

SHARED_SS = ('LISTEN 0 4096 0.0.0.0:8080 0.0.0.0:* users:(("nginx",pid=6635,fd=3),'
             '("nginx",pid=6632,fd=3),("conmon",pid=6628,fd=3),("nginx",pid=6607,fd=3),'
             '("nginx",pid=6603,fd=3),("conmon",pid=6601,fd=3),("systemd",pid=132,fd=29))')
#: Two sockets on the port, one held by each container: what ReusePort=true gives.
TWO_SOCKETS_SS = ('LISTEN 0 4096 0.0.0.0:8080 0.0.0.0:* users:(("nginx",pid=6603,fd=3))\n'
                  'LISTEN 0 4096 0.0.0.0:8080 0.0.0.0:* users:(("nginx",pid=6632,fd=3))')
PIDS = {"app1": 6603, "app2": 6632}
IN_USE_STATUS = ("app2.socket: Failed to create listening socket (0.0.0.0:8080): Address "
                 "already in use\napp2.socket: Failed with result 'resources'.")


def _served(**counts: int) -> dict[str, object]:
    return {"requests": 16, "answered": sum(counts.values()), "served_by": counts}


def test_reuse_port_both_serving_holds(tmp_path: Path) -> None:
    check("inbound.same-port.reuse-port",
           reuse_port_observation([True, True], 2, _served(app1=9, app2=7)), tmp_path)


@pytest.mark.parametrize(("started", "sockets", "served"), [
    ([True, True], 2, _served(app1=16, app2=0)),  # one service takes every connection
    ([True, False], 1, _served(app1=16)),  # the second socket never listened
    ([True, True], 1, _served(app1=9, app2=7)),  # one socket between them
], ids=["one-serves", "second-refused", "one-socket"])
def test_reuse_port_wrong_worlds_fail(started: list[bool], sockets: int,
                                      served: dict[str, object], tmp_path: Path) -> None:
    with pytest.raises(ClaimMismatch):
        check("inbound.same-port.reuse-port",
               reuse_port_observation(started, sockets, served), tmp_path)


def test_reuse_port_nothing_answered_is_no_observation() -> None:
    with pytest.raises(NoObservation, match="never served"):
        reuse_port_observation([True, True], 2, _served(app1=0, app2=0))


def test_second_socket_refused_for_the_port_in_use(tmp_path: Path) -> None:
    check("inbound.same-port.without-reuse-port",
           second_socket_refused(True, False, IN_USE_STATUS), tmp_path)


def test_a_second_socket_that_listens_fails_the_claim(tmp_path: Path) -> None:
    with pytest.raises(ClaimMismatch):
        check("inbound.same-port.without-reuse-port",
               second_socket_refused(True, True, ""), tmp_path)


@pytest.mark.parametrize(("first", "status", "match"), [
    (False, IN_USE_STATUS, "control"),
    (True, "app2.socket: Failed to parse ListenStream=", "not with"),
])
def test_refused_for_another_reason_is_no_observation(first: bool, status: str,
                                                       match: str) -> None:
    with pytest.raises(NoObservation, match=match):
        second_socket_refused(first, False, status)


def test_shared_socket_is_one_socket_held_by_both() -> None:
    assert socket_holders(parse_ss(SHARED_SS), PIDS) == [["app1", "app2"]]


def test_a_socket_each_is_not_shared(tmp_path: Path) -> None:
    holders = socket_holders(parse_ss(TWO_SOCKETS_SS), PIDS)
    assert holders == [["app1"], ["app2"]]
    with pytest.raises(ClaimMismatch):
        check("inbound.same-port.shared-socket",
               shared_socket_observation(holders, list(PIDS), _served(app1=9, app2=7)),
               tmp_path)


def test_shared_socket_held_by_both_holds(tmp_path: Path) -> None:
    check("inbound.same-port.shared-socket", shared_socket_observation(
        socket_holders(parse_ss(SHARED_SS), PIDS), list(PIDS), _served(app1=10, app2=6)),
        tmp_path)


def test_a_socket_activating_both_services_fails(tmp_path: Path) -> None:
    services = ["a1.service", "a2.service"]
    assert activated({"a1.service": "active", "a2.service": "inactive"}, services) == ["app1"]
    with pytest.raises(ClaimMismatch):
        check("inbound.same-port.socket-activates-one-service",
               activated(dict.fromkeys(services, "active"), services), tmp_path)
