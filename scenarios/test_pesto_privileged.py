"""Beyond the guide: podman 6's pasta port forwarder (``rootless_port_forwarder =
"pasta"``) and a privileged port. rootlessport refuses ``-p 80:8080`` for a rootless
user outright; with the pasta forwarder podman 6.1.1 was seen to exit 0 and show the port
while nothing listens. Observed here: podman's exit status and the port's service for
``-p PRIVILEGED`` on a custom network, and whether a port another running container had
published on a custom network still serves afterwards.

The privileged port is one below host1's ``ip_unprivileged_port_start``; the positive
control is the same ``podman run`` with rootlessport (no setting), which must refuse it.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest

from harness import containers, network_settings
from harness.claims import Claim, load_default
from harness.clients.base import Client
from harness.methods import get_method
from harness.outbound_params import params
from harness.results.recorder import NoObservation, Recorder
from harness.services import IMAGE
from harness.targets.base import Target
from harness.wait import NotReady, poll

pytestmark = [pytest.mark.lab, pytest.mark.beyond_guide]

REGISTRY = load_default()
OTHER_PORT = 18100
SERVE_TIMEOUT = 20.0


@dataclass(frozen=True)
class Publish:
    exit: int
    message: str
    served: bool


def _privileged_port(target: Target) -> int:
    start = int(target.sysctl("net.ipv4.ip_unprivileged_port_start"))
    if start <= 1:
        pytest.skip(f"ip_unprivileged_port_start is {start} on the target: no privileged port")
    return min(80, start - 1)


def _serves(client: Client, url: str, wait: bool) -> bool:
    if not wait:
        return client.http_get(url, timeout=3).ok
    try:
        return bool(poll(lambda: client.http_get(url, timeout=3).ok or None, what=url,
                         timeout=SERVE_TIMEOUT, interval=0.5))
    except NotReady:
        return False


def _publish(target: Target, client: Client, net: str, port: int, stack: ExitStack
             ) -> Publish:
    name = containers.unique("privport")
    stack.callback(target.remove_own, "containers", name)
    done = target.podman("run", "-d", "--name", name, f"--network={net}", "-p",
                         f"{port}:8080", IMAGE, check=False)
    served = done.ok and _serves(client, f"http://{target.main_address}:{port}/", wait=True)
    return Publish(done.returncode, (done.stderr or done.stdout).strip()[-300:], served)


def refused(result: Publish, control: Publish) -> bool:
    """Whether podman reported the privileged port's failure (non-zero exit). Believed
    only while rootlessport refused the same port (the control: the port is privileged
    there); a port that serves says the lab's port was not privileged after all."""
    if control.exit == 0:
        raise NoObservation("rootlessport published the port too: it is not privileged here "
                            f"({control.message or 'exit 0'})")
    if result.served:
        raise NoObservation("the port serves with the pasta forwarder: not a failed publication")
    return result.exit != 0


@pytest.mark.parametrize("claim", params(REGISTRY.select("pesto_privileged_port")))
def test_privileged_port(claim: Claim, target: Target, client: Client, recorder: Recorder,
                         applicable: Any) -> None:
    method = get_method(claim.method or "")
    applicable(claim, method)
    port = _privileged_port(target)
    with ExitStack() as stack:
        net = stack.enter_context(containers.network(target))
        control = _publish(target, client, net, port, stack)
    with ExitStack() as stack:
        stack.enter_context(network_settings.applied(target, method))
        net = stack.enter_context(containers.network(target))
        other = stack.enter_context(containers.running(
            target, [f"--network={net}", "-p", f"{OTHER_PORT}:8080"]))
        other_url = f"http://{target.main_address}:{OTHER_PORT}/"
        other_before = _serves(client, other_url, wait=True)
        result = _publish(target, client, net, port, stack)
        shown = target.podman("ps", "-a", "--format", "{{.Names}} {{.Ports}}",
                              check=False).stdout.strip()
        other_after = _serves(client, other_url, wait=False)
    evidence = {"port": port, "exit": result.exit, "podman": result.message,
                "served": result.served, "podman_ps": shown, "other_container": other,
                "other_port_served_before": other_before,
                "other_port_served_after": other_after,
                "control_rootlessport": f"exit {control.exit}: {control.message}"}
    if claim.extra["observe"] == "refused":
        recorder.check(claim, refused(result, control), evidence=evidence)
    else:
        if not other_before:
            raise NoObservation(f"the other container's port {OTHER_PORT} never served")
        recorder.check(claim, other_after, evidence=evidence)
