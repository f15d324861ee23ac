"""The guide's custom networks under "Restricting network access": an nginx container unit
connected to two networks (``Network=`` twice, both ``Options=isolate=strict``), and a
container on an internal network (``Internal=true``) listening to the internet through
socket activation or ``PublishPort=``.

The networks are quadlet ``.network`` files with ``NetworkName=``; the container is
podnet's nginx image. From each network a ``podman run`` client fetches the container's
address on that network; from host2 the client fetches host1's published port.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from contextlib import ExitStack, suppress
from typing import Any

import pytest

from harness.claims import Claim, load_default
from harness.clients.base import Client
from harness.outbound_params import params
from harness.results.recorder import NoObservation, Recorder, against_control
from harness.services import ACTIVATION_WAIT, IMAGE, PREFIX
from harness.targets.base import QUADLET_DIR, USER_UNIT_DIR, Target
from harness.wait import NotReady, poll
from scenarios.test_same_port import PORT, installed

pytestmark = [pytest.mark.lab, pytest.mark.custom_network]

REGISTRY = load_default()
START_TIMEOUT = 60.0


def network_file(name: str, lines: Sequence[str]) -> str:
    return "\n".join(["[Network]", f"NetworkName={name}", *lines, ""])


def _address(target: Target, container: str, network: str) -> str | None:
    done = target.podman("inspect", "-f", f'{{{{(index .NetworkSettings.Networks "{network}")'
                         '.IPAddress}}', container, check=False)
    return done.stdout.strip() or None if done.ok else None


def _fetch_from(target: Target, network: str, address: str) -> bool:
    done = target.podman("run", "--rm", f"--network={network}", IMAGE, "curl", "-s",
                         "--connect-timeout", "3", "-o", "/dev/null", "-w", "%{http_code}",
                         f"http://{address}:8080/", check=False, timeout=60)
    return done.stdout.strip() == "200"


def reachable_from(addresses: dict[str, str | None], fetched: dict[str, bool]
                   ) -> dict[str, bool]:
    """Per network: whether the container has an address there and a client on that
    network reached it. A container with no address on any network never ran."""
    if not any(addresses.values()):
        raise NoObservation("the container has no address on any network: it did not run")
    return {f"net{n}": bool(addresses[net] and fetched.get(net)) for n, net in
            enumerate(addresses, 1)}


@pytest.mark.parametrize("claim", params(REGISTRY.select("multiple_networks_reachable")))
def test_two_networks(claim: Claim, target: Target, recorder: Recorder, applicable: Any) -> None:
    """The guide's net1.network, net2.network and nginx.container (its Network= lines
    from the claim: the wrong world, one line, leaves net2 unreached)."""
    applicable(claim)
    token = secrets.token_hex(3)
    nets = [f"{PREFIX}net{n}-{token}" for n in (1, 2)]
    stems = [f"{PREFIX}net{n}q-{token}" for n in (1, 2)]
    name = f"{PREFIX}nginx-{token}"
    quadlet = f"{target.home}/{QUADLET_DIR}"
    files = {f"{quadlet}/{stem}.network": network_file(net, ["Options=isolate=strict"])
             for stem, net in zip(stems, nets, strict=True)}
    lines = [f"Network={stems[n - 1]}.network" for n in claim.extra["networks"]]
    files[f"{quadlet}/{name}.container"] = "\n".join(
        ["[Container]", f"Image={IMAGE}", f"ContainerName={name}", *lines, ""])
    with ExitStack() as stack:
        stack.enter_context(installed(target, files))
        stack.callback(target.remove_own, "networks", *nets)
        target.systemctl_user("start", f"{name}.service", check=False)
        with suppress(NotReady):
            poll(lambda: _address(target, name, nets[0]), what=f"{name} on {nets[0]}",
                 timeout=START_TIMEOUT)
        addresses = {net: _address(target, name, net) for net in nets}
        fetched = {net: _fetch_from(target, net, address)
                   for net, address in addresses.items() if address}
    recorder.check(claim, reachable_from(addresses, fetched), evidence={
        "container_unit": files[f"{quadlet}/{name}.container"],
        "addresses": str(addresses), "fetched": str(fetched)})


# --- an internal network listening to the internet ----------------------------------

def internal_units(target: Target, token: str, *, internal: bool, socket: bool
                   ) -> tuple[dict[str, str], str, str, str]:
    """The .network (Internal=true or false), the container unit and, for socket
    activation, its socket; the files, the unit to start, the container, the network."""
    net, stem = f"{PREFIX}int-{token}", f"{PREFIX}intweb-{token}"
    quadlet, units = f"{target.home}/{QUADLET_DIR}", f"{target.home}/{USER_UNIT_DIR}"
    files = {f"{quadlet}/{net}q.network": network_file(
        net, [f"Internal={'true' if internal else 'false'}"])}
    container = ["[Container]", f"Image={IMAGE}", f"ContainerName={stem}",
                 f"Network={net}q.network"]
    if socket:
        container.append('Environment="NGINX=3;"')
        files[f"{units}/{stem}.socket"] = f"[Socket]\nListenStream=0.0.0.0:{PORT}\n"
    else:
        container.append(f"PublishPort=0.0.0.0:{PORT}:8080")
    files[f"{quadlet}/{stem}.container"] = "\n".join([*container, ""])
    return files, f"{stem}.socket" if socket else f"{stem}.service", stem, net


def _served(target: Target, client: Client, *, internal: bool, socket: bool
            ) -> tuple[bool, dict[str, Any]]:
    token = secrets.token_hex(3)
    files, unit, container, net = internal_units(target, token, internal=internal,
                                                 socket=socket)
    url = f"http://{target.main_address}:{PORT}/?probe={token}"
    with ExitStack() as stack:
        stack.enter_context(installed(target, files))
        stack.callback(target.remove_own, "networks", net)
        target.systemctl_user("start", unit, check=False)
        served: bool
        try:
            served = bool(poll(lambda: client.http_get(url, timeout=3).ok or None,
                               what=f"{url} served", timeout=ACTIVATION_WAIT, interval=0.5))
        except NotReady:
            served = False
        state = target.systemctl_user("is-active", f"{container}.service",
                                      check=False).stdout.strip()
    return bool(served), {"units": " || ".join(files.values()), "service": state}


def internal_listens(served: bool, control: bool | None) -> bool:
    """Served from host2; "not served" only while the same units on a network with
    Internal=false serve (the control)."""
    return against_control(served, control, "the same units on a network with Internal=false")


@pytest.mark.parametrize("claim", params(REGISTRY.select("internal_network_listens")))
def test_internal_network_listens(claim: Claim, target: Target, client: Client,
                                  recorder: Recorder, applicable: Any) -> None:
    applicable(claim)
    socket = claim.extra["via"] == "socket activation"
    served, evidence = _served(target, client, internal=True, socket=socket)
    control = None
    if not served:
        control, control_evidence = _served(target, client, internal=False, socket=socket)
        evidence["control Internal=false"] = "served" if control else control_evidence["service"]
    recorder.check(claim, internal_listens(served, control), evidence=evidence)
