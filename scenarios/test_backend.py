"""The guide's "Network backends": netavark in use, CNI gone, and a custom network's
container address reachable only from inside the rootless network namespace."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from harness.claims import Claim, load_default
from harness.methods import get_method
from harness.outbound_params import params
from harness.podman.info import PodmanInfo
from harness.results.recorder import Recorder
from harness.services import IMAGE, PREFIX
from harness.targets.base import Target
from harness.wait import poll

pytestmark = [pytest.mark.lab, pytest.mark.backend]

REGISTRY = load_default()
CURL_TIMEOUT = 2


def test_netavark_in_use(target: Target, recorder: Recorder, info: PodmanInfo) -> None:
    shown = target.podman("info", "--format", "{{.Host.NetworkBackend}}").stdout.strip()
    recorder.check(REGISTRY.get("backend.netavark-in-use"), shown,
                   evidence={"info_json_networkBackend": info.network_backend})


def test_cni_removed(target: Target, recorder: Recorder, applicable: Any) -> None:
    """With CNI removed, asking podman for the cni backend either fails or is ignored
    (podman then still reports netavark)."""
    claim = REGISTRY.get("backend.cni-removed")
    applicable(claim)
    done = target.podman("--network-backend", "cni", "info", "--format",
                         "{{.Host.NetworkBackend}}", check=False)
    in_use = done.stdout.strip()
    recorder.check(claim, done.ok and in_use == "cni", evidence={
        "command": "podman --network-backend cni info --format {{.Host.NetworkBackend}}",
        "exit": str(done.returncode), "backend": in_use or "-",
        "stderr": done.stderr.strip()[-200:]})


@pytest.fixture(scope="module")
def custom_web(target: Target) -> Iterator[tuple[str, str]]:
    """(container address, token) of a web server on a fresh custom network."""
    token = secrets.token_hex(3)
    net, name = f"{PREFIX}backendnet-{token}", f"{PREFIX}backend-web-{token}"
    try:
        target.podman("network", "create", net)
        target.podman("run", "-d", "--name", name, f"--network={net}", IMAGE)
        address = target.podman(
            "container", "inspect", name, "--format",
            f'{{{{(index .NetworkSettings.Networks "{net}").IPAddress}}}}').stdout.strip()
        poll(lambda: target.podman("exec", name, "curl", "-sf", "-o", "/dev/null",
                                   "http://127.0.0.1:8080/", check=False).ok,
             what=f"{name} to serve", timeout=20)
        yield address, name
    finally:
        target.podman("rm", "-f", "-t", "0", name, check=False)
        target.podman("network", "rm", "-f", net, check=False)


@pytest.mark.parametrize("claim", params(REGISTRY.select("custom_network_address_reachable")))
def test_custom_network_address(claim: Claim, target: Target, recorder: Recorder, applicable: Any,
                                custom_web: tuple[str, str]) -> None:
    applicable(claim, get_method(claim.method or ""))
    address, _ = custom_web
    curl = ["curl", "-s", "--max-time", str(CURL_TIMEOUT), f"http://{address}:8080/"]
    argv = curl if claim.extra["via"] == "host" else ["podman", "unshare", "--rootless-netns", *curl]
    done = target.run(argv, check=False)
    recorder.check(claim, done.ok and "podnet" in done.stdout, evidence={
        "command": " ".join(argv), "exit": str(done.returncode), "body": done.stdout.strip()[:60]})
