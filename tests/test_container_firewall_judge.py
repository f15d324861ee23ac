"""The container firewall's judge fed wrong worlds: podman's and curl's output recorded
in the lab (podman 5.4.2, crun 1.21, trixie)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.results.recorder import ClaimMismatch, NoObservation
from scenarios.test_container_firewall import Tried, passed_firewall
from tests.claim_check import check

TOKEN = "podnet-2bd2fa6ce375"
THROUGH = Tried(0, TOKEN, "podman --hooks-dir ... run ...")
DROPPED = Tried(28, "curl: (28) Connection timed out after 3006 milliseconds", "podman ...")
HOOK_FAILED = Tried(126, 'Error: OCI runtime error: crun: {"msg":"error executing hook '
                    '`/home/test/fw/configure-firewall.bash` (exit code: 127)"}', "podman ...")


def test_a_firewall_letting_port_80_through_fails(tmp_path: Path) -> None:
    with pytest.raises(ClaimMismatch):
        check("restrict.firewall.other-tcp-dropped", passed_firewall(THROUGH, None, TOKEN),
               tmp_path)


def test_a_firewall_dropping_port_443_fails(tmp_path: Path) -> None:
    with pytest.raises(ClaimMismatch):
        check("restrict.firewall.tcp-443-allowed", passed_firewall(DROPPED, THROUGH, TOKEN),
               tmp_path)


def test_dropped_needs_the_control_through() -> None:
    with pytest.raises(NoObservation, match="without the firewall"):
        passed_firewall(DROPPED, DROPPED, TOKEN)


def test_a_failed_hook_is_no_observation() -> None:
    with pytest.raises(NoObservation, match="hook failed"):
        passed_firewall(HOOK_FAILED, THROUGH, TOKEN)


def test_a_refused_connection_is_not_the_drop_policy() -> None:
    refused = Tried(7, "curl: (7) Failed to connect to 192.0.2.10 port 80", "podman ...")
    with pytest.raises(NoObservation, match="another reason"):
        passed_firewall(refused, THROUGH, TOKEN)
