"""The verdict on the guide's "native speed" of socket activation + pasta + custom
network with a reverse proxy, on per-round ratios recorded in the lab
(tests/fixtures/proxies/throughput.json), and the suite's parsing and configuration."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.bench import verdict
from harness.bench.stats import RatioSummary, summarize
from harness.bench.throughput import bulk_sample
from harness.errors import PodnetError
from harness.proxies.bench import native_nginx_conf, nginx_server
from scenarios.test_proxy_throughput import combination_native

LAB: dict[str, Any] = json.loads(
    (Path(__file__).parent / "fixtures" / "proxies" / "throughput.json").read_text())


def _summaries(series: str) -> dict[str, RatioSummary]:
    """Recorded per-round ratios as the suite summarizes them (reference 1 each round)."""
    found = {}
    for combo, ratios in LAB[series].items():
        summary = summarize(dict(enumerate(ratios, 1)), dict.fromkeys(range(1, len(ratios) + 1), 1.0))
        assert summary is not None
        found[combo] = summary
    return found


def test_recorded_run_is_inconclusive_when_the_control_looks_native() -> None:
    """The lab's run: the combination is at or above native in both directions, but so is
    the proxy published with -p; these rounds cannot tell them apart."""
    combination = _summaries("socket-activated-proxy")
    assert verdict.native(combination).observed is True
    found = combination_native(combination, _summaries("published-proxy"))
    assert found.observed is None
    assert "control" in found.reason and "cannot tell" in found.reason
    assert set(found.detail) == {"inbound/tcp", "inbound-reverse/tcp", "control inbound/tcp",
                                 "control inbound-reverse/tcp"}


def test_native_when_the_control_is_told_apart() -> None:
    """Where the same rounds find the control below native (the iperf3 suite's pasta +
    custom network), the combination's ratios at or above native are a verdict."""
    found = combination_native(_summaries("socket-activated-proxy"),
                               _summaries("pasta-custom-network-iperf3"))
    assert found.observed is True
    assert "control is below 0.9" in found.reason


def test_wrong_world_fails() -> None:
    """The wrong world: the proxy behind a forwarder as slow as pasta + custom network's
    -p (ratios of 0.24-0.36 of native). No control is needed to say "below native"."""
    found = combination_native(_summaries("pasta-custom-network-iperf3"),
                               _summaries("published-proxy"))
    assert found.observed is False
    assert "wholly below" in found.reason


def test_a_control_missing_a_direction_is_inconclusive() -> None:
    control = {k: v for k, v in _summaries("pasta-custom-network-iperf3").items()
               if k == "inbound/tcp"}
    found = combination_native(_summaries("socket-activated-proxy"), control)
    assert found.observed is None
    assert "inbound-reverse/tcp" in found.reason


def test_quick_mode_is_inconclusive() -> None:
    one_round = {k: RatioSummary(1.0, 1.0, 1.0, 1, (1.0,)) for k in ("inbound/tcp",
                                                                    "inbound-reverse/tcp")}
    found = combination_native(one_round, one_round)
    assert found.observed is None
    assert "fewer than 3 rounds" in found.reason


def test_client_output_parsed() -> None:
    sample = bulk_sample(LAB["client_output"])
    data = json.loads(LAB["client_output"])
    assert sample.nbytes == data["bytes"]
    assert sample.bits_per_second == pytest.approx(data["bytes"] * 8 / data["seconds"])
    assert sample.extra["requests"] == data["requests"]


def test_client_error_raises() -> None:
    with pytest.raises(PodnetError, match="ConnectionRefusedError"):
        bulk_sample('{"error": "ConnectionRefusedError: [Errno 111] Connection refused"}\n')
    with pytest.raises(PodnetError, match="printed nothing"):
        bulk_sample("")


def test_native_reference_runs_the_containers_server_block() -> None:
    """Native and container nginx differ only in the backend's address and the port."""
    container = nginx_server("podnet-rproxy-backend-abc", 5270)
    native = native_nginx_conf("/tmp/d", "/tmp/d.pid", 5272, 5273)
    assert nginx_server("127.0.0.1", 5272, 5273) in native
    assert container.replace("podnet-rproxy-backend-abc:8080", "127.0.0.1:5273").replace(
        "listen 5270", "listen 5272") in native
    assert "worker_processes 1;" in native
    for streaming in ("proxy_buffering off;", "proxy_request_buffering off;"):
        assert streaming in container
