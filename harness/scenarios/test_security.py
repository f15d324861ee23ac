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
from harness.probes import hostserver, netconf, outbound
from harness.requirements import Capabilities
from harness.results.recorder import Recorder
from harness.services import IMAGE
from harness.targets.base import Target

pytestmark = [pytest.mark.lab, pytest.mark.security]

REGISTRY = load_default()
LOCALHOST_PORT = 18085
HOST_NAME = "host.containers.internal"


@pytest.fixture(scope="module")
def loopback_service(target: Target) -> Iterator[hostserver.HostServer]:
    with hostserver.http_server(target.run, "127.0.0.1", LOCALHOST_PORT,
                                record=target.record_file) as server:
        yield server


@pytest.fixture(scope="module")
def abstract_socket(target: Target) -> Iterator[hostserver.HostServer]:
    with hostserver.unix_socket_server(target.run, abstract=True,
                                       record=target.record_file) as server:
        yield server


@pytest.mark.parametrize("claim", params(REGISTRY.select("host_network_reaches_localhost")))
def test_reaches_localhost(claim: Claim, target: Target, recorder: Recorder, applicable: Any,
                           loopback_service: hostserver.HostServer) -> None:
    applicable(claim, get_method(claim.method or ""))
    reached, evidence = localhost_reached(target, claim.extra["network"], loopback_service)
    recorder.check(claim, reached, evidence={**evidence, "finding": "security"})


def localhost_urls(service: hostserver.HostServer, host_addresses: list[str], *,
                   gateway: bool) -> list[str]:
    """Every way a container might name the host: 127.0.0.1, each address of the host,
    host.containers.internal and, on an isolated target only (elsewhere it is a real
    router), the container's default gateway (what --map-gw maps to the host's loopback)."""
    hosts = dict.fromkeys(["127.0.0.1", *host_addresses, HOST_NAME,
                           *(["{gateway}"] if gateway else [])])
    return [service.url(host) for host in hosts]


def localhost_reached(target: Target, network: str,
                      service: hostserver.HostServer) -> tuple[bool, dict[str, Any]]:
    """Whether a container on ``network`` reaches the service on the host's 127.0.0.1
    through any of the host's addresses."""
    addresses = netconf.ipv4_addresses(target)
    urls = localhost_urls(service, addresses, gateway=target.isolated)
    result = outbound.container_fetch(target, network, urls)
    return result.reached(service.token), {**result.evidence(),
                                           "host_addresses": ",".join(addresses)}


def test_localhost_check_sees_map_gw(target: Target, loopback_service: hostserver.HostServer,
                                     capabilities: Capabilities) -> None:
    """The wrong world for the pasta cell: with --map-gw the gateway address leads to the
    host's loopback, so the check must see the service (127.0.0.1 alone would not)."""
    if missing := capabilities.first_missing(["pasta", "isolated"]):
        pytest.skip(missing)
    reached, evidence = localhost_reached(target, "pasta:--map-gw", loopback_service)
    assert reached, f"--map-gw reaches the host's loopback, the check did not see it: {evidence}"


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
