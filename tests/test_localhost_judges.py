"""The newest guide's host-localhost checks fed wrong worlds: --map-gw as a podman option
(pasta's argv), pasta --help (recorded in the lab: passt 2025-05-03, trixie) and the
source address the host's server logs for -T."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.results.recorder import ClaimMismatch, NoObservation
from scenarios.test_outbound import MAP_GW, NO_MAP_GW, help_options, map_gw_arguments
from tests.claim_check import check

FIXTURES = Path(__file__).parent / "fixtures"
HELP = (FIXTURES / "outbound" / "pasta-help-trixie.txt").read_text()
PLAIN = (FIXTURES / "pasta_processes" / "containers.txt").read_text().splitlines()[0].split()
MAPPED = [arg for arg in PLAIN if arg != NO_MAP_GW]


def test_map_gw_omits_no_map_gw(tmp_path: Path) -> None:
    check("outbound.localhost.map-gw-not-a-pasta-option", map_gw_arguments(MAPPED, PLAIN),
           tmp_path)


@pytest.mark.parametrize("args", [PLAIN, [*MAPPED, MAP_GW]], ids=["no-map-gw-kept", "passed-on"])
def test_podman_keeping_no_map_gw_or_passing_map_gw_on_fails(args: list[str],
                                                             tmp_path: Path) -> None:
    with pytest.raises(ClaimMismatch):
        check("outbound.localhost.map-gw-not-a-pasta-option", map_gw_arguments(args, PLAIN),
               tmp_path)


def test_a_control_without_no_map_gw_is_no_observation() -> None:
    with pytest.raises(NoObservation, match="control"):
        map_gw_arguments(MAPPED, MAPPED)


def test_pasta_help_lists_no_map_gw_only(tmp_path: Path) -> None:
    check("outbound.localhost.pasta-help-map-gw", help_options(HELP, (MAP_GW, NO_MAP_GW)),
           tmp_path)


def test_a_help_text_with_map_gw_fails(tmp_path: Path) -> None:
    text = HELP + "  --map-gw\t\tMap gateway address to host\n"
    with pytest.raises(ClaimMismatch):
        check("outbound.localhost.pasta-help-map-gw", help_options(text, (MAP_GW, NO_MAP_GW)),
               tmp_path)


def test_an_error_instead_of_help_is_no_observation() -> None:
    with pytest.raises(NoObservation, match="not a help text"):
        help_options("pasta: command not found", (MAP_GW,))


@pytest.mark.parametrize("source", ["192.0.2.1", None])
def test_a_server_seeing_another_source_fails_the_warning(source: str | None,
                                                          tmp_path: Path) -> None:
    with pytest.raises(ClaimMismatch):
        check("outbound.localhost.tcp-ns-seen-from-loopback", source, tmp_path)
