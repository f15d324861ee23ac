"""The guide's "Capture network traffic": pasta --pcap captures a container's HTTP
request; the capture shows HTTP host and method and the destination address.

The container fetches http://NAME/TOKEN from a web server on host2 (port 80), NAME
given with --add-host; for the DNS claims, as in the guide, the name is resolved through
DNS: a DNS server on host2 (host1's nameserver in the lab) answers it. The capture is
read with scapy (harness.probes.pcap) and, as a cross-check, with tshark on host1 where
it is installed.
"""

from __future__ import annotations

import base64
import contextlib
import secrets
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.claims import Claim, load_default
from harness.clients.base import Client
from harness.methods import get_method
from harness.probes import hostserver, pcap
from harness.results.recorder import NoObservation, Recorder
from harness.services import IMAGE
from harness.targets.base import Target
from harness.wait import poll

pytestmark = [pytest.mark.lab, pytest.mark.pcap, pytest.mark.pasta]

REGISTRY = load_default()
HTTP_PORT = 80



@pytest.fixture(scope="module")
def web_on_host2(client: Client) -> Iterator[hostserver.HostServer]:
    with hostserver.http_server(client.run, client.address, HTTP_PORT,
                                python=client.python) as server:
        yield server


@pytest.fixture
def capture(target: Target, web_on_host2: hostserver.HostServer, tmp_path: Path
            ) -> Iterator[tuple[Path, str, str]]:
    """(local copy of the capture, path on host1, the container's command): the name
    given with --add-host."""
    name = REGISTRY.get("pcap.http-host-method").extra["server_name"]
    with _captured(target, web_on_host2, tmp_path, name,
                   [f"--add-host={name}:{web_on_host2.address}"]) as found:
        yield found


@pytest.fixture(scope="module")
def dns_on_host2(client: Client, web_on_host2: hostserver.HostServer
                 ) -> Iterator[hostserver.HostServer]:
    """A DNS server on host2, host1's nameserver in the lab, answering the server's name
    with host2's address."""
    name = REGISTRY.get("pcap.dns-resolved-address").extra["server_name"]
    with hostserver.dns_server(client.run, client.address, name, web_on_host2.address,
                               python=client.python) as server:
        yield server


@pytest.fixture
def dns_capture(target: Target, web_on_host2: hostserver.HostServer,
                dns_on_host2: hostserver.HostServer, tmp_path: Path
                ) -> Iterator[tuple[Path, str, str]]:
    """The same capture with the name resolved through DNS, as in the guide."""
    with _captured(target, web_on_host2, tmp_path, dns_on_host2.token, []) as found:
        yield found


@contextlib.contextmanager
def _captured(target: Target, web: hostserver.HostServer, tmp_path: Path, name: str,
              run_args: list[str]) -> Iterator[tuple[Path, str, str]]:
    remote = f"{target.home}/.cache/podnet/capture-{secrets.token_hex(3)}.pcap"
    argv = target.marked(["podman", "run", "--rm", f"--network=pasta:--pcap,{remote}",
                          *run_args, IMAGE, "curl", "-s", "-m", "5", f"http://{name}{web.path}"])
    local = tmp_path / f"capture-{secrets.token_hex(3)}.pcap"
    try:
        target.run(["mkdir", "-p", str(Path(remote).parent)])
        target.record_file(remote)
        done = target.run(argv)
        assert done.stdout.strip() == web.token, f"the request failed: {done}"

        def copied() -> bool:
            data = target.run(["base64", remote], check=False)
            if not data.ok:
                return False
            local.write_bytes(base64.b64decode(data.stdout))
            return bool(pcap.http_requests(local))

        poll(copied, what=f"an HTTP request in {remote}", timeout=10)
        yield local, remote, shlex.join(argv)
    finally:
        target.remove_files(remote)


def _tshark(target: Target, remote: str, *fields: str, display: str | None = None) -> set[str] | None:
    if not target.run(["sh", "-c", "command -v tshark"], check=False).ok:
        return None
    # occurrence=f: the outer header only, as scapy reads it (an ICMP error quotes an
    # inner IP header, whose ip.dst tshark would otherwise list too).
    argv = ["tshark", "-r", remote, "-T", "fields", "-E", "occurrence=f",
            *(a for f in fields for a in ("-e", f))]
    if display:
        argv += ["-Y", display]
    done = target.run(argv, check=False)
    return {line.strip() for line in done.stdout.splitlines() if line.strip()}


def host_method_seen(server_name: str, scapy: set[tuple[str, str]],
                     shark: set[str] | None) -> bool:
    """Whether the capture shows a GET to ``server_name``. tshark, where installed, must
    read the same (host, method) pairs as scapy: a disagreement is no observation."""
    if shark is not None and shark != {f"{h}\t{m}" for h, m in scapy}:
        raise NoObservation(f"tshark {sorted(shark)} and scapy {sorted(scapy)} disagree "
                            "on the capture's HTTP host and method")
    return (server_name, "GET") in scapy


def destination_seen(server_address: str, scapy: set[str], shark: set[str] | None) -> bool:
    """Whether the server's address is among the capture's IP destinations. tshark, where
    installed, must read the same IPv4 destinations as scapy."""
    ipv4 = {d for d in scapy if ":" not in d}
    if shark is not None and shark != ipv4:
        raise NoObservation(f"tshark {sorted(shark)} and scapy {sorted(ipv4)} disagree on ip.dst")
    return server_address in scapy


@pytest.mark.claims("pcap.http-host-method")
def test_http_host_and_method(claim: Claim, target: Target, recorder: Recorder, applicable: object,
                              request: pytest.FixtureRequest) -> None:
    applicable(claim, get_method(claim.method or ""))  # type: ignore[operator]
    # The capture is made only once the target is known to have pasta.
    local, remote, command = request.getfixturevalue("capture")
    found = {(host, method) for host, method, _ in pcap.http_requests(local)}
    shark = _tshark(target, remote, "http.host", "http.request.method", display="http")
    seen = host_method_seen(claim.extra["server_name"], found, shark)
    recorder.check(claim, seen, evidence={
        "command": command, "scapy_host_method": repr(sorted(found)),
        "tshark_host_method": repr(sorted(shark)) if shark is not None else "tshark absent"})


@pytest.mark.claims("pcap.destination-address")
def test_destination_address(claim: Claim, target: Target, client: Client, recorder: Recorder,
                             applicable: object, request: pytest.FixtureRequest) -> None:
    applicable(claim, get_method(claim.method or ""))  # type: ignore[operator]
    local, remote, command = request.getfixturevalue("capture")
    scapy_dst = {p.dst for p in pcap.packets(local)}
    shark = _tshark(target, remote, "ip.dst")
    seen = destination_seen(client.address, scapy_dst, shark)
    recorder.check(claim, seen, evidence={
        "command": command, "server_address": client.address,
        "scapy_ip_dst": ", ".join(sorted(scapy_dst)),
        "tshark_ip_dst": ", ".join(sorted(shark)) if shark is not None else "tshark absent"})


#: What the DNS packets of a capture are: UDP to port 53.
DNS_PORT = 53


def _dns_observation(target: Target, request: pytest.FixtureRequest, name: str
                     ) -> tuple[list[str], set[str], str, dict[str, str]]:
    """The capture's DNS destinations, all its destinations, host1's own lookup of the
    name, and the evidence."""
    local, _, command = request.getfixturevalue("dns_capture")
    found = pcap.packets(local)
    dns = sorted({p.dst for p in found if p.proto == "udp" and p.dport == DNS_PORT})
    destinations = {p.dst for p in found}
    lookup = target.run(["python3", "-c",
                         "import socket,sys; print(socket.gethostbyname(sys.argv[1]))", name],
                        check=False)
    resolved = lookup.stdout.strip()
    return dns, destinations, resolved, {
        "command": command, "dns_destinations": ", ".join(dns),
        "ip_dst": ", ".join(sorted(destinations)),
        f"host1's lookup of {name}": resolved or lookup.stderr.strip()[-200:]}


@pytest.mark.claims("pcap.dns-forwarder")
def test_dns_forwarder(claim: Claim, target: Target, recorder: Recorder, applicable: object,
                       request: pytest.FixtureRequest) -> None:
    """The guide's capture of curl http://podman.io: the DNS query goes to the address
    podman gives pasta with --dns-forward."""
    applicable(claim, get_method(claim.method or ""))  # type: ignore[operator]
    dns, _, _, evidence = _dns_observation(target, request, claim.extra["server_name"])
    recorder.check(claim, dns_forwarder(dns), evidence=evidence)


@pytest.mark.claims("pcap.dns-resolved-address")
def test_dns_resolved_address(claim: Claim, target: Target, recorder: Recorder, applicable: object,
                              request: pytest.FixtureRequest) -> None:
    """The address the host's own lookup of the name gives (host -t a) is among the
    capture's destinations."""
    applicable(claim, get_method(claim.method or ""))  # type: ignore[operator]
    dns, destinations, resolved, evidence = _dns_observation(
        target, request, claim.extra["server_name"])
    recorder.check(claim, resolved_seen(resolved, dns, destinations), evidence=evidence)


def dns_forwarder(dns_destinations: list[str]) -> str:
    """The one address the container sent its DNS queries to; a capture without DNS
    traffic (the name resolved some other way) is no observation."""
    if not dns_destinations:
        raise NoObservation("the capture has no DNS query: the name was not resolved through DNS")
    return ", ".join(dns_destinations)


def resolved_seen(resolved: str, dns_destinations: list[str], destinations: set[str]) -> bool:
    """The host's own lookup of the name gives an address among the capture's
    destinations; only judged when the name went through DNS and the host resolved it."""
    if not dns_destinations:
        raise NoObservation("the capture has no DNS query: the name was not resolved through DNS")
    if not resolved:
        raise NoObservation("the host's own lookup of the name failed")
    return resolved in destinations
