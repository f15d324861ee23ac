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
