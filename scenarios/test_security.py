"""The host-network risk ("Host": --network=host is considered insecure).

A --network=host container shares host1's network namespace: it reaches a service
listening on host1's 127.0.0.1 and an abstract Unix socket of host1 (abstract sockets
belong to the network namespace and have no file permissions). A pasta container
reaches neither. Each observation is recorded as a security finding.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from typing import Any

import pytest

from harness.claims import Claim, load_default
from harness.methods import get_method
from harness.outbound_params import params
from harness.probes import hostserver, outbound
from harness.results.recorder import Recorder
from harness.services import IMAGE
from harness.targets.base import Target

pytestmark = [pytest.mark.lab, pytest.mark.security]

REGISTRY = load_default()
LOCALHOST_PORT = 18085


@pytest.fixture(scope="module")
def loopback_service(target: Target) -> Iterator[hostserver.HostServer]:
    with hostserver.http_server(target.run, "127.0.0.1", LOCALHOST_PORT) as server:
        yield server


@pytest.fixture(scope="module")
def abstract_socket(target: Target) -> Iterator[hostserver.HostServer]:
    with hostserver.unix_socket_server(target.run, abstract=True) as server:
        yield server


@pytest.mark.parametrize("claim", params(REGISTRY.select("host_network_reaches_localhost")))
def test_reaches_localhost(claim: Claim, target: Target, recorder: Recorder, applicable: Any,
                           loopback_service: hostserver.HostServer) -> None:
    applicable(claim, get_method(claim.method or ""))
    result = outbound.container_fetch(target, claim.extra["network"], [loopback_service.url()])
    recorder.check(claim, result.reached(loopback_service.token),
                   evidence={**result.evidence(), "finding": "security"})


@pytest.mark.parametrize("claim", params(REGISTRY.select("host_network_reaches_abstract_socket")))
def test_reaches_abstract_socket(claim: Claim, target: Target, recorder: Recorder, applicable: Any,
                                 abstract_socket: hostserver.HostServer) -> None:
    applicable(claim, get_method(claim.method or ""))
    argv = target.marked(["podman", "run", "--rm", f"--network={claim.extra['network']}", IMAGE,
                          "socat", "-T2", "-", f"ABSTRACT-CONNECT:{abstract_socket.socket}"])
    done = target.run(argv, check=False, input="")
    recorder.check(claim, done.ok and done.stdout.strip() == abstract_socket.token, evidence={
        "command": shlex.join(argv), "stdout": done.stdout.strip()[:100],
        "stderr": done.stderr.strip()[-200:], "finding": "security"})
