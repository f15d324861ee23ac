"""The guide's "Capture network traffic": pasta --pcap captures a container's HTTP
request; the capture shows HTTP host and method and the destination address.

The container fetches http://NAME/TOKEN from a web server on host2 (port 80), NAME
given with --add-host. The capture is read with scapy (harness.probes.pcap) and, as a
cross-check, with tshark on host1 where it is installed.
"""

from __future__ import annotations

import base64
import secrets
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.claims import load_default
from harness.clients.base import Client
from harness.clients.netns import NetnsClient
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
    python = sys.executable if isinstance(client, NetnsClient) else "python3"
    with hostserver.http_server(client.run, client.address, HTTP_PORT, python=python) as server:
        yield server


@pytest.fixture
def capture(target: Target, web_on_host2: hostserver.HostServer, tmp_path: Path
            ) -> Iterator[tuple[Path, str, str]]:
    """(local copy of the capture, path on host1, the container's command)."""
    name = REGISTRY.get("pcap.http-host-method").extra["server_name"]
    remote = f"{target.home}/.cache/podnet/capture-{secrets.token_hex(3)}.pcap"
    argv = target.marked(["podman", "run", "--rm", f"--network=pasta:--pcap,{remote}",
                          f"--add-host={name}:{web_on_host2.address}", IMAGE,
                          "curl", "-s", "-m", "5", f"http://{name}{web_on_host2.path}"])
    local = tmp_path / "capture.pcap"
    try:
        target.run(["mkdir", "-p", str(Path(remote).parent)])
        target.record_file(remote)
        done = target.run(argv)
        assert done.stdout.strip() == web_on_host2.token, f"the request failed: {done}"

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
def test_http_host_and_method(target: Target, recorder: Recorder, applicable: object,
                              request: pytest.FixtureRequest) -> None:
    claim = REGISTRY.get("pcap.http-host-method")
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
def test_destination_address(target: Target, client: Client, recorder: Recorder,
                             applicable: object, request: pytest.FixtureRequest) -> None:
    claim = REGISTRY.get("pcap.destination-address")
    applicable(claim, get_method(claim.method or ""))  # type: ignore[operator]
    local, remote, command = request.getfixturevalue("capture")
    scapy_dst = {p.dst for p in pcap.packets(local)}
    shark = _tshark(target, remote, "ip.dst")
    seen = destination_seen(client.address, scapy_dst, shark)
    recorder.check(claim, seen, evidence={
        "command": command, "server_address": client.address,
        "scapy_ip_dst": ", ".join(sorted(scapy_dst)),
        "tshark_ip_dst": ", ".join(sorted(shark)) if shark is not None else "tshark absent"})
