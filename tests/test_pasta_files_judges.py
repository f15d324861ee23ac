"""The pasta executable and debug-logging checks fed wrong worlds: pasta's log as it
wrote it in the lab (passt 2025-05-03, trixie)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.results.recorder import ClaimMismatch, NoObservation
from scenarios.test_pasta_files import (
    PCAP_MAGIC,
    debug_files,
    first_log_kept,
    log_pid,
    placed,
)
from tests.claim_check import check

HEADER = "pasta 0.0~git20250503.587980c-2+deb13u1: /usr/bin/pasta.avx2 ({pid})\n"
LOG = HEADER.format(pid=11590) + (
    "0.0736: info:    Template interface: eth0 (IPv4), eth0 (IPv6)\n"
    "0.5175:          Flow 0 (INI): TAP [192.0.2.1]:55518 -> [192.0.2.10]:9 => ?\n")


def test_the_installed_pasta_is_not_the_test_directorys(tmp_path: Path) -> None:
    """The wrong world: podman ignoring helper_binaries_dir."""
    bindir = "/home/test/.cache/podnet/pasta-1/bin"
    check("pasta.executable.helper-binaries-dir",
           {"shown": placed(f"{bindir}/pasta", bindir), "runs": placed(f"{bindir}/pasta", bindir)},
           tmp_path)
    with pytest.raises(ClaimMismatch):
        check("pasta.executable.helper-binaries-dir",
               {"shown": placed("/usr/bin/pasta", bindir), "runs": placed(None, bindir)},
               tmp_path)


def test_debug_files_hold_only_with_trace_lines_and_a_capture(tmp_path: Path) -> None:
    check("pasta.debug.log-pcap-trace", debug_files(LOG, PCAP_MAGIC), tmp_path)
    without_trace = "\n".join(LOG.splitlines()[:2])
    for observed in (debug_files(without_trace, PCAP_MAGIC), debug_files(LOG, ""),
                     debug_files("", PCAP_MAGIC)):
        with pytest.raises(ClaimMismatch):
            check("pasta.debug.log-pcap-trace", observed, tmp_path)


def test_the_log_header_names_the_pid() -> None:
    assert log_pid(LOG) == "11590"
    assert log_pid("") is None


def test_a_second_pasta_truncating_the_log_holds(tmp_path: Path) -> None:
    after = HEADER.format(pid=11620)
    check("pasta.debug.log-truncated", first_log_kept(LOG, after), tmp_path)


def test_a_log_appended_to_fails(tmp_path: Path) -> None:
    """The wrong world: the second pasta appends, the first one's lines stay."""
    with pytest.raises(ClaimMismatch):
        check("pasta.debug.log-truncated",
               first_log_kept(LOG, LOG + HEADER.format(pid=11620)), tmp_path)


def test_no_first_log_is_no_observation() -> None:
    with pytest.raises(NoObservation, match="first pasta"):
        first_log_kept("", LOG)
