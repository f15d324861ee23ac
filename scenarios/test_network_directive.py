"""The guide's ``Network=`` table (Outbound TCP/UDP connections to the internet): which
values of a container unit's ``Network=`` lines let the container connect to the internet.

Each claim's ``network_lines`` are written as ``Network=`` lines of a quadlet
``.container`` (none: no line at all); placeholders name custom networks made for the
test: ``{internal}``/``{external}`` quadlet ``.network`` files with ``Internal=true`` /
``Internal=false``, ``{internal_name}``/``{external_name}`` networks made with ``podman
network create`` and given by name. The container runs podnet's fetch script against
a server on host2 ("the internet", reached through host1's default route) and stays up,
so its log can be read. "Cannot connect" needs curl's own connection failure while a
``--network=pasta`` container reaches the same server (the positive control).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from typing import Any

import pytest

from harness import containers
from harness.claims import Claim, load_default
from harness.clients.base import Client
from harness.methods import get_method
from harness.outbound_params import params
from harness.probes import hostserver, outbound
from harness.quadlet import container_unit, network_unit
from harness.results.recorder import NoObservation, Recorder, against_control
from harness.services import PREFIX, STOP_SIGNAL, container_file
from harness.targets.base import Target
from harness.wait import NotReady, poll

pytestmark = [pytest.mark.lab, pytest.mark.outbound]

REGISTRY = load_default()
INTERNET_PORT = 18093
#: curl's exit status when it could not connect (here: no route to the address).
COULD_NOT_CONNECT = 7
SCRIPT_IN_CONTAINER = "/podnet-fetch.sh"
#: The container stays up after its fetch, so its log can be read, and ends at once when
#: its unit stops: the shell exits on the image's stop signal as on SIGTERM, or each stop
#: would wait 10 s for podman's SIGKILL.
STAY_UP = f'trap \"exit 0\" TERM {STOP_SIGNAL}; sleep 300 & wait $!'
OUTPUT_TIMEOUT = 60.0
PLACEHOLDER = re.compile(r"\{(internal|external)(_name)?\}")


@pytest.fixture(scope="module")
def internet_server(client: Client) -> Iterator[hostserver.HostServer]:
    with hostserver.http_server(client.run, client.address, INTERNET_PORT,
                                python=client.python) as server:
        yield server


def _networks(target: Target, lines: list[str], stack: ExitStack) -> list[str]:
    """The claim's lines with each placeholder replaced by a network made for it."""
    made: dict[str, str] = {}
    for found in {m.group(0) for line in lines for m in PLACEHOLDER.finditer(line)}:
        kind, by_name = PLACEHOLDER.fullmatch(found).groups()  # type: ignore[union-attr]
        options = ["--internal"] if kind == "internal" else []
        if by_name:
            made[found] = stack.enter_context(containers.network(target, options=options))
        else:
            name = f"{PREFIX}{kind}-{secrets.token_hex(3)}"
            stack.enter_context(network_unit(
                target, name, f"[Network]\nInternal={'true' if kind == 'internal' else 'false'}\n"))
            made[found] = name
    return [PLACEHOLDER.sub(lambda m: made[m.group(0)], line) for line in lines]


def unit_fetch(target: Target, network_lines: list[str], url: str,
               container_lines: Sequence[str] = ()) -> tuple[outbound.FetchResult,
                                                              dict[str, Any]]:
    """A quadlet container with ``network_lines`` (and ``container_lines``) tries ``url``;
    what it printed."""
    unit = f"{PREFIX}netdir-{secrets.token_hex(3)}"
    script = f"{target.home}/.cache/podnet/{unit}.sh"
    with ExitStack() as stack:
        lines = [f"Network={value}" for value in _networks(target, network_lines, stack)]
        text = container_file(unit, [
            *lines, *container_lines, f"Volume={script}:{SCRIPT_IN_CONTAINER}:ro",
            f"Exec=sh -c 'sh {SCRIPT_IN_CONTAINER}; {STAY_UP}'"])
        target.write_file(script, outbound.fetch_script([url], 2.0) + "\n")
        stack.callback(target.remove_files, script)
        service = stack.enter_context(container_unit(target, unit, text))
        evidence: dict[str, Any] = {"unit": text}
        try:
            output = poll(lambda: _output(target, unit), what=f"{service}'s fetch output",
                          timeout=OUTPUT_TIMEOUT, interval=0.2)
        except NotReady as exc:
            state = target.systemctl_user("is-active", service, check=False).stdout.strip()
            raise NoObservation(f"{service} printed no fetch result ({state}): {exc}") from exc
        return outbound.parse_fetch_output(output, f"systemctl --user start {service}"), evidence


def _output(target: Target, container: str) -> str | None:
    done = target.podman("logs", container, check=False)
    return done.stdout if "hosts-end" in done.stdout else None


def internet_reached(result: outbound.FetchResult, control: outbound.FetchResult | None,
                     token: str) -> bool:
    """Whether the unit's container reached the server. "Not reached" needs curl's own
    connection failure while the control container reached the same server; any other
    failure says nothing about the ``Network=`` lines."""
    if result.reached(token):
        return True
    if control is None or not control.reached(token):
        raise NoObservation(f"the control (--network=pasta) did not reach the server either: "
                            f"{control.evidence()['attempts'] if control else 'not tried'}")
    exits = {a.curl_exit for a in result.attempts}
    if exits == {COULD_NOT_CONNECT}:
        return False
    raise NoObservation(f"the container neither reached the server nor failed to connect: "
                        f"{result.evidence()['attempts'] or 'no attempt'}")


@pytest.mark.parametrize("claim", params(REGISTRY.select("network_directive_reaches_internet")))
def test_network_directive(claim: Claim, target: Target, recorder: Recorder, applicable: Any,
                           internet_server: hostserver.HostServer) -> None:
    applicable(claim, get_method(claim.method) if claim.method else None)
    url = internet_server.url()
    result, evidence = unit_fetch(target, list(claim.extra["network_lines"]), url)
    control = (None if result.reached(internet_server.token)
               else outbound.container_fetch(target, "pasta", [url]))
    reached = internet_reached(result, control, internet_server.token)
    recorder.check(claim, reached, evidence={
        **evidence, **result.evidence(), "server": url,
        **({"control --network=pasta": control.evidence()["attempts"]} if control else {})})


# --- AddHost= in a container unit ---------------------------------------------------

MAIN_PORT = 18097


@pytest.fixture(scope="module")
def main_server(target: Target) -> Iterator[hostserver.HostServer]:
    with hostserver.http_server(target.run, target.main_address, MAIN_PORT,
                                record=target.record_file) as server:
        yield server


def unit_reached(result: outbound.FetchResult, control: outbound.FetchResult | None,
                 token: str) -> bool:
    """Whether the unit's container reached the server; "not reached" only while the
    same request from ``podman run`` with the equivalent options (the control) did."""
    return against_control(result.reached(token), control is not None and control.reached(token),
                           "podman run with the same options")


@pytest.mark.parametrize("claim", params(REGISTRY.select("quadlet_reaches_host_main_interface")))
def test_quadlet_main_interface(claim: Claim, target: Target, recorder: Recorder,
                                applicable: Any, main_server: hostserver.HostServer) -> None:
    """The claim's [Container] lines; the container connects to the claim's host name at
    the server's port. The control is podman run with the claim's ``run_args``."""
    applicable(claim, get_method(claim.method) if claim.method else None)
    _quadlet_reach(claim, target, recorder, main_server)


def _quadlet_reach(claim: Claim, target: Target, recorder: Recorder,
                   server: hostserver.HostServer) -> None:
    """The claim's [Container] lines (``container``) and Network= lines (``network_lines``);
    the container connects to the claim's host name at the server's port. The control is
    ``podman run --network=CONTROL_NETWORK RUN_ARGS`` (``control_network``: pasta)."""
    url = server.url(claim.extra["connect"])
    result, evidence = unit_fetch(target, claim.extra.get("network_lines", []), url,
                                  claim.extra.get("container", []))
    control = (None if result.reached(server.token) else outbound.container_fetch(
        target, claim.extra.get("control_network", "pasta"), [url],
        run_args=claim.extra.get("run_args", [])))
    recorder.check(claim, unit_reached(result, control, server.token), evidence={
        **evidence, **result.evidence(), "server": f"{server.address}:{server.port}",
        **({"control": control.evidence()["attempts"]} if control else {})})


LOCALHOST_PORT = 18098


@pytest.fixture(scope="module")
def localhost_server(target: Target) -> Iterator[hostserver.HostServer]:
    with hostserver.http_server(target.run, "127.0.0.1", LOCALHOST_PORT,
                                record=target.record_file) as server:
        yield server


@pytest.mark.parametrize("claim", params(REGISTRY.select("quadlet_reaches_host_localhost")))
def test_quadlet_localhost(claim: Claim, target: Target, recorder: Recorder, applicable: Any,
                           localhost_server: hostserver.HostServer) -> None:
    applicable(claim, get_method(claim.method) if claim.method else None)
    _quadlet_reach(claim, target, recorder, localhost_server)
