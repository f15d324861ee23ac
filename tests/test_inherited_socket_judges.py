"""The inherited-socket checks fed wrong worlds: bash's and podman's output and the
journal lines recorded in the lab (podman 5.4.2, systemd 257, trixie)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.probes.hostserver import HostServer
from harness.results.recorder import ClaimMismatch, NoObservation
from scenarios.test_inherited_socket import (
    NOT_CONNECTED,
    Inherited,
    UnitRun,
    quadlet_replied,
    quadlet_text,
    socket_kept,
)
from tests.claim_check import check

TOKEN = "podnet-8186e742ee36"
REPLY = ("HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.13.5\r\nContent-Length: 20\r\n"
         f"\r\n{TOKEN}\n")
KEPT = Inherited(0, REPLY, "", "bash -c ...")
CLOSED = Inherited(1, "", "bash: line 1: 3: Bad file descriptor\n"
                   "bash: line 1: 3: Bad file descriptor\n", "bash -c ...")
CRUN = ("conmon 35d5db <error>: Failed to create container: exit status 1 | "
        "Error: OCI runtime error: crun: recvfrom(PF_NETLINK)")


def test_the_reply_through_fd_3_is_kept() -> None:
    assert socket_kept(KEPT, TOKEN) is True


def test_a_closed_fd_3_fails_the_preserve_fds_claim(tmp_path: Path) -> None:
    """The wrong world: podman closing the socket in spite of --preserve-fds=1."""
    with pytest.raises(ClaimMismatch):
        check("outbound.inherit-socket.bash-example", socket_kept(CLOSED, TOKEN), tmp_path)


def test_a_socket_kept_without_preserve_fds_fails_the_closing_claim(tmp_path: Path) -> None:
    with pytest.raises(ClaimMismatch):
        check("outbound.inherit-socket.closed-by-default", socket_kept(KEPT, TOKEN), tmp_path)


@pytest.mark.parametrize("result", [
    Inherited(NOT_CONNECTED, "", "bash: connect: Connection refused", "bash -c ..."),
    Inherited(125, "", "Error: unable to find network with name or ID none", "bash -c ..."),
    Inherited(0, "HTTP/1.0 404 File not found", "", "bash -c ..."),
], ids=["not-connected", "podman-refused", "another-reply"])
def test_other_failures_are_no_observation(result: Inherited) -> None:
    with pytest.raises(NoObservation):
        socket_kept(result, TOKEN)


def test_the_quadlet_unit_is_the_guides() -> None:
    server = HostServer(TOKEN, 1, "/tmp/x", address="192.0.2.10", port=18096)
    text = quadlet_text("u", server, restrict=True)
    assert "RestrictAddressFamilies=AF_UNIX AF_NETLINK\n" in text
    assert "systemd-notify --fd=3 --fdname=foobar" in text
    assert "\nNetwork=none\n" in text and "FileDescriptorStoreMax=1" in text
    assert "RestrictAddressFamilies" not in quadlet_text("u", server, restrict=False)


def test_a_unit_failing_only_with_the_restriction_fails_the_claim(tmp_path: Path) -> None:
    guide = UnitRun(False, {"journal_errors": CRUN})
    control = UnitRun(True, {"journal_errors": ""})
    with pytest.raises(ClaimMismatch):
        check("outbound.inherit-socket.quadlet-example", quadlet_replied(guide, control),
               tmp_path)


def test_a_unit_failing_without_the_restriction_too_is_no_observation() -> None:
    with pytest.raises(NoObservation, match="without RestrictAddressFamilies"):
        quadlet_replied(UnitRun(False, {"journal_errors": CRUN}),
                        UnitRun(False, {"journal_errors": CRUN}))
