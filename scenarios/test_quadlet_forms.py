"""The quadlet forms of the guide's "source address preserved" examples.

Each example's ``nginx.container`` is written as the guide has it (its image replaced by
the test image, its names by session-marked ones), with the custom network's
``mynet.network`` beside it in the quadlet directory as the guide puts it; the generated
service is started with ``systemctl --user start``. The client on host2 requests a
token and the container's access log says with which source address it was served.
The same observation judges the addresses the guide quotes for these examples.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from harness.capabilities import Capabilities
from harness.claims import Claim, load_default
from harness.clients.base import Client
from harness.errors import PodnetError
from harness.methods import get_method
from harness.outbound_params import params
from harness.probes import nginx_log
from harness.quadlet import container_unit, network_unit
from harness.results.recorder import Recorder
from harness.services import PREFIX, container_file
from harness.targets.base import Target
from harness.wait import logged, poll

pytestmark = [pytest.mark.lab, pytest.mark.source_address]

REGISTRY = load_default()
PORT = 8080
PUBLISH = f"PublishPort=0.0.0.0:{PORT}:{PORT}"
#: Placeholder for the name of the custom network's ``.network`` file (the guide's mynet).
NETWORK_FILE = "{network}"
SERVE_TIMEOUT = 60


@dataclass(frozen=True)
class QuadletForm:
    """The [Container] lines the guide adds to Image= and ContainerName=, and whether
    the statement says the client's own address is logged."""

    lines: tuple[str, ...]
    logs_client: bool


#: Per method: step 4 of its example in the guide.
FORMS = {
    "pasta": QuadletForm(("Network=pasta", PUBLISH), logs_client=True),
    "pasta-custom-network": QuadletForm((f"Network={NETWORK_FILE}.network", PUBLISH),
                                        logs_client=False),
    "slirp4netns-slirp4netns": QuadletForm(
        ("Network=slirp4netns:port_handler=slirp4netns", PUBLISH), logs_client=True),
    "slirp4netns-rootlesskit": QuadletForm(
        ("Network=slirp4netns:port_handler=rootlesskit", PUBLISH), logs_client=False),
    "host": QuadletForm(("Network=host",), logs_client=True),
}
#: The guide's mynet.network file.
NETWORK_TEXT = "[Network]\n"


@dataclass(frozen=True)
class Served:
    peer: str | None
    evidence: dict[str, Any]


@contextlib.contextmanager
def _network_file(target: Target, name: str, needed: bool) -> Iterator[None]:
    """The custom network's quadlet file; the network quadlet creates (carrying the
    session's label, from the file's ``Label=``) is removed too. A file of that name
    that this session did not write stays, with its unit and network."""
    if not needed:
        yield
        return
    with network_unit(target, name, NETWORK_TEXT):
        yield


def _serve_from_quadlet(target: Target, client: Client, method_id: str,
                        form: QuadletForm | None = None, serve_timeout: float = SERVE_TIMEOUT,
                        control_port: int | None = None) -> Served:
    """Start the guide's quadlet form of ``method_id`` (or ``form``); request a token
    from the client. With ``control_port``, where the form does serve: that port first
    (the positive control), then one request of the token on :data:`PORT`."""
    form = form or FORMS[method_id]
    token = secrets.token_hex(3)
    unit, network = f"{PREFIX}quadlet-{token}", f"{PREFIX}mynet-{token}"
    lines = [line.replace(NETWORK_FILE, network) for line in form.lines]
    text = container_file(unit, lines)
    url = f"http://{target.main_address}:{PORT}/?probe={token}"
    evidence: dict[str, Any] = {"nginx.container": text, "url": url}
    with _network_file(target, network, NETWORK_FILE in "".join(form.lines)), \
            container_unit(target, unit, text) as service:
        if control_port is not None:
            control = f"http://{target.main_address}:{control_port}/"
            poll(lambda: client.http_get(control, timeout=2).ok,
                 what=f"{service} to serve {control} (the control)", timeout=serve_timeout,
                 interval=0.2)
            evidence["control"] = f"{control} served"
            reply = client.http_get(url, timeout=2)
            if not reply.ok:
                evidence.update(served=False, error=reply.error or f"HTTP {reply.status}")
                return Served(None, evidence)
        try:
            poll(lambda: client.http_get(url, timeout=2).ok, what=f"{service} to serve {url}",
                 timeout=serve_timeout, interval=0.2)
        except PodnetError as exc:
            state = target.systemctl_user("is-active", service, check=False).stdout.strip()
            evidence.update(served=False, error=str(exc), service_state=state)
            return Served(None, evidence)
        entry = logged(lambda: nginx_log.find_request(
            target.podman("logs", unit, check=False).stdout, token),
            what=f"{unit}'s access log line for probe {token}")
        evidence.update(served=True, log_line=entry.line if entry else None)
        if NETWORK_FILE in "".join(form.lines):
            evidence["network_subnet"] = target.podman(
                "network", "inspect", f"systemd-{network}", "--format",
                "{{range .Subnets}}{{.Subnet}} {{end}}", check=False).stdout.strip()
        return Served(entry.peer if entry else None, evidence)


def form_holds(form: QuadletForm, served: Served, client_address: str) -> bool:
    """Served, and where the guide says so, logged with the client's own address."""
    return bool(served.evidence["served"]) and (
        served.peer == client_address or not form.logs_client)


@pytest.mark.parametrize("claim", params(REGISTRY.select("quadlet_example_serves")))
def test_quadlet_form(claim: Claim, target: Target, client: Client, recorder: Recorder,
                      applicable: Any) -> None:
    """Served, and where the guide says so, logged with host2's own address."""
    method = get_method(claim.method or "")
    applicable(claim, method)
    served = _serve_from_quadlet(target, client, method.id)
    recorder.check(claim, form_holds(FORMS[method.id], served, client.address), evidence={
        **served.evidence, "client_address": client.address, "observed_peer": served.peer,
        "guide_says_client_address_logged": FORMS[method.id].logs_client})


QUOTED_IN_EXAMPLES = [c for c in REGISTRY.select("quoted_source_address") if c.id in (
    "inbound.quoted-address.rootlesskit-example", "inbound.quoted-address.pasta-custom-network")]


@pytest.mark.parametrize("claim", params(QUOTED_IN_EXAMPLES))
def test_quoted_address_of_example(claim: Claim, target: Target, client: Client,
                                   recorder: Recorder, applicable: Any) -> None:
    """The address the container logs for host2's request, against the guide's quote."""
    method = get_method(claim.method or "")
    applicable(claim, method)
    served = _serve_from_quadlet(target, client, method.id)
    assert served.evidence["served"], f"the guide's quadlet form did not serve: {served.evidence}"
    recorder.check(claim, served.peer,
                   evidence={**served.evidence, "client_address": client.address})


# --- the wrong worlds: each must make the check fail, never pass -----------------------

def test_port_published_elsewhere_fails(target: Target, client: Client,
                                        capabilities: Capabilities) -> None:
    """pasta's form publishing another host port: host2 is not served on 8080."""
    if missing := capabilities.first_missing(["pasta"]):
        pytest.skip(missing)
    form = QuadletForm(("Network=pasta", f"PublishPort=0.0.0.0:{PORT + 2}:{PORT}"),
                       logs_client=True)
    served = _serve_from_quadlet(target, client, "pasta", form, control_port=PORT + 2)
    assert not form_holds(form, served, client.address), served.evidence
    assert "Connection refused" in served.evidence["error"], served.evidence


def test_address_lost_fails(target: Target, client: Client, capabilities: Capabilities) -> None:
    """A form that loses the client's address (the custom network's) judged as one the
    guide says logs host2's address."""
    if missing := capabilities.first_missing(["pasta"]):
        pytest.skip(missing)
    form = QuadletForm(FORMS["pasta-custom-network"].lines, logs_client=True)
    served = _serve_from_quadlet(target, client, "pasta-custom-network", form)
    assert served.evidence["served"], served.evidence
    assert not form_holds(form, served, client.address), served.evidence


def test_quoted_address_with_subnet_taken_fails(target: Target, client: Client,
                                                capabilities: Capabilities) -> None:
    """With 10.89.0.0/24 held by another network, the guide's mynet gets the next subnet
    and its container logs another address than the quoted 10.89.0.2."""
    if missing := capabilities.first_missing(["pasta"]):
        pytest.skip(missing)
    quoted = next(c.expected for c in QUOTED_IN_EXAMPLES
                  if c.method == "pasta-custom-network")
    taken = f"{PREFIX}taken-{secrets.token_hex(3)}"
    target.podman("network", "create", "--subnet", "10.89.0.0/24", taken)
    try:
        served = _serve_from_quadlet(target, client, "pasta-custom-network")
    finally:
        target.remove_own("networks", taken)
    assert served.evidence["served"], served.evidence
    assert served.peer != quoted, served.evidence
