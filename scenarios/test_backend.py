"""The guide's "Network backends": netavark in use, CNI gone, and a custom network's
container address reachable only from inside the rootless network namespace."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from harness import containers
from harness.claims import Claim, load_default
from harness.methods import get_method
from harness.outbound_params import params
from harness.podman.info import PodmanInfo
from harness.results.recorder import NoObservation, Recorder
from harness.services import PREFIX
from harness.targets.base import Target
from harness.wait import poll

pytestmark = [pytest.mark.lab, pytest.mark.backend]

REGISTRY = load_default()
CURL_TIMEOUT = 2


@pytest.mark.claims("backend.netavark-in-use")
def test_netavark_in_use(target: Target, recorder: Recorder, info: PodmanInfo) -> None:
    shown = target.podman("info", "--format", "{{.Host.NetworkBackend}}").stdout.strip()
    recorder.check(REGISTRY.get("backend.netavark-in-use"), shown,
                   evidence={"info_json_networkBackend": info.network_backend})


@pytest.mark.claims("backend.cni-removed")
def test_cni_removed(claim: Claim, target: Target, recorder: Recorder, applicable: Any) -> None:
    """Asking podman for the cni backend: podman's own refusal of that backend, or podman
    running and reporting netavark, shows CNI gone; any other failure is no observation."""
    applicable(claim)
    argv = ["--network-backend", "cni", "info", "--format", "{{.Host.NetworkBackend}}"]
    done = target.podman(*argv, check=False)
    available, how = cni_available(done.returncode, done.stdout, done.stderr)
    recorder.check(claim, available, evidence={
        "command": "podman " + " ".join(argv), "exit": str(done.returncode),
        "backend": done.stdout.strip() or "-", "observed": how,
        "stderr": done.stderr.strip()[-300:]})


#: podman's refusal of the cni backend (podman >= 5.0 builds without CNI).
CNI_REFUSED = re.compile(r'unsupported network backend "cni"')


def cni_available(returncode: int, stdout: str, stderr: str) -> tuple[bool, str]:
    """Whether CNI is available, and what showed it; raises :class:`NoObservation` for
    any other outcome (an unrelated error must not count as "removed")."""
    if returncode != 0 and CNI_REFUSED.search(stderr):
        return False, "podman refused the cni backend"
    backend = stdout.strip()
    if returncode == 0 and backend in ("cni", "netavark"):
        return backend == "cni", f"podman ran and reports {backend}"
    raise NoObservation(f"podman --network-backend cni: exit {returncode}, "
                        f"neither a refusal of cni nor a backend: {stderr.strip()[-200:]!r}")


@pytest.fixture(scope="module")
def custom_web(target: Target) -> Iterator[tuple[str, str]]:
    """(container address, token) of a web server on a fresh custom network."""
    token = secrets.token_hex(3)
    with containers.network(target, f"{PREFIX}backendnet-{token}") as net, \
            containers.running(target, [f"--network={net}"],
                               name=f"{PREFIX}backend-web-{token}") as name:
        address = target.podman(
            "container", "inspect", name, "--format",
            f'{{{{(index .NetworkSettings.Networks "{net}").IPAddress}}}}').stdout.strip()
        poll(lambda: target.podman("exec", name, "curl", "-sf", "-o", "/dev/null",
                                   "http://127.0.0.1:8080/", check=False).ok,
             what=f"{name} to serve", timeout=20)
        yield address, name


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


@pytest.mark.claims("backend.netavark-container-address")
def test_netavark_container_address(claim: Claim, target: Target, recorder: Recorder, applicable: Any,
                                    custom_web: tuple[str, str]) -> None:
    """The first container on a new network: its address against the guide's quote."""
    applicable(claim)
    address, name = custom_web
    recorder.check(claim, address, evidence={"container": name, "inspect_address": address})
