"""The guide's "Valid method combinations": the methods pasta, pasta + custom network,
slirp4netns with either port handler and host are mutually exclusive, socket activation
combines with each of them; and the socket-activated user service in its ``.service``
form (a ``.service`` plus a ``.socket`` unit, no quadlet file).

Two exclusive methods are given to podman at once (two ``--network`` options, or
``--network=host`` with ``-p``): the observation is podman's own refusal naming one of
the two network modes, or, where podman accepts the pair, what the container actually
gets. Each such check has its positive control in the same test: every method alone
runs the same container. Socket activation is observed, not assumed: host2 is served
on a socket systemd holds and the container's server shares, and the container has no
listener of its own.
"""

from __future__ import annotations

import re
import secrets
import shlex
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from harness import containers
from harness.claims import Claim, load_default
from harness.clients.base import Client
from harness.methods import get_method
from harness.probes import reach
from harness.proxies import sockets
from harness.results.recorder import NoObservation, Recorder
from harness.services import (
    IMAGE,
    PREFIX,
    install_socket_service,
    socket_unit,
    user_socket_service,
)
from harness.targets.base import USER_UNIT_DIR, Target
from harness.wait import NotReady, poll

pytestmark = [pytest.mark.lab]

REGISTRY = load_default()
PORT = 8080
#: The port published next to ``--network=host`` (the server itself listens on PORT).
PUBLISHED = 8081
CURL_TIMEOUT = 2

#: podman's refusals of two network modes at once (podman 5.x): the mode it selected.
REFUSALS = (
    re.compile(r"cannot set multiple networks without bridge network mode, "
               r"selected mode (?P<mode>[\w.-]+)"),
    re.compile(r"can only set extra network names, selected mode (?P<mode>[\w.-]+) "
               r"conflicts with bridge"),
)
#: podman's warning when ``-p`` meets ``--network=host``.
PORTS_DISCARDED = re.compile(r"Port mappings have been discarded[^\n]*")


# --- judging (pure, tested on recorded messages in tests/) ------------------------------

def network_mode(network: str) -> str:
    """The network mode of a ``--network`` value as podman names it in its refusals: a
    custom network is a ``bridge``."""
    mode = network.split(":", 1)[0]
    return mode if mode in ("pasta", "slirp4netns", "host", "none") else "bridge"


def refusal_of(returncode: int, stderr: str, modes: set[str]) -> str | None:
    """podman's refusal of several networks at once when it names one of ``modes``; None
    for a success or any other error."""
    if returncode == 0:
        return None
    for pattern in REFUSALS:
        if (found := pattern.search(stderr)) and found["mode"] in modes:
            return found.group(0)
    return None


@dataclass(frozen=True)
class Trial:
    """podman given both methods at once, and each method alone (the controls)."""

    networks: tuple[str, ...]
    returncode: int
    stderr: str
    #: network -> exit status of the same container with that method alone
    controls: dict[str, int]
    #: when podman accepted the pair: the network mode the container got
    mode: str | None = None


def combined(trial: Trial) -> tuple[bool, str]:
    """Whether the methods were combined, and what showed it. A refusal for another
    reason, or a method that fails alone, is no observation."""
    failing = {net: rc for net, rc in trial.controls.items() if rc != 0}
    if failing or set(trial.controls) != set(trial.networks):
        raise NoObservation(f"positive control: not every method alone runs the container "
                            f"(exit status per method: {trial.controls})")
    modes = {network_mode(n) for n in trial.networks}
    if message := refusal_of(trial.returncode, trial.stderr, modes):
        return False, f"podman refused: {message}"
    if trial.returncode == 0 and trial.mode is not None:
        if len(modes) < 2:
            raise NoObservation(f"podman accepted both {sorted(trial.networks)}; which one "
                                f"is in effect is not observed (mode {trial.mode})")
        # One mode of the two in effect: the other was dropped.
        return (trial.mode not in modes,
                f"podman accepted both; the container gets the network mode {trial.mode}")
    raise NoObservation(f"podman failed for another reason (exit {trial.returncode}): "
                        f"{trial.stderr.strip()[-300:]!r}")


def publish_combined(host_served: bool, published_served: bool, control_served: bool) -> bool:
    """``--network=host -p PUBLISHED:PORT``: combined when the published port serves. The
    container must serve on the host network, and the same publish must serve without
    ``--network=host`` (positive control); otherwise no observation."""
    if not control_served:
        raise NoObservation(f"positive control: -p {PUBLISHED}:{PORT} alone does not serve")
    if not host_served:
        raise NoObservation(f"the container with --network=host does not serve on {PORT}")
    return published_served


def socket_activated(served: bool, holders: list[list[sockets.Holder]], pid: int,
                     own_listener: str) -> bool:
    """Served on the socket systemd created and passed: one listening socket on the port,
    held by systemd and shared with the container's process, and no listener of the
    container's own (``own_listener``: the container's ``ss`` output, "" for none)."""
    if len(holders) != 1:
        return False
    names = {h.name for h in holders[0]}
    return served and "systemd" in names and any(h.pid == pid for h in holders[0]) \
        and not own_listener


# --- the exclusive methods ----------------------------------------------------------------

@contextmanager
def _networks(target: Target, networks: tuple[str, ...]) -> Iterator[dict[str, str]]:
    """``--network`` values for the claim's networks: ``custom`` becomes a fresh custom
    network (removed on exit)."""
    with ExitStack() as stack:
        yield {net: stack.enter_context(containers.network(target, containers.unique("combonet")))
               if net == "custom" else net for net in networks}


#: The method families (pytest markers) of the claims' ``--network`` modes.
FAMILIES = {"pasta": ("pasta",), "custom": ("pasta", "custom_network"),
            "slirp4netns": ("slirp4netns",), "host": ("host_network",)}


def _exclusive_params(*, publish: bool) -> list[Any]:
    """The ``methods_combined`` claims (with or without ``-p``), marked with the
    families of their networks, ids without the area prefix."""
    found = []
    for claim in REGISTRY.select("methods_combined"):
        if bool(claim.extra.get("publish")) != publish:
            continue
        families = sorted({f for net in claim.extra["networks"]
                           for f in FAMILIES[net.split(":", 1)[0]]})
        found.append(pytest.param(claim, marks=[getattr(pytest.mark, f) for f in families],
                                  id=claim.id.split(".", 1)[-1]))
    return found


def _evidence(argv: list[str], done: Any) -> dict[str, str]:
    return {"command": shlex.join(argv), "exit": str(done.returncode),
            "stderr": (done.stderr or "").strip()[-300:]}


@pytest.mark.parametrize("claim", _exclusive_params(publish=False))
def test_exclusive_methods(claim: Claim, target: Target, recorder: Recorder,
                           applicable: Any) -> None:
    applicable(claim)
    token = secrets.token_hex(3)
    networks = tuple(claim.extra["networks"])
    with _networks(target, networks) as values:
        name = f"{PREFIX}combo-{token}"
        both = ["podman", "create", "--name", name,
                *(f"--network={values[n]}" for n in networks), IMAGE, "true"]
        try:
            done = target.run(target.marked(both), check=False)
            mode = None
            if done.ok:
                mode = target.podman("inspect", "-f", "{{.HostConfig.NetworkMode}}",
                                     name).stdout.strip()
        finally:
            target.remove_own("containers", name)
        controls, control_evidence = {}, {}
        for net in networks:
            alone = ["podman", "run", "--rm", f"--network={values[net]}", IMAGE, "true"]
            ran = target.run(target.marked(alone), check=False)
            controls[net] = ran.returncode
            control_evidence[net] = _evidence(alone, ran)
    trial = Trial(networks, done.returncode, done.stderr, controls, mode)
    observed, how = combined(trial)
    recorder.check(claim, observed, evidence={
        **_evidence(both, done), "observed": how, "network_mode": mode or "-",
        "controls": control_evidence})


def _within(check: Callable[[], bool], what: str, timeout: float = 20) -> bool:
    """Whether ``check`` holds within ``timeout`` seconds."""
    try:
        return poll(check, what=what, timeout=timeout, interval=0.1)
    except NotReady:
        return False


@pytest.mark.parametrize("claim", _exclusive_params(publish=True))
def test_host_with_publish(claim: Claim, target: Target, client: Client, recorder: Recorder,
                           applicable: Any) -> None:
    applicable(claim, get_method("host"))
    token = secrets.token_hex(3)
    control = f"{PREFIX}combo-publish-{token}"
    name = f"{PREFIX}combo-host-{token}"
    publish = ["-p", f"{PUBLISHED}:{PORT}"]
    control_argv = ["podman", "run", "-d", "--name", control, *publish, IMAGE]
    argv = ["podman", "run", "-d", "--name", name, "--network=host", *publish, IMAGE]
    try:
        target.run(target.marked(control_argv))
        control_served = reach.wait_served(client, target.main_address, PUBLISHED)
        target.remove_own("containers", control)
        done = target.run(target.marked(argv), check=False)
        if not done.ok:
            raise NoObservation(f"podman refused --network=host with -p for a reason the "
                                f"guide does not state: {done.stderr.strip()[-300:]!r}")
        host_served = reach.wait_served(client, target.main_address, PORT)
        published_served = reach.served(client, target.main_address, PUBLISHED,
                                        timeout=CURL_TIMEOUT)[0]
    finally:
        target.remove_own("containers", control, name)
    warning = PORTS_DISCARDED.search(done.stderr + done.stdout)
    recorder.check(claim, publish_combined(host_served, published_served,
                                           control_served), evidence={
        "command": shlex.join(argv), "podman_warning": warning.group(0) if warning else "-",
        f"served_on_{PORT}": host_served, f"served_on_{PUBLISHED}": published_served,
        "control": shlex.join(control_argv), "control_served": control_served})


# --- socket activation with each of the other methods ------------------------------------

#: The other methods, by their ids in scenarios/methods.toml.
OTHER_METHODS = ("pasta", "pasta-custom-network", "slirp4netns-rootlesskit",
                 "slirp4netns-slirp4netns", "host")


def _observe_socket(target: Target, client: Client, container: str, *,
                    host_network: bool) -> tuple[bool, dict[str, Any]]:
    """Request through the socket (the first connection starts the service), then who
    holds the listening socket."""
    served = _within(lambda: client.http_get(
        f"http://{target.main_address}:{PORT}/?podnet-socket", timeout=5).ok,
        f"{container} through the socket to answer 200", timeout=40)
    pid = int(target.podman("inspect", "-f", "{{.State.Pid}}", container, check=False)
              .stdout.strip() or 0)
    text, holders = sockets.listeners(target, PORT)
    # On the host network the container's namespace is the host's: its one socket is
    # the one ``holders`` already shows.
    own = "" if host_network else sockets.own_listeners(target, container, PORT)
    return socket_activated(served, holders, pid, own), {
        "served": served, "ss_host": text, "container_pid": pid, "own_listener": own or "-",
        "inherited_log": "using inherited sockets" in target.logs(container)}


@pytest.mark.socket_activation
@pytest.mark.claims("ports.combination.socket-activation")
@pytest.mark.parametrize("other", [
    pytest.param(m, id=f"socket-activation+{m}",
                 marks=[getattr(pytest.mark, f) for f in get_method(m).families])
    for m in OTHER_METHODS])
def test_socket_activation_with(claim: Claim, other: str, target: Target, client: Client,
                                recorder: Recorder, applicable: Any) -> None:
    method = get_method(other)
    applicable(claim, get_method("socket-activation-user"))
    applicable(claim, method)
    unit = container = f"{PREFIX}combo-socket-{secrets.token_hex(3)}"
    with _networks(target, (method.network or "pasta",)) as values:
        network = values[method.network or "pasta"]
        undo = user_socket_service(
            target, unit, ['Environment="NGINX=3;"', f"Network={network}"],
            f"podnet socket activation + {other}", f"0.0.0.0:{PORT}")
        try:
            activated, evidence = _observe_socket(target, client, container,
                                                  host_network=network == "host")
            evidence["network_mode"] = target.podman(
                "inspect", "-f", "{{.HostConfig.NetworkMode}}", container,
                check=False).stdout.strip()
        finally:
            undo()
    recorder.check(claim, activated, method=other,
                   evidence={"with": other, "network": network, **evidence})


# --- images without socket activation support ---------------------------------------------

#: A server in the same image that knows nothing of socket activation: it binds its own
#: socket on the port inside the container.
UNAWARE_SERVER = f"python3 -m http.server {PORT}"


@pytest.mark.socket_activation
@pytest.mark.claims("inbound.socket-activation-user.needs-image-support")
def test_image_without_support(claim: Claim, target: Target, client: Client, recorder: Recorder,
                               applicable: Any) -> None:
    """The same .socket and quadlet units with nginx given NGINX=3; (which takes the
    inherited socket: the control) and with a server that does not support socket
    activation; the latter is judged once it runs and listens on its own socket."""
    applicable(claim, get_method("socket-activation-user"))
    unit = container = f"{PREFIX}unaware-{secrets.token_hex(3)}"
    undo = user_socket_service(target, unit, ['Environment="NGINX=3;"'],
                               "podnet socket activation, nginx", f"0.0.0.0:{PORT}")
    try:
        control, _ = _observe_socket(target, client, container, host_network=False)
    finally:
        undo()
    unit = container = f"{PREFIX}unaware-{secrets.token_hex(3)}"
    undo = user_socket_service(target, unit, [f"Exec={UNAWARE_SERVER}"],
                               "podnet socket activation, unaware server", f"0.0.0.0:{PORT}")
    url = f"http://{target.main_address}:{PORT}/?podnet-socket"
    try:
        first = client.http_get(url, timeout=4)  # starts the service
        own = _own_listener(target, container)
        reply = client.http_get(url, timeout=4)
        active = target.systemctl_user("show", "-P", "ActiveState", f"{unit}.service",
                                       check=False).stdout.strip()
    finally:
        undo()
    recorder.check(claim, not sockets.inherited_socket_ignored(
        control, reply.ok, active == "active", own, UNAWARE_SERVER), evidence={
        "control (nginx with NGINX=3;)": "served" if control else "not served",
        "server": UNAWARE_SERVER, "first_request": first.status or first.error,
        "status": reply.status, "error": reply.error, "active_state": active,
        "own_listener": own or "-"})


def _own_listener(target: Target, container: str) -> str:
    """The container's own listening socket on PORT, once there is one ("" if none came
    within the bound)."""
    def listening() -> str | None:
        found = sockets.own_listeners(target, container, PORT)
        return found if "LISTEN" in found else None

    try:
        return poll(listening, what=f"{container}'s own listener", timeout=30)
    except NotReady:
        return ""


# --- the .service-only form ---------------------------------------------------------------

def service_unit(unit: str, container: str, podman_argv: Callable[[list[str]], list[str]],
                 description: str) -> str:
    """A user ``.service`` running the container with socket activation, after the
    socket activation tutorial the guide links (podman run with --sdnotify=conmon, its
    container id in a file, stopped and removed by the unit)."""
    cid = "%t/%n.ctr-id"
    run = podman_argv(["/usr/bin/podman", "run", f"--cidfile={cid}", "--cgroups=no-conmon",
                       "--rm", "--sdnotify=conmon", "--replace", "--name", container,
                       "--network=none", "--env", "NGINX=3;", IMAGE])
    return (f"[Unit]\nDescription={description}\nRequires={unit}.socket\n"
            f"After={unit}.socket\n\n"
            "[Service]\nEnvironment=PODMAN_SYSTEMD_UNIT=%n\nType=notify\nNotifyAccess=all\n"
            f"ExecStartPre=/bin/rm -f {cid}\nExecStart={shlex.join(run)}\n"
            f"ExecStop=/usr/bin/podman stop --ignore -t 0 --cidfile={cid}\n"
            f"ExecStopPost=/usr/bin/podman rm -f --ignore --cidfile={cid}\n\n"
            "[Install]\nWantedBy=default.target\n")


@pytest.mark.socket_activation
@pytest.mark.claims("inbound.socket-activation-user.service-form")
def test_service_form(claim: Claim, target: Target, client: Client, recorder: Recorder,
                      applicable: Any) -> None:
    applicable(claim, get_method("socket-activation-user"))
    unit = container = f"{PREFIX}service-form-{secrets.token_hex(3)}"
    description = "podnet socket activation, .service form"
    files = {f"{target.home}/{USER_UNIT_DIR}/{unit}.service":
             service_unit(unit, container, target.marked, description),
             f"{target.home}/{USER_UNIT_DIR}/{unit}.socket":
             socket_unit(f"0.0.0.0:{PORT}", description, wanted_by="sockets.target")}
    undo = install_socket_service(target, unit, container, files, system=False)
    try:
        activated, evidence = _observe_socket(target, client, container, host_network=False)
        shown = target.systemctl_user("show", "-p", "FragmentPath", "-p", "ActiveState",
                                      f"{unit}.service", check=False).stdout
    finally:
        undo()
    fragment = dict(line.split("=", 1) for line in shown.splitlines() if "=" in line)
    service_file = fragment.get("FragmentPath", "") == f"{target.home}/{USER_UNIT_DIR}/{unit}.service"
    recorder.check(claim, activated and service_file, evidence={
        **evidence, "fragment_path": fragment.get("FragmentPath", "-"),
        "active_state": fragment.get("ActiveState", "-"),
        "service": files[f"{target.home}/{USER_UNIT_DIR}/{unit}.service"]})
