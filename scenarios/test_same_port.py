"""The guide's "Using the same port from multiple services": several socket units on one
port with ``ReusePort=true`` (alternative 1), one socket unit shared by several services
with ``Sockets=`` (alternative 2).

The services are quadlet containers of podnet's nginx image taking the inherited socket
(``NGINX=3;``), as the guide's caddy containers take ``fd/3``; the sockets listen on
host1's port 8080 (the guide's 80 is privileged for the user's manager). host2 sends
requests, each with its own probe; each container's access log says which ones it
served. ``ss -ltnp`` (as root) says how many listening sockets the port has and which
processes hold them.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from harness.claims import Claim, load_default
from harness.clients.base import Client
from harness.outbound_params import params
from harness.probes import nginx_log
from harness.proxies.sockets import Holder, listeners
from harness.results.recorder import NoObservation, Recorder
from harness.services import ACTIVATION_WAIT, IMAGE, PREFIX
from harness.targets.base import QUADLET_DIR, USER_UNIT_DIR, Target
from harness.wait import logged, poll

pytestmark = [pytest.mark.lab, pytest.mark.socket_activation]

REGISTRY = load_default()
PORT = 8080
REQUESTS = 16
#: systemd's words when a socket unit cannot bind a port another socket holds.
IN_USE = "Address already in use"


@dataclass
class Units:
    """The units of one setup: socket units, the services, their containers."""

    sockets: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    containers: list[str] = field(default_factory=list)


def socket_text(reuse_port: bool, service: str | None = None) -> str:
    lines = ["[Socket]", f"ListenStream=0.0.0.0:{PORT}"]
    if reuse_port:
        lines.append("ReusePort=true")
    if service:
        lines.append(f"Service={service}")
    return "\n".join([*lines, ""])


def container_text(name: str, sockets: str | None = None) -> str:
    service = ["[Service]", f"Sockets={sockets}", ""] if sockets else []
    return "\n".join([*service, "[Container]", f"Image={IMAGE}", f"ContainerName={name}",
                      'Environment="NGINX=3;"', ""])


@contextmanager
def installed(target: Target, files: dict[str, str]) -> Iterator[None]:
    """Write unit and quadlet files (session-marked), reload the user manager; on exit
    stop what they define, remove them and the containers quadlet made."""
    try:
        for path, text in files.items():
            target.write_file(path, target.label_quadlet(path, text))
        target.systemctl_user("daemon-reload")
        yield
    finally:
        target.undo_units(*files)


def _paths(target: Target, stem: str) -> tuple[str, str]:
    return (f"{target.home}/{USER_UNIT_DIR}/{stem}.socket",
            f"{target.home}/{QUADLET_DIR}/{stem}.container")


def reuse_port_units(target: Target, stack: ExitStack, reuse: Sequence[bool]) -> Units:
    """Alternative 1: app<N>.socket + app<N>.container per entry of ``reuse`` (whether
    that socket sets ``ReusePort=true``)."""
    token = secrets.token_hex(3)
    units, files = Units(), {}
    for number, flag in enumerate(reuse, 1):
        stem = f"{PREFIX}app{number}-{token}"
        socket, quadlet = _paths(target, stem)
        files[socket], files[quadlet] = socket_text(flag), container_text(stem)
        units.sockets.append(f"{stem}.socket")
        units.services.append(f"{stem}.service")
        units.containers.append(stem)
    stack.enter_context(installed(target, files))
    return units


def shared_socket_units(target: Target, stack: ExitStack) -> Units:
    """Alternative 2: app.socket (Service=app1.service) and app1/app2.container, both
    with ``Sockets=app.socket``."""
    token = secrets.token_hex(3)
    shared = f"{PREFIX}app-{token}"
    stems = [f"{PREFIX}app{n}-{token}" for n in (1, 2)]
    socket, _ = _paths(target, shared)
    files = {socket: socket_text(False, service=f"{stems[0]}.service")}
    for stem in stems:
        files[_paths(target, stem)[1]] = container_text(stem, sockets=f"{shared}.socket")
    stack.enter_context(installed(target, files))
    return Units([f"{shared}.socket"], [f"{s}.service" for s in stems], stems)


def _start(target: Target, unit: str) -> tuple[bool, str]:
    done = target.systemctl_user("start", unit, check=False)
    return done.ok, (done.stderr or done.stdout).strip()


def failure_text(target: Target, unit: str) -> str:
    """What the user manager logged for ``unit`` (``systemctl status``' last lines)."""
    done = target.systemctl_user("status", "--no-pager", "--lines=20", unit, check=False)
    return done.stdout


def served_by(target: Target, client: Client, units: Units, count: int = REQUESTS
              ) -> dict[str, Any]:
    """host2 sends ``count`` requests, each with its own probe; how many were answered
    and, per container, how many its access log shows."""
    probe = secrets.token_hex(3)
    answered = 0
    for number in range(count):
        url = f"http://{target.main_address}:{PORT}/?probe={probe}-{number}"
        answered += client.http_get(url, timeout=ACTIVATION_WAIT).ok

    def counts() -> dict[str, int]:
        return {name: sum(probe in e.path for e in nginx_log.parse(
            target.podman("logs", name, check=False).stdout)) for name in units.containers}

    found = logged(lambda: (c if sum((c := counts()).values()) >= answered else None),
                   what="every answered request in the access logs") or counts()
    return {"requests": count, "answered": answered, "served_by": found}


def _main_pids(target: Target, containers: Sequence[str]) -> dict[str, int]:
    found = {}
    for name in containers:
        done = target.podman("inspect", "-f", "{{.State.Pid}}", name, check=False)
        if done.ok and done.stdout.strip().isdigit():
            found[name] = int(done.stdout.strip())
    return found


def socket_holders(sockets: list[list[Holder]], pids: dict[str, int]) -> list[list[str]]:
    """Per listening socket of the port: which of the containers (by main pid) hold it."""
    return [sorted(name for name, pid in pids.items() if any(h.pid == pid for h in holders))
            for holders in sockets]


def reuse_port_observation(started: list[bool], sockets: int, served: dict[str, Any]
                           ) -> dict[str, bool]:
    """Alternative 1 as the guide shows it: every socket unit started, each its own
    listening socket, and connections handled sometimes by one service, sometimes by
    the other."""
    counts = served["served_by"].values()
    if started and all(started) and served["answered"] == 0:
        raise NoObservation("the sockets started but no request was answered: the services "
                            "never served")
    return {"all_sockets_listen": bool(started) and all(started) and sockets == len(started),
            "every_service_serves": bool(counts) and all(n > 0 for n in counts)}


def second_socket_refused(first_started: bool, second_started: bool, status: str) -> bool:
    """Whether the second socket unit failed because the port is taken. Believed only
    while the first socket listens (the control), and only for systemd's "in use"
    failure: a unit refused for another reason says nothing about ReusePort=."""
    if not first_started:
        raise NoObservation("the first socket unit did not start either (the control)")
    if second_started:
        return False
    if IN_USE not in status:
        raise NoObservation(f"the second socket unit failed, not with {IN_USE!r}: "
                            f"{status.strip()[-300:]}")
    return True


@pytest.mark.parametrize("claim", params(REGISTRY.select("reuse_port_serves")))
def test_reuse_port(claim: Claim, target: Target, client: Client, recorder: Recorder,
                    applicable: Any) -> None:
    applicable(claim)
    with ExitStack() as stack:
        units = reuse_port_units(target, stack, claim.extra["reuse_port"])
        started = [_start(target, s)[0] for s in units.sockets]
        ss, sockets = listeners(target, PORT)
        served = served_by(target, client, units) if all(started) else {"served_by": {},
                                                                         "answered": 0}
    recorder.check(claim, reuse_port_observation(started, len(sockets), served), evidence={
        "socket_units_started": dict(zip(units.sockets, started, strict=True)),
        "ss": ss, **{k: str(v) for k, v in served.items()}})


@pytest.mark.parametrize("claim", params(REGISTRY.select("second_socket_fails")))
def test_second_socket_fails(claim: Claim, target: Target, recorder: Recorder,
                             applicable: Any) -> None:
    applicable(claim)
    with ExitStack() as stack:
        units = reuse_port_units(target, stack, claim.extra["reuse_port"])
        first, _ = _start(target, units.sockets[0])
        second, message = _start(target, units.sockets[1])
        status = failure_text(target, units.sockets[1])
        ss, _ = listeners(target, PORT)
    recorder.check(claim, second_socket_refused(first, second, status), evidence={
        "first_started": first, "second_started": second, "systemctl_start": message[-300:],
        "second_status": status.strip()[-400:], "ss": ss})


@pytest.mark.parametrize("claim", params(REGISTRY.select("shared_socket")))
def test_shared_socket(claim: Claim, target: Target, client: Client, recorder: Recorder,
                       applicable: Any) -> None:
    """The guide's order: the socket, then app1.service, then app2.service."""
    applicable(claim)
    with ExitStack() as stack:
        units = shared_socket_units(target, stack)
        for unit in [*units.sockets, *units.services]:
            target.systemctl_user("start", unit)
        pids = poll(lambda: (found if len(found := _main_pids(target, units.containers)) == 2
                             else None), what="both containers to run", timeout=ACTIVATION_WAIT)
        served = served_by(target, client, units)
        ss, sockets = listeners(target, PORT)
    holders = socket_holders(sockets, pids)
    recorder.check(claim, shared_socket_observation(holders, units.containers, served), evidence={
        "ss": ss, "container_pids": str(pids), "holders_per_socket": str(holders),
        **{k: str(v) for k, v in served.items()}})


def shared_socket_observation(holders: list[list[str]], containers: Sequence[str],
                              served: dict[str, Any]) -> dict[str, bool]:
    """One listening socket on the port, held by every service's container, and every
    request answered."""
    return {"one_socket": len(holders) == 1,
            "held_by_every_service": holders == [sorted(containers)],
            "served": served["answered"] == served["requests"]}


@pytest.mark.parametrize("claim", params(REGISTRY.select("socket_activates_service")))
def test_socket_activates_one_service(claim: Claim, target: Target, client: Client,
                                      recorder: Recorder, applicable: Any) -> None:
    """Only the socket started: a connection starts the service its Service= names; the
    other service that lists the socket in Sockets= stays inactive."""
    applicable(claim)
    with ExitStack() as stack:
        units = shared_socket_units(target, stack)
        target.systemctl_user("start", *units.sockets)
        url = f"http://{target.main_address}:{PORT}/?probe={secrets.token_hex(3)}"
        reply = client.http_get(url, timeout=ACTIVATION_WAIT)
        if not reply.ok:
            raise NoObservation(f"the first connection was not served: {reply.error or reply.status}")
        states = {service: target.systemctl_user("is-active", service, check=False)
                  .stdout.strip() for service in units.services}
    recorder.check(claim, activated(states, units.services), evidence={"states": str(states)})


def activated(states: dict[str, str], services: list[str]) -> list[str]:
    """Which of the services (app1, app2: the order of ``services``) are active."""
    return [f"app{n}" for n, s in enumerate(services, 1) if states.get(s) == "active"]
