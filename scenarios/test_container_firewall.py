"""The guide's container firewall ("Set up container firewall"): an OCI hook of the
``createContainer`` stage runs nft with a ruleset that allows outgoing TCP/443 and
UDP/53 and drops other outgoing TCP and UDP, for containers with the annotation
``myannotation=yes`` and podman's ``--hooks-dir``.

host2 stands in for the internet: HTTP servers on its ports 443 and 80 (plain HTTP: the
rule is by port), and a DNS server on its port 53 answering one name (host1's
nameserver, reached through pasta's DNS forwarder). The hook calls nft where the target
has it (Debian: /usr/sbin/nft; the guide's /usr/bin/nft does not exist there).
"""

from __future__ import annotations

import json
import secrets
import shlex
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest

from harness.claims import Claim, load_default
from harness.clients.base import Client
from harness.outbound_params import params
from harness.probes import hostserver
from harness.results.recorder import NoObservation, Recorder
from harness.services import IMAGE
from harness.targets.base import Target

pytestmark = [pytest.mark.lab, pytest.mark.security]

REGISTRY = load_default()
ANNOTATION = "myannotation=yes"
RULESET = """
table inet filter {
  chain output {
    type filter hook output priority filter; policy drop;
    tcp dport 443 accept
    udp dport 53 accept
  }
}
"""
DNS_NAME = "firewall.podnet.example"
#: curl's exit status when --connect-timeout passed without a connection.
TIMED_OUT = 28



@pytest.fixture(scope="module")
def host2_servers(client: Client) -> Iterator[dict[str, hostserver.HostServer]]:
    """host2's HTTP servers on ports 443 and 80 and its DNS server."""
    with ExitStack() as stack:
        web = {str(port): stack.enter_context(hostserver.http_server(
            client.run, client.address, port, python=client.python)) for port in (443, 80)}
        web["dns"] = stack.enter_context(hostserver.dns_server(
            client.run, client.address, DNS_NAME, "203.0.113.53", python=client.python))
        yield web


@pytest.fixture(scope="module")
def hooks_dir(target: Target) -> Iterator[str]:
    """The guide's hooks.d/foobar.json and configure-firewall.bash, in a directory of
    podnet's own."""
    nft = target.run(["sh", "-c", "command -v nft"], check=False).stdout.strip()
    if not nft:
        pytest.skip("nft is not installed on the target")
    directory = f"{target.home}/.cache/podnet/firewall-{secrets.token_hex(3)}"
    script = f"{directory}/configure-firewall.bash"
    policy = {"version": "1.0.0", "hook": {"path": script},
              "when": {"annotations": {"^myannotation$": "yes"}},
              "stages": ["createContainer"]}
    try:
        target.write_file(f"{directory}/hooks.d/foobar.json", json.dumps(policy, indent=2))
        target.write_file(script, f'#!/bin/bash\necho "{RULESET}" | {nft} -f -\n', mode="0755")
        yield f"{directory}/hooks.d"
    finally:
        target.remove_files(directory)


@dataclass(frozen=True)
class Tried:
    exit: int
    output: str
    command: str


def _run(target: Target, hooks: str, script: str, *, annotated: bool = True) -> Tried:
    argv = target.marked(["podman", "run", "--rm",
                          *(["--annotation", ANNOTATION] if annotated else []), IMAGE,
                          "bash", "-c", script])
    argv[1:1] = ["--hooks-dir", hooks]  # podman's global option, before run as the guide has it
    done = target.run(argv, check=False, timeout=60)
    return Tried(done.returncode, (done.stdout + done.stderr).strip()[-300:], shlex.join(argv))


def _probe(claim: Claim, servers: dict[str, hostserver.HostServer]) -> str:
    """The claim's probe inside the container: curl to a port of host2, or a lookup."""
    if claim.extra["probe"] == "dns":
        return f"getent hosts {DNS_NAME}"
    server = servers[str(claim.extra["port"])]
    return f"curl -sS --connect-timeout 3 {server.url()}"


def passed_firewall(tried: Tried, control: Tried | None, expected_answer: str) -> bool:
    """Whether the probe got through the firewall. Blocked only with curl's timeout (the
    drop policy: no answer) or a lookup with no answer, while the same probe without the
    annotation (no firewall) got through: the control."""
    if tried.exit == 0 and expected_answer in tried.output:
        return True
    if "error executing hook" in tried.output:
        raise NoObservation(f"the hook failed: {tried.output}")
    if control is None or not (control.exit == 0 and expected_answer in control.output):
        raise NoObservation("the probe without the firewall did not get through either: "
                            f"{control.output if control else 'not run'}")
    if tried.exit in (TIMED_OUT, 2):  # curl's timeout; getent: name not found
        return False
    raise NoObservation(f"the probe failed for another reason: exit {tried.exit}: "
                        f"{tried.output}")


@pytest.mark.parametrize("claim", params(REGISTRY.select("container_firewall_passes")))
def test_firewall(claim: Claim, target: Target, recorder: Recorder, applicable: Any,
                  hooks_dir: str, host2_servers: dict[str, hostserver.HostServer]) -> None:
    applicable(claim)
    script = _probe(claim, host2_servers)
    answer = ("203.0.113.53" if claim.extra["probe"] == "dns"
              else host2_servers[str(claim.extra["port"])].token)
    tried = _run(target, hooks_dir, script)
    got_through = tried.exit == 0 and answer in tried.output
    control = None if got_through else _run(target, hooks_dir, script, annotated=False)
    recorder.check(claim, passed_firewall(tried, control, answer), evidence={
        "command": tried.command, "exit": tried.exit, "output": tried.output,
        **({"control_without_annotation": f"exit {control.exit}: {control.output}"}
           if control else {})})
