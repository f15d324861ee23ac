"""Beyond the guide: inbound IPv6. The guide's examples pin IPv4 (``curl -4``); here host2
connects to host1's IPv6 address (2001:db8:2::1) for the methods that publish with
``podman run`` and for socket activation (a user socket unit on ``[::]:8080``): is the
port served over IPv6, and does the server see host2's own IPv6
address (2001:db8:2::10)?

The server is podnet's nginx image with a configuration listening on IPv4 and IPv6
(``listen 8080; listen [::]:8080;``); its access log names the peer.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from harness import containers, network_settings
from harness.claims import Claim, load_default
from harness.clients.base import Client
from harness.methods import get_method
from harness.outbound_params import params
from harness.probes import nginx_log
from harness.results.recorder import NoObservation, Recorder
from harness.services import ACTIVATION_WAIT, PREFIX, user_socket_service
from harness.targets.base import Target
from harness.wait import NotReady, logged, poll

pytestmark = [pytest.mark.lab, pytest.mark.beyond_guide]

REGISTRY = load_default()
PORT = 8080
DUAL_STACK_CONF = ("server {\n    listen 8080;\n    listen [::]:8080;\n"
                   "    location / { return 200 \"podnet\\n\"; }\n}\n")
#: Socket activation: nginx keeps the inherited socket ([::]:8080, IPv6 and IPv4) only if a
#: listen directive matches it.
SOCKET_CONF = ("server {\n    listen [::]:8080;\n"
               "    location / { return 200 \"podnet\\n\"; }\n}\n")
SERVE_TIMEOUT = 30.0


def ipv6_address(output: str) -> str | None:
    """The first global IPv6 address of ``ip -6 -o addr show scope global`` output."""
    for line in output.splitlines():
        words = line.split()
        if "inet6" in words:
            return words[words.index("inet6") + 1].split("/")[0]
    return None


def _conf_dir(target: Target, stack: ExitStack, text: str) -> str:
    directory = f"{target.home}/.cache/podnet/ipv6-{secrets.token_hex(3)}"
    target.record_file(directory)  # the directory too is podnet's, removed afterwards
    target.write_file(f"{directory}/default.conf", text)
    stack.callback(target.remove_files, directory)
    return directory


def _serving(claim: Claim, stack: ExitStack, target: Target, conf: str) -> str:
    """The claim's server, started: a container run with its options, or (``socket``)
    a user socket unit on ``[::]:PORT`` (IPv6 and IPv4) whose service's container
    inherits it; its container's name."""
    if claim.extra["network"] != "socket":
        return stack.enter_context(containers.running(
            target, [*_run_options(claim, stack, target), "-v", f"{conf}:/etc/nginx/conf.d:Z"]))
    name = f"{PREFIX}ipv6-{secrets.token_hex(3)}"
    settings = ['Environment="NGINX=3;"', f"Volume={conf}:/etc/nginx/conf.d:Z"]
    stack.callback(user_socket_service(target, name, settings, "podnet IPv6 socket",
                                       f"[::]:{PORT}"))
    return name


def _run_options(claim: Claim, stack: ExitStack, target: Target) -> list[str]:
    network = claim.extra["network"]
    if network == "custom":
        network = stack.enter_context(containers.network(target))
    publish = [] if network == "host" else ["-p", f"{PORT}:{PORT}"]
    return [f"--network={network}", *publish]


def observation(served: bool, peer: str | None, client_address: str) -> dict[str, bool]:
    """Served over IPv6, and whether the server saw the client's own IPv6 address."""
    if served and peer is None:
        raise NoObservation("served, but the access log has no line for the request")
    return {"served": served, "source_preserved": served and peer == client_address}


ADDRESSES = ["ip", "-6", "-o", "addr", "show", "scope", "global"]


@pytest.fixture
def addresses(target: Target, client: Client) -> Iterator[tuple[str, str]]:
    """host1's and the client's global IPv6 addresses (the lab's 2001:db8::/32)."""
    server = ipv6_address(target.run(ADDRESSES, check=False).stdout)
    peer = ipv6_address(client.run(ADDRESSES, check=False).stdout)
    if server is None or peer is None:
        pytest.skip(f"no global IPv6 address on {'host1' if server is None else 'the client'}")
    yield server, peer


@pytest.mark.parametrize("claim", params(REGISTRY.select("ipv6_inbound")))
def test_ipv6_inbound(claim: Claim, target: Target, client: Client, recorder: Recorder,
                      applicable: Any, addresses: tuple[str, str]) -> None:
    method = get_method(claim.method or "")
    applicable(claim, method)
    server_address, client_address = addresses
    probe = secrets.token_hex(4)
    url = f"http://[{server_address}]:{PORT}/?probe={probe}"
    with ExitStack() as stack:
        stack.enter_context(network_settings.applied(target, method))
        socket = claim.extra["network"] == "socket"
        conf = _conf_dir(target, stack, SOCKET_CONF if socket else DUAL_STACK_CONF)
        name = _serving(claim, stack, target, conf)
        ipv4 = f"http://{target.main_address}:{PORT}/"
        # A socket's first connection waits until the service it starts accepts it.
        each = ACTIVATION_WAIT if socket else 3
        try:  # the control: the server answers over IPv4
            poll(lambda: client.http_get(ipv4, timeout=each).ok or None, what=ipv4,
                 timeout=SERVE_TIMEOUT, interval=0.5)
        except NotReady as exc:
            raise NoObservation(f"the server did not answer over IPv4 either: {exc}") from exc
        reply = client.http_get(url, timeout=5)
        entry = logged(lambda: nginx_log.find_request(
            target.podman("logs", name, check=False).stdout, probe),
            what=f"the access log line for probe {probe}") if reply.ok else None
    recorder.check(claim, observation(reply.ok, entry.peer if entry else None, client_address),
                   evidence={"url": url, "reply": reply.error or f"HTTP {reply.status}",
                             "log_line": entry.line if entry else "",
                             "client_ipv6": client_address})
