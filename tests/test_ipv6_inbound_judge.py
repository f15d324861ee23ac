"""The IPv6 inbound judge fed wrong worlds: ip's output and nginx's log as recorded in
the lab (trixie)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.results.recorder import ClaimMismatch, NoObservation
from scenarios.test_ipv6_inbound import ipv6_address, observation
from tests.claim_check import check

IP_OUTPUT = ("2: eth0    inet6 2001:db8:2::1/64 scope global nodad \\       valid_lft forever "
             "preferred_lft forever\n")
CLIENT = "2001:db8:2::10"


def test_the_global_address_is_read() -> None:
    assert ipv6_address(IP_OUTPUT) == "2001:db8:2::1"
    assert ipv6_address("") is None


def test_a_translated_source_fails_pasta(tmp_path: Path) -> None:
    with pytest.raises(ClaimMismatch):
        check("beyond.ipv6.pasta", observation(True, "10.89.0.2", CLIENT), tmp_path)
    check("beyond.ipv6.pasta", observation(True, CLIENT, CLIENT), tmp_path)


def test_not_served_over_ipv6_fails(tmp_path: Path) -> None:
    with pytest.raises(ClaimMismatch):
        check("beyond.ipv6.pasta-custom-network", observation(False, None, CLIENT), tmp_path)


def test_served_without_a_log_line_is_no_observation() -> None:
    with pytest.raises(NoObservation):
        observation(True, None, CLIENT)


def test_socket_activation_over_ipv6_needs_the_clients_own_address(tmp_path: Path) -> None:
    """What the lab showed (trixie): the inherited [::]:8080 socket serves host2 over IPv6
    and nginx logs host2's address; a proxy in between (the rootless network namespace's
    address logged) or no IPv6 listener fails the claim."""
    claim = "beyond.ipv6.socket-activation-user"
    check(claim, observation(True, CLIENT, CLIENT), tmp_path)
    for wrong in (observation(True, "fd00::1", CLIENT), observation(False, None, CLIENT)):
        with pytest.raises(ClaimMismatch):
            check(claim, wrong, tmp_path)
