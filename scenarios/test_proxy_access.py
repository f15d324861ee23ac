"""The newest guide's "Access proxy from internet, host and custom network": how a
container on a custom network reaches the socket-activated HTTP reverse proxy.

- Alternative 2, ``AddHost=whoami.example.com:host-gateway``: the client container
  connects to the host's main interface, where the proxy's socket-activated socket
  listens; the socket starts the proxy on demand. The guide's table: works with
  ``Internal=false``, not with ``Internal=true``.
- Alternative 1, ``NetworkAlias=whoami.example.com``: the proxy container listens on the
  custom network too, and the network's DNS resolves the alias to it; works with
  ``Internal=true`` as well, but not on demand (no alias before the proxy runs).

The proxy is podnet's nginx image (``NGINX=3;`` for the inherited socket; on the custom
network its own listener on port 8080). The client is ``podman run ... curl``.
"""

from __future__ import annotations

import secrets
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest

from harness import containers
from harness.claims import Claim, load_default
from harness.outbound_params import params
from harness.results.recorder import NoObservation, Recorder, against_control
from harness.services import IMAGE, PREFIX
from harness.targets.base import QUADLET_DIR, USER_UNIT_DIR, Target
from scenarios.test_same_port import PORT, installed

pytestmark = [pytest.mark.lab, pytest.mark.reverse_proxy]

REGISTRY = load_default()
NAME = "whoami.example.com"
#: curl's exit statuses for "not reached": name not resolved (6), no connection (7, 28).
NOT_REACHED = {6, 7, 28}


@dataclass(frozen=True)
class Fetch:
    exit: int
    output: str

    @property
    def served(self) -> bool:
        return self.exit == 0 and self.output.endswith("200")


def _client(target: Target, network: str, run_args: list[str], port: int = PORT) -> Fetch:
    done = target.podman("run", "--rm", f"--network={network}", *run_args, IMAGE, "curl",
                         "-sS", "--connect-timeout", "3", "-m", "30", "-o", "/dev/null",
                         "-w", "%{http_code}", f"http://{NAME}:{port}/", check=False,
                         timeout=90)
    return Fetch(done.returncode, (done.stdout + done.stderr).strip()[-200:])


def reached(fetch: Fetch, control: Fetch | None) -> bool:
    """Served; "not reached" only with curl's own failure (no name, no connection) while
    the control (the same client on a network with Internal=false) was served."""
    if against_control(fetch.served, control is not None and control.served,
                       "the same client on a network with Internal=false"):
        return True
    if fetch.exit in NOT_REACHED:
        return False
    raise NoObservation(f"curl failed for another reason: exit {fetch.exit}: {fetch.output}")


def _addhost(target: Target, internal: bool) -> tuple[Fetch, dict[str, str]]:
    """Alternative 2: the proxy's socket unit on host1, a client on a custom network
    with --add-host NAME:host-gateway; whether the proxy's service was started by it."""
    stem = f"{PREFIX}proxy-{secrets.token_hex(3)}"
    files = {f"{target.home}/{USER_UNIT_DIR}/{stem}.socket":
             f"[Socket]\nListenStream=0.0.0.0:{PORT}\n",
             f"{target.home}/{QUADLET_DIR}/{stem}.container":
             f'[Container]\nImage={IMAGE}\nContainerName={stem}\nEnvironment="NGINX=3;"\n'
             "Network=none\n"}
    with ExitStack() as stack:
        net = stack.enter_context(containers.network(
            target, options=["--internal"] if internal else []))
        stack.enter_context(installed(target, files))
        target.systemctl_user("start", f"{stem}.socket")
        before = target.systemctl_user("is-active", f"{stem}.service", check=False).stdout.strip()
        fetch = _client(target, net, [f"--add-host={NAME}:host-gateway"])
        after = target.systemctl_user("is-active", f"{stem}.service", check=False).stdout.strip()
    return fetch, {"service_before": before, "service_after": after}


def on_demand(fetch: Fetch, states: dict[str, str]) -> dict[str, bool]:
    """Served, and the proxy's service started by the client's connection."""
    return {"served": fetch.served,
            "started_on_demand": states["service_before"] != "active"
            and states["service_after"] == "active"}


@pytest.mark.parametrize("claim", params(REGISTRY.select("proxy_addhost_reached")))
def test_addhost(claim: Claim, target: Target, recorder: Recorder, applicable: Any) -> None:
    applicable(claim)
    internal = bool(claim.extra["internal"])
    fetch, states = _addhost(target, internal)
    evidence: dict[str, Any] = {"curl": f"exit {fetch.exit}: {fetch.output}", **states}
    if isinstance(claim.expected, dict):
        observed: Any = on_demand(fetch, states)
    else:
        control = None if fetch.served else _addhost(target, False)[0]
        if control is not None:
            evidence["control Internal=false"] = f"exit {control.exit}: {control.output}"
        observed = reached(fetch, control)
    recorder.check(claim, observed, evidence=evidence)


def _alias(target: Target, internal: bool, *, proxy_running: bool) -> Fetch:
    """Alternative 1: the proxy container on the custom network with --network-alias
    NAME, listening on its own port 8080 there; a client on the network fetches NAME."""
    with ExitStack() as stack:
        net = stack.enter_context(containers.network(
            target, options=["--internal"] if internal else []))
        if proxy_running:
            stack.enter_context(containers.running(
                target, [f"--network={net}", f"--network-alias={NAME}"]))
        return _client(target, net, [], port=8080)


@pytest.mark.parametrize("claim", params(REGISTRY.select("proxy_alias_reached")))
def test_network_alias(claim: Claim, target: Target, recorder: Recorder,
                       applicable: Any) -> None:
    applicable(claim)
    internal, running = bool(claim.extra["internal"]), bool(claim.extra["proxy_running"])
    fetch = _alias(target, internal, proxy_running=running)
    control = (None if fetch.served
               else _alias(target, internal=False, proxy_running=True))
    evidence: dict[str, Any] = {"curl": f"exit {fetch.exit}: {fetch.output}"}
    if control is not None:
        evidence["control (Internal=false, proxy running)"] = f"exit {control.exit}: {control.output}"
    recorder.check(claim, reached(fetch, control), evidence=evidence)
