"""Binding a published port to one network device (eth0).

host2 reaches host1 through eth0 and must be served; host3 reaches host1 through eth1
and must not be. For the methods the guide marks unsupported, the device syntax is
offered to podman's -p; podman's refusal (or a port answering on both interfaces) is the
observation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from harness import containers, quadlet
from harness.claims import Claim, load_default
from harness.clients.base import Client
from harness.errors import CommandError
from harness.lab.topology import LINKS
from harness.methods import Method, get_method
from harness.probes import reach
from harness.pytest_plugin import method_params
from harness.results.recorder import Recorder
from harness.services import UDP_PEER, ServeOptions, serve
from harness.targets.base import Target

pytestmark = [pytest.mark.lab, pytest.mark.bind_device]

REGISTRY = load_default()
DEVICE = LINKS[0].host1_if
OTHER_ADDRESS = LINKS[1].host1_addr
PORT = 8080
#: A web server that binds its socket to a device itself (SO_BINDTODEVICE), for the
#: host network, where the container's own sockets are the host's.
BOUND_SERVER = (
    "import http.server, socket, sys\n"
    "class S(http.server.HTTPServer):\n"
    "    def server_bind(self):\n"
    "        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, sys.argv[1].encode())\n"
    "        super().server_bind()\n"
    "S(('0.0.0.0', int(sys.argv[2])), http.server.SimpleHTTPRequestHandler).serve_forever()\n"
)


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


def _measure(target: Target, client: Client, host3: Client, port: int = PORT,
             protocol: str = "tcp") -> tuple[bool, dict[str, Any]]:
    return reach.restriction(client, target.main_address, host3, OTHER_ADDRESS, port, protocol)


@contextlib.contextmanager
def _pasta_bound(target: Target, network: str, command: tuple[str, ...] = ()) -> Iterator[str]:
    with containers.running(target, [f"--network={network}"], command) as name:
        yield name


def _device_publish(target: Target, method: Method) -> Iterator[dict[str, Any]]:
    """Offer ``-p 0.0.0.0%eth0:8080:8080`` with the method's network."""
    spec = f"0.0.0.0%{DEVICE}:{PORT}:{PORT}"
    with contextlib.ExitStack() as stack:
        net = method.network or "pasta"
        if net == "custom":
            net = stack.enter_context(containers.network(target))
        try:
            stack.enter_context(containers.running(target, [f"--network={net}", "-p", spec]))
        except CommandError as exc:
            yield {"podman_refused": containers.error_text(exc), "publish": spec}
            return
        yield {"publish": spec}


@pytest.mark.parametrize(("claim", "protocol"),
                         method_params(REGISTRY.select("bind_device_supported")))
def test_bind_device_supported(claim: Claim, protocol: str | None, target: Target,
                               client: Client, client_host3: Client, recorder: Recorder,
                               applicable: Any) -> None:
    method = get_method(claim.method or "")
    applicable(claim, method)
    evidence: dict[str, Any] = {}
    if method.kind in ("socket-user", "socket-system"):
        _require_device_unit(target, claim, recorder, system=method.kind == "socket-system")
        with serve(target, method, client, ServeOptions(bind_device=DEVICE)) as service:
            restricted, evidence = _measure(target, client, client_host3, service.port)
        evidence["socket"] = f"BindToDevice={DEVICE}"
    elif method.network == "pasta":
        network = f"pasta:-t,0.0.0.0%{DEVICE}/{PORT}:{PORT}"
        with _pasta_bound(target, network):
            restricted, evidence = _measure(target, client, client_host3)
        evidence["network"] = network
    elif method.network == "host":
        with containers.running(target, ["--network=host", "-w", "/var/www/html"],
                                ["python3", "-c", BOUND_SERVER, DEVICE, str(PORT)]):
            restricted, evidence = _measure(target, client, client_host3)
        evidence["server"] = f"SO_BINDTODEVICE {DEVICE}"
    else:
        gen = _device_publish(target, method)
        attempt = next(gen)
        try:
            if "podman_refused" in attempt:
                restricted, evidence = False, attempt
            else:
                restricted, evidence = _measure(target, client, client_host3)
                evidence.update(attempt)
        finally:
            gen.close()
    recorder.check(claim, restricted, evidence=evidence)


EXAMPLES = REGISTRY.select("bind_device_restricts")


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
        with serve(target, method, client, ServeOptions(bind_device=DEVICE)) as service:
            restricted, evidence = _measure(target, client, client_host3, service.port)
    elif claim.id.endswith("quadlet"):
        assert network is not None
        name = containers.unique("bound")
        text = quadlet.container_file(name, [f"Network={network}"])
        with quadlet.container_unit(target, name, text):
            restricted, evidence = _measure(target, client, client_host3)
        evidence["quadlet_line"] = f"Network={network}"
    else:
        assert network is not None
        port = int(network.rsplit(":", 1)[1])
        command = (*UDP_PEER, str(port)) if protocol == "udp" else ()
        with _pasta_bound(target, network, command):
            restricted, evidence = _measure(target, client, client_host3, port, protocol)
        evidence["network"] = network
    recorder.check(claim, restricted, protocol=protocol, evidence=evidence)
