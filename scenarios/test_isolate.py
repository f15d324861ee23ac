"""The guide's custom network option ``isolate``: which connections between two custom
networks each pair of ``isolate`` values allows, and the default of podman 6.0 and later.

As the guide's test.bash does it: a web server container on net2, a container on net1
connecting to the server's address on net2 with curl (``--connect-timeout 3``). "Not
allowed" needs curl's own connection failure while a container on net2 reaches the same
server (the positive control).
"""

from __future__ import annotations

import shlex
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest

from harness import containers
from harness.claims import Claim, load_default
from harness.outbound_params import params
from harness.results.recorder import NoObservation, Recorder
from harness.services import IMAGE
from harness.targets.base import Target

pytestmark = [pytest.mark.lab, pytest.mark.custom_network]

REGISTRY = load_default()
SERVER_PORT = 8080
#: curl's exit statuses for a connection that did not happen: refused or unreachable (7),
#: no answer within --connect-timeout (28).
NOT_CONNECTED = {7, 28}


@dataclass(frozen=True)
class Attempt:
    network: str
    exit: int
    output: str
    command: str


def isolate_options(value: str | None) -> list[str]:
    """podman network create options for an isolate value (None: podman's default)."""
    return [] if value is None else [f"--opt=isolate={value}"]


def _connect(target: Target, network: str, address: str) -> Attempt:
    argv = ["run", "--rm", f"--network={network}", IMAGE, "curl", "--connect-timeout", "3",
            "-sS", "-o", "/dev/null", "-w", "%{http_code}", f"http://{address}:{SERVER_PORT}/"]
    done = target.podman(*argv, check=False, timeout=60)
    return Attempt(network, done.returncode, (done.stdout + done.stderr).strip()[-200:],
                   shlex.join(["podman", *argv]))


def connection_allowed(tried: Attempt, control: Attempt) -> bool:
    """Whether the container on net1 reached the server on net2; "not allowed" only
    with curl's own connection failure while the control on net2 reached it."""
    if control.exit != 0:
        raise NoObservation(f"the control on {control.network} did not reach the server "
                            f"either: curl exit {control.exit}: {control.output}")
    if tried.exit == 0:
        return True
    if tried.exit in NOT_CONNECTED:
        return False
    raise NoObservation(f"curl on {tried.network} failed for another reason: exit "
                        f"{tried.exit}: {tried.output}")


@pytest.mark.parametrize("claim", params(REGISTRY.select("isolate_allows")))
def test_isolate(claim: Claim, target: Target, recorder: Recorder, applicable: Any) -> None:
    applicable(claim)
    with ExitStack() as stack:
        net1 = stack.enter_context(containers.network(
            target, options=isolate_options(claim.extra.get("net1"))))
        net2 = stack.enter_context(containers.network(
            target, options=isolate_options(claim.extra.get("net2"))))
        server = stack.enter_context(containers.running(target, [f"--network={net2}"]))
        address = target.podman(
            "inspect", "-f", f'{{{{(index .NetworkSettings.Networks "{net2}").IPAddress}}}}',
            server).stdout.strip()
        tried = _connect(target, net1, address)
        control = _connect(target, net2, address)
        options = {net: target.podman("network", "inspect", "-f", "{{.Options}}", net,
                                      check=False).stdout.strip() for net in (net1, net2)}
    recorder.check(claim, connection_allowed(tried, control), evidence={
        "net1_options": options[net1], "net2_options": options[net2],
        "server_address": address, "command": tried.command,
        "curl": f"exit {tried.exit}: {tried.output}",
        "control_on_net2": f"exit {control.exit}: {control.output}"})
