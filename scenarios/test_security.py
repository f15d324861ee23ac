"""The host-network risk ("Host": --network=host is considered insecure).

A --network=host container shares host1's network namespace: it reaches a service
listening on host1's 127.0.0.1 and an abstract Unix socket of host1 (abstract sockets
belong to the network namespace and have no file permissions). A pasta container
reaches neither. Each observation is recorded as a security finding.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from harness.capabilities import Capabilities
from harness.claims import Claim, load_default
from harness.methods import get_method
from harness.outbound_params import params
from harness.probes import hostserver, netconf, outbound
from harness.results.recorder import NoObservation, Recorder
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


#: socat's words when no abstract socket of that name exists in the network namespace.
ABSTRACT_REFUSED = "Connection refused"
#: The positive control: --network=host shares host1's namespace, where the socket is.
CONTROL_NETWORK = "host"


@pytest.mark.parametrize("claim", params(REGISTRY.select("host_network_reaches_abstract_socket")))
def test_reaches_abstract_socket(claim: Claim, target: Target, recorder: Recorder, applicable: Any,
                                 abstract_socket: hostserver.HostServer) -> None:
    applicable(claim, get_method(claim.method or ""))
    tried = _abstract_connect(target, claim.extra["network"], abstract_socket)
    control = _abstract_connect(target, CONTROL_NETWORK, abstract_socket)
    recorder.check(claim, abstract_reached(tried, control, abstract_socket.token), evidence={
        **tried.evidence(), **control.evidence(f"control --network={CONTROL_NETWORK} "),
        "finding": "security"})


@dataclass(frozen=True)
class AbstractConnect:
    command: str
    exit: int
    stdout: str
    stderr: str

    def evidence(self, prefix: str = "") -> dict[str, Any]:
        return {f"{prefix}command": self.command, f"{prefix}exit": self.exit,
                f"{prefix}stdout": self.stdout[:100], f"{prefix}stderr": self.stderr[-200:]}


def _abstract_connect(target: Target, network: str,
                      server: hostserver.HostServer) -> AbstractConnect:
    argv = target.marked(["podman", "run", "--rm", f"--network={network}", IMAGE,
                          "socat", "-T2", "-", f"ABSTRACT-CONNECT:{server.socket}"])
    done = target.run(argv, check=False, input="")
    return AbstractConnect(shlex.join(argv), done.returncode, done.stdout.strip(),
                           done.stderr.strip())


def abstract_reached(tried: AbstractConnect, control: AbstractConnect, token: str) -> bool:
    """Whether the container reached host1's abstract socket: the token came back. "Not
    reached" needs socat's own refusal while the host-network control reached it; any
    other failure (podman, the image, socat's arguments) is no observation."""
    if tried.exit == 0 and tried.stdout == token:
        return True
    if not (control.exit == 0 and control.stdout == token):
        raise NoObservation("the control (--network=host) did not reach the abstract socket "
                            f"either: exit {control.exit}: {control.stderr[-200:]}")
    if tried.exit != 0 and ABSTRACT_REFUSED in tried.stderr:
        return False
    raise NoObservation(f"the container neither reached the abstract socket nor was refused "
                        f"by it: exit {tried.exit}: {(tried.stderr or tried.stdout)[-200:]}")
