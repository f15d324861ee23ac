"""The guide's outbound connections: to the internet, the host's localhost and the host's
main network interface, for pasta, slirp4netns, host and custom networks.

Servers run outside containers and answer a random token: on host1's 127.0.0.1, on
host1's main interface only, and on host2 (reached through host1's default route,
"the internet"). A container tries the claim's candidate addresses with curl; a
claim's "reached" is whether any candidate answered the token.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from harness import containers
from harness.capabilities import Capabilities
from harness.claims import Claim, load_default
from harness.clients.base import Client
from harness.methods import get_method
from harness.outbound_params import expand, params, run_args, urls
from harness.probes import hostserver, outbound, procs
from harness.results.recorder import NoObservation, Recorder
from harness.services import PREFIX
from harness.targets.base import Target

pytestmark = [pytest.mark.lab]
outbound_mark = pytest.mark.outbound

REGISTRY = load_default()
LOCALHOST_PORT, MAIN_PORT, INTERNET_PORT = 18080, 18081, 18082
LOCALHOST_UDP_PORT, MAIN_UDP_PORT = 18083, 18084



@pytest.fixture(scope="module")
def localhost_server(target: Target) -> Iterator[hostserver.HostServer]:
    with hostserver.http_server(target.run, "127.0.0.1", LOCALHOST_PORT,
                                record=target.record_file) as server:
        yield server


@pytest.fixture(scope="module")
def main_server(target: Target) -> Iterator[hostserver.HostServer]:
    with hostserver.http_server(target.run, target.main_address, MAIN_PORT,
                                record=target.record_file) as server:
        yield server


@pytest.fixture(scope="module")
def udp_servers(target: Target) -> Iterator[dict[str, hostserver.HostServer]]:
    """host1's UDP servers, keyed by the name of their HTTP counterpart's fixture."""
    where = {"localhost_server": ("127.0.0.1", LOCALHOST_UDP_PORT),
             "main_server": (target.main_address, MAIN_UDP_PORT)}
    with ExitStack() as stack:
        yield {name: stack.enter_context(hostserver.udp_server(
            target.run, address, port, record=target.record_file))
            for name, (address, port) in where.items()}


def _server(claim: Claim, tcp: str, request: pytest.FixtureRequest) -> hostserver.HostServer:
    """The claim's server: the HTTP one, or its UDP counterpart for a UDP claim."""
    if claim.protocols == ("udp",):
        udp: dict[str, hostserver.HostServer] = request.getfixturevalue("udp_servers")
        return udp[tcp]
    server: hostserver.HostServer = request.getfixturevalue(tcp)
    return server


@pytest.fixture(scope="module")
def internet_server(client: Client) -> Iterator[hostserver.HostServer]:
    with hostserver.http_server(client.run, client.address, INTERNET_PORT,
                                python=client.python) as server:
        yield server


@pytest.fixture(scope="module")
def custom_network(target: Target) -> Iterator[str]:
    with containers.network(target, containers.unique("outnet")) as name:
        yield name


@pytest.fixture(scope="module")
def strict_network(target: Target) -> Iterator[str]:
    """The newest guide's custom network: podman network create --opt=isolate=strict."""
    with containers.network(target, containers.unique("outstrict"),
                            ["--opt=isolate=strict"]) as name:
        yield name


#: The claims' network placeholders, each a fixture of this module.
NETWORK_FIXTURES = ("custom_network", "strict_network")


def _networks(claim: Claim, request: pytest.FixtureRequest) -> dict[str, str]:
    """The custom networks the claim's ``network`` names, by placeholder."""
    return {key: request.getfixturevalue(key) for key in NETWORK_FIXTURES
            if "{" + key + "}" in claim.extra.get("network", "")}


def _values(target: Target, server: hostserver.HostServer,
            networks: dict[str, str]) -> dict[str, Any]:
    return {"port": server.port, "main_address": target.main_address,
            **dict.fromkeys(NETWORK_FIXTURES, ""), **networks}


def _fetch(target: Target, claim: Claim, server: hostserver.HostServer,
           networks: dict[str, str], tmp_conf: str) -> tuple[outbound.FetchResult, list[str]]:
    """The container's attempts at the claim's ``connect`` and ``shown`` addresses, and the
    URLs that count (``connect``'s)."""
    values = _values(target, server, networks)
    counted = urls(claim, server.port, server.path, values)
    shown = urls(claim, server.port, server.path, values, key="shown")
    env = []
    if "pasta_options" in claim.extra:
        options = json.dumps(claim.extra["pasta_options"])
        target.write_file(tmp_conf, f"[network]\npasta_options = {options}\n")
        env = [f"CONTAINERS_CONF_OVERRIDE={tmp_conf}"]
    try:
        return outbound.container_fetch(
            target, expand(claim.extra["network"], values), [*counted, *shown],
            run_args=run_args(claim, values), env=env), counted
    finally:
        if env:
            target.remove_files(tmp_conf)


def _reach(claim: Claim, server: hostserver.HostServer, target: Target, recorder: Recorder,
           applicable: Any, request: pytest.FixtureRequest) -> None:
    applicable(claim, get_method(claim.method or ""))
    conf = f"{target.home}/.cache/podnet/{claim.id}.containers.conf"
    networks = _networks(claim, request)
    result, counted = _fetch(target, claim, server, networks, conf)
    recorder.check(claim, result.reached(server.token, among=counted),
                   evidence={**result.evidence(), "server": f"{server.address}:{server.port}",
                             **_other_wordings(claim, result, server, target, networks)})


def _other_wordings(claim: Claim, result: outbound.FetchResult, server: hostserver.HostServer,
                    target: Target, networks: dict[str, str]) -> dict[str, Any]:
    """Whether the claim's other wordings (in other revisions of the guide) hold too, where
    the container tried all their addresses: the guide's errata per revision."""
    values = _values(target, server, networks)
    tried = {attempt.url for attempt in result.attempts}
    judged = [{"quote": other.quote,
               "held": result.reached(server.token, among=urls(other, server.port,
                                                                server.path, values))}
              for other in claim.all_wordings() if other.quote != claim.quote
              and set(urls(other, server.port, server.path, values)) <= tried]
    return {"wordings": judged} if judged else {}


@outbound_mark
@pytest.mark.parametrize("claim", params(REGISTRY.select("reaches_host_localhost")))
def test_host_localhost(claim: Claim, target: Target, recorder: Recorder, applicable: Any,
                        request: pytest.FixtureRequest) -> None:
    _reach(claim, _server(claim, "localhost_server", request), target, recorder, applicable,
           request)


@outbound_mark
@pytest.mark.parametrize("claim", params(REGISTRY.select("reaches_host_main_interface")))
def test_host_main_interface(claim: Claim, target: Target, recorder: Recorder, applicable: Any,
                             request: pytest.FixtureRequest) -> None:
    _reach(claim, _server(claim, "main_server", request), target, recorder, applicable,
           request)


@outbound_mark
@pytest.mark.slirp4netns
@pytest.mark.claims("outbound.main-interface.slirp4netns-source")
def test_main_interface_source(claim: Claim, target: Target, recorder: Recorder, applicable: Any,
                               main_server: hostserver.HostServer) -> None:
    """The guide's example: a --network slirp4netns container fetches from the host's
    main interface; the server logs the request as coming from that interface's address."""
    applicable(claim, get_method(claim.method or ""))
    source, evidence = _logged_source(target, main_server, "slirp4netns")
    recorder.check(claim, source, matches=lambda _expected, seen: seen == target.main_address,
                   evidence=evidence)


@outbound_mark
@pytest.mark.slirp4netns
def test_other_outbound_address_fails(target: Target, capabilities: Capabilities,
                                      main_server: hostserver.HostServer) -> None:
    """The wrong world: slirp4netns told to connect from 127.0.0.1 (outbound_addr=); the
    server logs 127.0.0.1, not the main interface's address."""
    if missing := capabilities.first_missing(["slirp4netns"]):
        pytest.skip(missing)
    source, evidence = _logged_source(target, main_server, "slirp4netns:outbound_addr=127.0.0.1")
    assert source != target.main_address, evidence


def _logged_source(target: Target, server: hostserver.HostServer, network: str,
                   host: str | None = None) -> tuple[str | None, dict[str, Any]]:
    """A container on ``network`` fetches from ``server`` (at ``host``, HOST:PORT, when
    given): the source address the server logs for that request."""
    probe = secrets.token_hex(4)
    url = f"http://{host}{server.path}" if host else server.url()
    result = outbound.container_fetch(target, network, [f"{url}?probe={probe}"])
    assert result.reached(server.token), f"no answer: {result.evidence()}"
    log = target.run(["cat", f"{server.workdir}/server.log"]).stdout
    line = next((ln for ln in reversed(log.splitlines()) if f"probe={probe}" in ln), "")
    return (line.split(" ", 1)[0] if line else None), {
        **result.evidence(), "server_log_line": line, "host_main_address": target.main_address}


@outbound_mark
@pytest.mark.parametrize("claim", params(REGISTRY.select("server_sees_source")))
def test_server_sees_source(claim: Claim, target: Target, recorder: Recorder, applicable: Any,
                            localhost_server: hostserver.HostServer) -> None:
    """The -T warning: the server on host1's 127.0.0.1 logs the container's request as
    coming from the address the claim expects."""
    applicable(claim, get_method(claim.method or ""))
    values = _values(target, localhost_server, {})
    host = expand(claim.extra["connect"][0], values)
    source, evidence = _logged_source(target, localhost_server,
                                      expand(claim.extra["network"], values), host)
    recorder.check(claim, source, evidence={**evidence, "finding": "security"})


@outbound_mark
@pytest.mark.pasta
def test_logged_source_is_the_connecting_address(target: Target, capabilities: Capabilities,
                                                 main_server: hostserver.HostServer) -> None:
    """The wrong world of the -T warning: a pasta container reaching host1's main interface
    (host.containers.internal) is logged from that interface's address, not 127.0.0.1,
    so the log is read for the real source."""
    if missing := capabilities.first_missing(["pasta"]):
        pytest.skip(missing)
    source, evidence = _logged_source(target, main_server, "pasta",
                                      f"host.containers.internal:{main_server.port}")
    assert source not in (None, "127.0.0.1"), evidence


@outbound_mark
@pytest.mark.parametrize("claim", params(REGISTRY.select("map_gw_podman_option")))
def test_map_gw_podman_option(claim: Claim, target: Target, recorder: Recorder,
                              applicable: Any) -> None:
    """podman's own pasta command line with ``--network=pasta:--map-gw``, next to that of
    a plain ``--network=pasta`` container (the control: its pasta has --no-map-gw)."""
    applicable(claim, get_method(claim.method or ""))
    args = _pasta_argv(target, claim.extra["network"])
    control = _pasta_argv(target, "pasta")
    recorder.check(claim, map_gw_arguments(args, control), evidence={
        "pasta_argv": " ".join(args), "control_pasta_argv": " ".join(control)})


def _pasta_argv(target: Target, network: str) -> list[str]:
    with containers.running(target, [f"--network={network}"], ["sleep", "60"]) as name:
        netns = procs.container_netns(target, name)
        args = procs.pasta_of(target, netns)
    if args is None:
        raise NoObservation(f"no pasta process serves {name}'s network namespace {netns}")
    return args


def map_gw_arguments(args: list[str], control: list[str]) -> dict[str, bool]:
    """Which of --map-gw and --no-map-gw podman gave pasta; believed only when the
    control's pasta (plain --network=pasta) has --no-map-gw."""
    if NO_MAP_GW not in control:
        raise NoObservation(f"the control's pasta has no {NO_MAP_GW}: {' '.join(control)}")
    return {MAP_GW: MAP_GW in args, NO_MAP_GW: NO_MAP_GW in args}


MAP_GW, NO_MAP_GW = "--map-gw", "--no-map-gw"


@outbound_mark
@pytest.mark.parametrize("claim", params(REGISTRY.select("pasta_help_map_gw")))
def test_pasta_help_map_gw(claim: Claim, target: Target, recorder: Recorder,
                           applicable: Any) -> None:
    """The guide's ``pasta --help | grep -- --no-map-gw`` and ``grep -- --map-gw``."""
    applicable(claim, get_method(claim.method or ""))
    done = target.run(["pasta", "--help"], check=False)
    recorder.check(claim, help_options(done.stdout + done.stderr, (MAP_GW, NO_MAP_GW)),
                   evidence={"command": "pasta --help", "exit": done.returncode,
                             "map_gw_lines": " | ".join(
                                 ln.strip() for ln in (done.stdout + done.stderr).splitlines()
                                 if "map-gw" in ln)})


def help_options(text: str, options: tuple[str, ...]) -> dict[str, bool]:
    """Which options a --help text lists (an option counts only as a whole word:
    --map-gw is not listed by the line of --no-map-gw)."""
    if "Usage" not in text and "usage" not in text:
        raise NoObservation(f"not a help text: {text.strip()[:200]!r}")
    words = set(re.findall(r"(?<![\w-])--?[\w-]+", text))
    return {option: option in words for option in options}


@outbound_mark
@pytest.mark.parametrize("claim", params(REGISTRY.select("reaches_internet")))
def test_internet(claim: Claim, target: Target, recorder: Recorder, applicable: Any,
                  internet_server: hostserver.HostServer) -> None:
    applicable(claim, get_method(claim.method or ""))
    route = target.run(["ip", "-4", "route", "show", "default"]).stdout.strip()
    result = outbound.container_fetch(target, claim.extra["network"], [internet_server.url()])
    recorder.check(claim, result.reached(internet_server.token),
                   evidence={**result.evidence(), "host1_default_route": route})


@outbound_mark
@pytest.mark.parametrize("claim", params(REGISTRY.select("etc_hosts_addresses")))
def test_etc_hosts(claim: Claim, target: Target, recorder: Recorder, applicable: Any,
                   request: pytest.FixtureRequest) -> None:
    applicable(claim, get_method(claim.method or ""))
    values = {**dict.fromkeys(NETWORK_FIXTURES, ""), **_networks(claim, request)}
    result = outbound.container_fetch(target, expand(claim.extra["network"], values), [],
                                      run_args=run_args(claim, values))
    entries = outbound.hosts_entries(result.etc_hosts)
    names = claim.extra.get("same_address") or list(claim.expected)
    addresses = {name: entries.get(name) for name in names}
    observed: Any = (outbound.share_one_address(addresses) if "same_address" in claim.extra
                     else addresses)
    recorder.check(claim, observed, evidence={"etc_hosts": result.etc_hosts,
                                              "addresses": addresses,
                                              "command": result.command})


@outbound_mark
@pytest.mark.parametrize("claim", params(REGISTRY.select("pasta_map_guest_addr_default")))
def test_map_guest_addr_default(claim: Claim, target: Target, recorder: Recorder,
                                applicable: Any) -> None:
    """podman's own pasta command line, read from ps while a container runs."""
    applicable(claim, get_method(claim.method or ""))
    with containers.running(target, [f"--network={claim.extra['network']}"],
                            ["sleep", "60"], name=f"{PREFIX}mapguest-{secrets.token_hex(3)}"
                            ) as name:
        netns = procs.container_netns(target, name)
        args = procs.pasta_of(target, netns)
    assert args is not None, f"no pasta process serves {name}'s network namespace {netns}"
    values = procs.option_values(args, "--map-guest-addr")
    recorder.check(claim, bool(values), evidence={
        "container_netns": netns, "pasta_argv": " ".join(args),
        "map_guest_addr": ",".join(values)})

