"""The restricted socket-activated server's judge and units, fed wrong worlds."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.results.recorder import ClaimMismatch, NoObservation
from scenarios.test_restrict_socket import Served, restricted_serves, unit_files
from tests.claim_check import check

CRUN = "Error: OCI runtime error: crun: recvfrom(PF_NETLINK)"
SERVED = Served(True, {"journal_errors": ""})
FAILED = Served(False, {"journal_errors": CRUN})


class _Home:
    home = "/home/test"


def test_the_restricted_units_are_the_guides() -> None:
    files = unit_files(_Home(), "c", restrict=True, runtime="runc")  # type: ignore[arg-type]
    container = files["/home/test/.config/containers/systemd/c.container"]
    for line in ("RestrictAddressFamilies=AF_UNIX AF_NETLINK", "NoNewPrivileges=yes",
                 "SystemCallArchitectures=native", "GlobalArgs=--runtime=runc", "Network=none",
                 "Pull=never", "Requires=podnet-usernamespace-c.service"):
        assert line in container.splitlines()
    plain = unit_files(_Home(), "c", restrict=False, runtime=None,  # type: ignore[arg-type]
                       network=None)["/home/test/.config/containers/systemd/c.container"]
    assert "Restrict" not in plain and "Network=" not in plain


def test_a_regression_not_reproduced_fails(tmp_path: Path) -> None:
    """The wrong world for crun 1.17-1.22: the restricted units serve."""
    with pytest.raises(ClaimMismatch):
        check("restrict.address-families.crun-regression", restricted_serves(SERVED, None),
               tmp_path)


def test_failing_only_with_the_restriction_holds_the_regression(tmp_path: Path) -> None:
    check("restrict.address-families.crun-regression", restricted_serves(FAILED, SERVED),
           tmp_path)


def test_a_server_failing_without_the_restriction_too_is_no_observation() -> None:
    with pytest.raises(NoObservation, match="without the restriction"):
        restricted_serves(FAILED, FAILED)


def test_network_none_not_serving_fails_next_to_a_serving_control(tmp_path: Path) -> None:
    with pytest.raises(ClaimMismatch):
        check("restrict.network-none.socket-activation", restricted_serves(FAILED, SERVED),
               tmp_path)
