"""The guide's "source address preserved" column, for every inbound method, TCP and UDP.

The client on host2 connects; the server in the container reports the peer address
(nginx's access log for TCP, the UDP peer reporter for UDP). For pasta, the source
address of the client's SYN in pasta's --pcap capture is recorded too and must agree.
Socket activation over UDP (a ``ListenDatagram=`` socket) has a positive control: the
first datagram started the service, and the reporter answers on systemd's socket.
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
from harness.proxies.sockets import Holder, parse_ss
from harness.results.recorder import NoObservation, Recorder
from harness.services import ACTIVATION_WAIT, ServeOptions, Service, serve
from harness.targets.base import Target
from harness.wait import LOG_WAIT, logged, poll
from scenarios.params import method_params

pytestmark = [pytest.mark.lab, pytest.mark.source_address]

REGISTRY = load_default()
CLAIMS = REGISTRY.select("source_address_preserved")
TCP_PORT, UDP_PORT = 8080, 8081
NO_ROOT_SS = "not run: which processes hold the socket needs root on the target"


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
def test_quoted_rootlesskit_address(claim: Claim, target: Target, client: Client, recorder: Recorder,
                                    applicable: Any) -> None:
    """The guide's podman run with slirp4netns + rootlesskit: the address nginx logs
    for host2's request, against the address the guide quotes."""
    method = get_method(claim.method or "")
    applicable(claim, method)
    with serve(target, method, client, ServeOptions(port=TCP_PORT)) as service:
        observed_peer, evidence = _tcp_peer(target, client, service)
    recorder.check(claim, observed_peer, evidence={**evidence, "client_address": client.address},
                   setup_seconds=service.setup_seconds)


def _tcp_peer(target: Target, client: Client, service: Service) -> tuple[str | None, dict[str, Any]]:
    token = secrets.token_hex(4)
    reply = client.http_get(f"http://{target.main_address}:{service.port}/?probe={token}")
    assert reply.ok, f"request failed: {reply}"
    entry = logged(lambda: nginx_log.find_request(service.logs(), token),
                   what=f"the access log line for probe {token}")
    assert entry is not None, f"no access log line for probe {token} within {LOG_WAIT:g} s"
    evidence: dict[str, Any] = {"log_line": entry.line}
    backend = service.related.get("backend")
    if backend:
        behind = logged(lambda: nginx_log.find_request(service.logs(backend), token),
                        what=f"the backend's access log line for probe {token}")
        evidence["backend_log_line"] = behind.line if behind else None
        evidence["backend_forwarded_for"] = behind.forwarded_for if behind else None
    return entry.peer, evidence


def _udp_peer(target: Target, client: Client, service: Service) -> tuple[str | None, dict[str, Any]]:
    if service.unit:
        reply, evidence = _socket_activated_udp_reply(target, client, service)
    else:
        reply = client.udp_exchange(target.main_address, service.port)
        assert "reply" in reply, f"no UDP reply: {reply}"
        evidence = {"udp_reply": reply["reply"]}
    fields = dict(part.split("=", 1) for part in reply["reply"].split())
    return fields.get("peer"), evidence


def _socket_activated_udp_reply(target: Target, client: Client, service: Service
                                ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The first datagram starts the service (the reply comes once the reporter it
    started is up); then the positive control: it answered on systemd's socket."""
    assert service.unit is not None
    system = service.method.kind == "socket-system"
    before = _active_state(target, service.unit, system)
    reply = poll(lambda: (r := client.udp_exchange(target.main_address, service.port,
                                                   timeout=ACTIVATION_WAIT)).get("reply") and r,
                 what=f"{service.unit} to answer a datagram", timeout=60)
    after = _active_state(target, service.unit, system)
    # Which processes hold a socket only root sees (systemd's and the container's are
    # not the user's to read): without root on the target, the states alone decide.
    ss = (target.run(["ss", "-Hlunp", f"sport = :{service.port}"], root=True).stdout.strip()
          if target.can_root else NO_ROOT_SS)
    pid = int(target.podman("inspect", "-f", "{{.State.Pid}}", service.container).stdout)
    evidence = {"udp_reply": reply["reply"], "unit": service.unit,
                "active_state_before": before, "active_state_after": after,
                "ss_host": ss, "reporter_pid": pid}
    udp_socket_activated(before, after, parse_ss(ss) if target.can_root else None, pid)
    return reply, evidence


def _active_state(target: Target, unit: str, system: bool) -> str:
    systemctl = target.systemctl if system else target.systemctl_user
    return systemctl("show", "-p", "ActiveState", "--value", unit, check=False).stdout.strip()


def udp_socket_activated(before: str, after: str, holders: list[list[Holder]] | None,
                         reporter_pid: int) -> None:
    """Raise :class:`NoObservation` unless the datagram started the service (inactive
    before, active after) and the reporter answers on the socket systemd listens on:
    one UDP socket on the port, held by systemd and by the reporter's process. A
    reporter with a socket of its own (published by podman, say) is no socket activation."""
    problems = []
    if before != "inactive" or after != "active":
        problems.append(f"the service was {before!r} before the first datagram and "
                        f"{after!r} after it, not 'inactive' then 'active'")
    if holders is not None:  # None: not seen (no root on the target)
        problems += _holder_problems(holders, reporter_pid)
    if problems:
        raise NoObservation("no socket-activated UDP service: " + "; ".join(problems))


def _holder_problems(holders: list[list[Holder]], reporter_pid: int) -> list[str]:
    problems = []
    if len(holders) != 1:
        problems.append(f"{len(holders)} UDP sockets on the port, not one")
    names = {(h.name, h.pid) for socket in holders for h in socket}
    if not any(name == "systemd" for name, _ in names):
        problems.append("systemd holds no socket on the port")
    if not any(pid == reporter_pid for _, pid in names):
        problems.append(f"the reporter (pid {reporter_pid}) holds no socket on the port")
    return problems


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
