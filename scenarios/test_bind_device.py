"""Binding a published port to one network device (eth0).

host2 reaches host1 through eth0 and must be served; host3 reaches host1 through eth1
and must not be. Every check has a positive control: the same service, not bound to
eth0, must serve host3 through eth1, or the check cannot tell a restriction from an eth1
that reaches nothing. For the methods the guide marks unsupported, the device syntax is
offered to podman's -p: podman's refusal of that syntax (its message, matched), or a
bound service that serves host3 anyway, is the observation. podman refusing for another
reason, or a bound service that never serves host2, is no observation (an error).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import pytest

from harness import containers, network_settings, quadlet
from harness.capabilities import Capabilities
from harness.claims import Claim, load_default
from harness.clients.base import Client
from harness.errors import CommandError
from harness.lab.topology import LINKS
from harness.methods import Method, get_method
from harness.probes import netconf, reach
from harness.results.recorder import NoObservation, Recorder
from harness.services import UDP_PEER, ServeOptions, container_file, serve
from harness.targets.base import Target
from scenarios.params import method_params

pytestmark = [pytest.mark.lab, pytest.mark.bind_device]

REGISTRY = load_default()
DEVICE = LINKS[0].host1_if
OTHER_DEVICE = LINKS[1].host1_if
OTHER_ADDRESS = LINKS[1].host1_addr
PORT = 8080
#: podman's refusal of an address with a device (``0.0.0.0%eth0``) in ``-p``.
DEVICE_SYNTAX_REFUSED = re.compile(
    r'cannot parse "[^"]*%' + re.escape(DEVICE) + r'" as an IP address')
#: The device part of a pasta port specification (``0.0.0.0%eth0/``, ``%%`` in quadlet).
PASTA_DEVICE = re.compile(r"0\.0\.0\.0%+" + re.escape(DEVICE) + "/")
#: A web server that binds its socket to a device itself (SO_BINDTODEVICE), for the
#: host network, where the container's own sockets are the host's; no device: unbound.
BOUND_SERVER = (
    "import http.server, socket, sys\n"
    "class S(http.server.HTTPServer):\n"
    "    def server_bind(self):\n"
    "        if sys.argv[1]:\n"
    "            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, sys.argv[1].encode())\n"
    "        super().server_bind()\n"
    "S(('0.0.0.0', int(sys.argv[2])), http.server.SimpleHTTPRequestHandler).serve_forever()\n"
)

#: Starts a service (bound to eth0 or not) and yields the port it is published on.
Starter = Callable[[], AbstractContextManager[int]]


@dataclass(frozen=True)
class Observation:
    """What one bind-device check saw."""

    #: podman's message when it refused to start the bound service.
    refusal: str | None = None
    #: host3 served through eth1 by the same service, not bound (the positive control).
    control: bool = False
    #: host2 (eth0) and host3 (eth1) served by the bound service.
    near: bool = False
    far: bool = False


def restricted(seen: Observation) -> bool:
    """Whether binding to eth0 restricts the service to eth0. False only for podman's
    refusal of the device syntax, or a bound service that serves host3 anyway; anything
    else says nothing about device binding and raises :class:`NoObservation`."""
    if seen.refusal is not None:
        if DEVICE_SYNTAX_REFUSED.search(seen.refusal):
            return False
        raise NoObservation(f"podman refused for another reason than the device syntax: "
                            f"{seen.refusal[-300:]}")
    if not seen.control:
        raise NoObservation(f"host3 is not served through {OTHER_DEVICE} even by the service "
                            f"not bound to {DEVICE}: {OTHER_DEVICE} reaches nothing, so a "
                            "restriction cannot be told apart")
    if not seen.near:
        raise NoObservation(f"the service bound to {DEVICE} never served host2 (it did not "
                            "start, or the binding broke it)")
    return not seen.far


def observe(client: Client, host3: Client, target: Target, bound: Starter, unbound: Starter,
            protocol: str = "tcp") -> tuple[Observation, dict[str, Any]]:
    """The positive control (``unbound``, from host3), then the bound service from both."""
    with unbound() as port:
        control = reach.wait_served(host3, OTHER_ADDRESS, port, protocol)
        _, control_said = reach.served(host3, OTHER_ADDRESS, port, protocol)
    evidence: dict[str, Any] = {f"control: {host3.name} ({OTHER_ADDRESS}), not bound": control_said}
    with contextlib.ExitStack() as stack:
        try:
            port = stack.enter_context(bound())
        except CommandError as exc:
            refusal = (exc.stderr or exc.stdout).strip()
            evidence["podman_refused"] = refusal
            return Observation(refusal=refusal, control=control), evidence
        near = reach.wait_served(client, target.main_address, port, protocol)
        _, near_said = reach.served(client, target.main_address, port, protocol)
        far, far_said = reach.served(host3, OTHER_ADDRESS, port, protocol)
    evidence.update({f"{client.name} ({target.main_address})": near_said,
                     f"{host3.name} ({OTHER_ADDRESS})": far_said})
    return Observation(control=control, near=near, far=far), evidence


def _require_device_unit(target: Target, claim: Claim, recorder: Recorder, *,
                         system: bool) -> None:
    """BindToDevice= makes the socket depend on the device's systemd unit, which only
    exists where udev announces network devices to systemd."""
    unit = f"sys-subsystem-net-devices-{DEVICE}.device"
    show = target.systemctl if system else target.systemctl_user
    state = show("show", "-P", "ActiveState", unit, check=False).stdout.strip()
    if state != "active":
        reason = (f"{unit} is {state or 'unknown'} in {'the system' if system else 'the user'} "
                  "manager of the target (no udev there), so a socket with BindToDevice= "
                  "cannot start")
        recorder.skip(claim, reason)
        pytest.skip(reason)


@contextlib.contextmanager
def _container(target: Target, options: list[str], command: tuple[str, ...] = (),
               port: int = PORT) -> Iterator[int]:
    with containers.running(target, options, command):
        yield port


def _socket_starters(target: Target, method: Method, client: Client) -> tuple[Starter, Starter]:
    def start(device: str | None) -> Starter:
        @contextlib.contextmanager
        def started() -> Iterator[int]:
            with serve(target, method, client, ServeOptions(bind_device=device)) as service:
                yield service.port
        return started
    return start(DEVICE), start(None)


def _pasta_starters(target: Target, network: str, port: int = PORT,
                    command: tuple[str, ...] = ()) -> tuple[Starter, Starter]:
    """``network`` as given, and the same without the device part."""
    unbound = PASTA_DEVICE.sub("", network)
    return (lambda: _container(target, [f"--network={network}"], command, port),
            lambda: _container(target, [f"--network={unbound}"], command, port))


def _host_starters(target: Target) -> tuple[Starter, Starter]:
    def start(device: str) -> Starter:
        return lambda: _container(target, ["--network=host", "-w", "/var/www/html"],
                                  ("python3", "-c", BOUND_SERVER, device, str(PORT)))
    return start(DEVICE), start("")


def _publish_starters(target: Target, network: str) -> tuple[Starter, Starter]:
    """``-p 0.0.0.0%eth0:8080:8080`` with the method's network, and ``-p 8080:8080``."""
    def start(spec: str) -> Starter:
        return lambda: _container(target, [f"--network={network}", "-p", spec])
    return start(f"0.0.0.0%{DEVICE}:{PORT}:{PORT}"), start(f"{PORT}:{PORT}")


def _judge(recorder: Recorder, claim: Claim, seen: Observation, evidence: dict[str, Any],
           protocol: str | None = None) -> None:
    evidence["observed"] = (f"podman refused: {seen.refusal}" if seen.refusal is not None
                            else f"bound: host2 {seen.near}, host3 {seen.far}; "
                                 f"control (unbound, host3): {seen.control}")
    recorder.check(claim, restricted(seen), protocol=protocol, evidence=evidence)


@pytest.mark.parametrize(("claim", "protocol"),
                         method_params(REGISTRY.select("bind_device_supported")))
def test_bind_device_supported(claim: Claim, protocol: str | None, target: Target,
                               client: Client, client_host3: Client, recorder: Recorder,
                               applicable: Any) -> None:
    method = get_method(claim.method or "")
    applicable(claim, method)
    with contextlib.ExitStack() as stack:
        if method.kind in ("socket-user", "socket-system"):
            _require_device_unit(target, claim, recorder, system=method.kind == "socket-system")
            starters, how = _socket_starters(target, method, client), f"BindToDevice={DEVICE}"
        elif method.network == "pasta":
            network = f"pasta:-t,0.0.0.0%{DEVICE}/{PORT}:{PORT}"
            starters, how = _pasta_starters(target, network), f"--network={network}"
        elif method.network == "host":
            starters, how = _host_starters(target), f"SO_BINDTODEVICE {DEVICE}"
        else:
            network = method.network or "pasta"
            stack.enter_context(network_settings.applied(target, method))
            if network == "custom":
                network = stack.enter_context(containers.network(target))
            starters = _publish_starters(target, network)
            how = f"-p 0.0.0.0%{DEVICE}:{PORT}:{PORT}"
        seen, evidence = observe(client, client_host3, target, *starters)
    _judge(recorder, claim, seen, {"bound_with": how, **evidence})


EXAMPLES = REGISTRY.select("bind_device_restricts")


def _quadlet_starters(target: Target, network: str) -> tuple[Starter, Starter]:
    def start(line: str) -> Starter:
        @contextlib.contextmanager
        def started() -> Iterator[int]:
            name = containers.unique("bound")
            with quadlet.container_unit(target, name, container_file(name, [line])):
                yield PORT
        return started
    return start(f"Network={network}"), start(f"Network={PASTA_DEVICE.sub('', network)}")


@pytest.mark.parametrize("claim", [pytest.param(c, id=c.id.removeprefix("ports.bind."))
                                   for c in EXAMPLES])
def test_bind_device_example(claim: Claim, target: Target, client: Client,
                             client_host3: Client, recorder: Recorder, applicable: Any) -> None:
    method = get_method(claim.method or "")
    protocol = claim.protocols[0]
    applicable(claim, method, protocol)
    network: str | None = claim.extra.get("network")
    if method.kind == "socket-user":
        _require_device_unit(target, claim, recorder, system=False)
        seen, evidence = observe(client, client_host3, target,
                                 *_socket_starters(target, method, client))
    elif claim.id.endswith("quadlet"):
        assert network is not None
        seen, evidence = observe(client, client_host3, target,
                                 *_quadlet_starters(target, network))
        evidence["quadlet_line"] = f"Network={network}"
    else:
        assert network is not None
        port = int(network.rsplit(":", 1)[1])
        command = (*UDP_PEER, str(port)) if protocol == "udp" else ()
        seen, evidence = observe(client, client_host3, target,
                                 *_pasta_starters(target, network, port, command), protocol)
        evidence["network"] = network
    _judge(recorder, claim, seen, evidence, protocol)


#: systemd's words when a unit line has a % that is no specifier (quadlet copies Network=
#: into ExecStart=, where systemd expands specifiers).
SPECIFIER_REFUSAL = "Failed to resolve unit specifiers"


@pytest.mark.claims("ports.bind.quadlet-percent-escaping")
def test_quadlet_percent_escaping(claim: Claim, target: Target, client: Client, recorder: Recorder,
                                  applicable: Any) -> None:
    """Side note 2: a single % in a quadlet file fails; the %% form is the control."""
    applicable(claim, get_method(claim.method or ""))
    escaped: str = claim.extra["network"]
    single = escaped.replace("%%", "%")
    name = containers.unique("escaped")
    with quadlet.container_unit(target, name, container_file(name, [f"Network={escaped}"])):
        control = reach.wait_served(client, target.main_address, PORT)
    name = containers.unique("single")
    with quadlet.container_unit(target, name, container_file(name, [f"Network={single}"]),
                                start=False) as service:
        started = target.systemctl_user("start", service, check=False)
        load_state = target.systemctl_user("show", "-P", "LoadState", service,
                                           check=False).stdout.strip()
        served = load_state == "loaded" and reach.wait_served(client, target.main_address, PORT)
        journal = target.run(["journalctl", "--user", "-u", service, "-n", "20", "--no-pager"],
                             check=False).stdout
    refusal = next((line for line in journal.splitlines() if SPECIFIER_REFUSAL in line), "")
    recorder.check(claim, escaping_needed(control, served, load_state, refusal), evidence={
        "control": f"Network={escaped}: {'served' if control else 'not served'}",
        "single": f"Network={single}: {'served' if served else 'not served'}",
        "start_exit": started.returncode, "LoadState": load_state, "systemd": refusal[-300:]})


def escaping_needed(control_served: bool, single_served: bool, load_state: str,
                    refusal: str) -> bool:
    """The %% form serves (control); the single % is refused by systemd's specifier
    expansion (True) or serves too (False). Anything else is no observation."""
    if not control_served:
        raise NoObservation("the control failed: the quadlet file with %% did not serve either")
    if single_served:
        return False
    if load_state == "bad-setting" and SPECIFIER_REFUSAL in refusal:
        return True
    raise NoObservation(f"the single-% unit was not served, without systemd's specifier "
                        f"refusal (LoadState {load_state or 'unknown'}): {refusal or 'no refusal'}")


# --- the wrong worlds: each must make the check fail or error, never pass -----------------

def test_eth1_down_fails_the_supported_cell(target: Target, client: Client,
                                            client_host3: Client,
                                            capabilities: Capabilities) -> None:
    """With eth1 down in host1 nothing reaches host3, bound or not: without the positive
    control the pasta cell would pass; the control turns it into no observation."""
    if missing := capabilities.first_missing(["pasta", "isolated"]):
        pytest.skip(missing)
    network = f"pasta:-t,0.0.0.0%{DEVICE}/{PORT}:{PORT}"
    with netconf.link_down(target, OTHER_DEVICE):
        seen, evidence = observe(client, client_host3, target, *_pasta_starters(target, network))
    assert (seen.near, seen.far, seen.control) == (True, False, False), evidence
    with pytest.raises(NoObservation, match="reaches nothing"):
        restricted(seen)


def test_unrelated_refusal_is_no_observation(target: Target, client: Client,
                                             client_host3: Client,
                                             capabilities: Capabilities) -> None:
    """podman refusing the bound container for another reason (an option it does not
    know) must not count as "device binding not supported"."""
    if missing := capabilities.first_missing(["pasta"]):
        pytest.skip(missing)
    spec = f"0.0.0.0%{DEVICE}:{PORT}:{PORT}"

    @contextlib.contextmanager
    def bound() -> Iterator[int]:
        with containers.running(target, ["--network=pasta", "--podnet-no-such-option",
                                         "-p", spec]):
            yield PORT

    seen, evidence = observe(client, client_host3, target, bound,
                             _publish_starters(target, "pasta")[1])
    assert seen.refusal is not None and seen.control, evidence
    with pytest.raises(NoObservation, match="another reason"):
        restricted(seen)
