"""The guide's "source address preserved" column, for every inbound method, TCP and UDP.

The client on host2 connects; the server in the container reports the peer address
(nginx's access log for TCP, the UDP peer reporter for UDP). For pasta, the source
address of the client's SYN in pasta's --pcap capture is recorded too and must agree.
"""

from __future__ import annotations

import base64
import secrets
from pathlib import Path
from typing import Any

import pytest

from harness.claims import Claim, load_default
from harness.clients.base import Client
from harness.methods import get_method
from harness.probes import nginx_log, pcap
from harness.pytest_plugin import method_params
from harness.results.recorder import Recorder
from harness.services import ServeOptions, Service, serve
from harness.targets.base import Target

pytestmark = [pytest.mark.lab, pytest.mark.source_address]

REGISTRY = load_default()
CLAIMS = REGISTRY.select("source_address_preserved")
TCP_PORT, UDP_PORT = 8080, 8081


@pytest.mark.parametrize(("claim", "protocol"), method_params(CLAIMS, protocols=True))
def test_source_address(claim: Claim, protocol: str, target: Target, client: Client,
                        recorder: Recorder, applicable: Any, tmp_path: Path) -> None:
    method = get_method(claim.method or "")
    applicable(claim, method, protocol)
    options = ServeOptions(port=UDP_PORT if protocol == "udp" else TCP_PORT, protocol=protocol,
                           pcap=method.uses_pasta_pcap)
    with serve(target, method, client, options) as service:
        observed_peer, evidence = (_udp_peer if protocol == "udp" else _tcp_peer)(
            target, client, service)
        if service.pcap_path:
            evidence.update(_pcap_evidence(target, service, protocol, client, tmp_path))
    preserved = observed_peer == client.address
    evidence["client_address"] = client.address
    evidence["observed_peer"] = observed_peer
    recorder.check(claim, preserved, protocol=protocol, evidence=evidence,
                   setup_seconds=service.setup_seconds)
    if method.network == "pasta":
        # pasta: the capture and the server must agree on the client's address.
        assert evidence.get("pcap_source") == observed_peer, (
            f"pasta capture saw {evidence.get('pcap_source')!r}, the server {observed_peer!r}")


@pytest.mark.claims("inbound.quoted-address.rootlesskit")
def test_quoted_rootlesskit_address(target: Target, client: Client, recorder: Recorder,
                                    applicable: Any) -> None:
    """The guide's podman run with slirp4netns + rootlesskit: the address nginx logs
    for host2's request, against the address the guide quotes."""
    claim = REGISTRY.get("inbound.quoted-address.rootlesskit")
    method = get_method(claim.method or "")
    applicable(claim, method)
    quoted = claim.extra["quoted_address"]
    with serve(target, method, client, ServeOptions(port=TCP_PORT)) as service:
        observed_peer, evidence = _tcp_peer(target, client, service)
    recorder.check(claim, observed_peer, matches=lambda _expected, peer: peer == quoted,
                   evidence={**evidence, "quoted_address": quoted,
                             "client_address": client.address},
                   setup_seconds=service.setup_seconds)


def _tcp_peer(target: Target, client: Client, service: Service) -> tuple[str | None, dict[str, Any]]:
    token = secrets.token_hex(4)
    reply = client.http_get(f"http://{target.main_address}:{service.port}/?probe={token}")
    assert reply.ok, f"request failed: {reply}"
    entry = nginx_log.find_request(service.logs(), token)
    assert entry is not None, f"no access log line for probe {token}"
    evidence: dict[str, Any] = {"log_line": entry.line}
    backend = service.related.get("backend")
    if backend:
        behind = nginx_log.find_request(service.logs(backend), token)
        evidence["backend_log_line"] = behind.line if behind else None
        evidence["backend_forwarded_for"] = behind.forwarded_for if behind else None
    return entry.peer, evidence


def _udp_peer(target: Target, client: Client, service: Service) -> tuple[str | None, dict[str, Any]]:
    reply = client.udp_exchange(target.main_address, service.port)
    assert "reply" in reply, f"no UDP reply: {reply}"
    fields = dict(part.split("=", 1) for part in reply["reply"].split())
    return fields.get("peer"), {"udp_reply": reply["reply"]}


def _pcap_evidence(target: Target, service: Service, protocol: str, client: Client,
                   tmp_path: Path) -> dict[str, Any]:
    assert service.pcap_path is not None
    local = tmp_path / "capture.pcap"
    done = target.run(["base64", service.pcap_path], check=False)
    if not done.ok:
        return {"pcap": f"no capture at {service.pcap_path}"}
    local.write_bytes(base64.b64decode(done.stdout))
    found = (pcap.datagrams_to(local, service.port) if protocol == "udp"
             else pcap.syns_to(local, service.port))
    from_client = [p for p in found if p.src == client.address]
    candidates = from_client or found
    first = candidates[0] if candidates else None
    return {
        "pcap_source": first.src if first else None,
        "pcap_record": first.describe() if first else f"no {protocol} packet to port {service.port}",
    }
