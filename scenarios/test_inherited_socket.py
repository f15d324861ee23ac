"""The guide's "Podman can inherit a connected socket": a socket connected before podman
starts, passed to the container with ``--preserve-fds=1`` (the Bash example), with
``LISTEN_FDS=1``, or through systemd's file descriptor store (the quadlet example with
``Network=none`` and ``RestrictAddressFamilies=AF_UNIX AF_NETLINK``).

The server is an HTTP server on host2 ("the internet"); the container sends the guide's
HTTP request on fd 3 and prints the reply, whose body is the server's token. The lab's
substitutions: podnet's image (Debian) instead of alpine, so the container's commands
run in bash (dash's echo has no -e/-n), and bash instead of sh for ``/dev/tcp`` in
``ExecStartPre=`` (Debian's sh, dash, has no /dev/tcp).
"""

from __future__ import annotations

import secrets
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from harness.claims import Claim, load_default
from harness.clients.base import Client
from harness.outbound_params import params
from harness.probes import hostserver
from harness.quadlet import container_unit
from harness.results.recorder import NoObservation, Recorder, against_control
from harness.services import IMAGE, PREFIX, STOP_SIGNAL
from harness.targets.base import Target
from harness.wait import GiveUp, NotReady, poll

pytestmark = [pytest.mark.lab, pytest.mark.outbound]

REGISTRY = load_default()
INTERNET_PORT = 18096
#: bash's words when fd 3 is not open in the container.
CLOSED = "3: Bad file descriptor"
#: The Bash script's exit status when bash could not connect the socket.
NOT_CONNECTED = 97
OUTPUT_TIMEOUT = 60.0


@pytest.fixture(scope="module")
def internet_server(client: Client) -> Iterator[hostserver.HostServer]:
    with hostserver.http_server(client.run, client.address, INTERNET_PORT,
                                python=client.python) as server:
        yield server


def request_script(server: hostserver.HostServer) -> str:
    """The guide's container command: an HTTP request written to fd 3, the reply read
    from it."""
    return (f'echo -en "GET {server.path} HTTP/1.1\\r\\n" >&3 ; '
            f'echo -en "Host: {server.address}\\r\\n" >&3 ; '
            'echo -en "Content-Length: 0\\r\\n" >&3 ; '
            'echo -en "Connection: close\\r\\n\\r\\n" >&3 ; cat <&3')


@dataclass(frozen=True)
class Inherited:
    exit: int
    stdout: str
    stderr: str
    command: str

    def evidence(self, prefix: str = "") -> dict[str, Any]:
        return {f"{prefix}command": self.command, f"{prefix}exit": self.exit,
                f"{prefix}stdout_tail": self.stdout.strip()[-200:],
                f"{prefix}stderr_tail": self.stderr.strip()[-300:]}


def bash_form(target: Target, server: hostserver.HostServer, network: str,
              podman_options: list[str], env: list[str]) -> Inherited:
    """The guide's test.bash: bash connects fd 3 to the server, then runs podman run
    (``env`` before it, ``podman_options`` after --network)."""
    podman = target.marked([*(["env", *env] if env else []), "podman", "run", "--rm",
                            f"--network={network}", *podman_options, IMAGE,
                            "bash", "-c", request_script(server)])
    script = (f"exec 3<>/dev/tcp/{server.address}/{server.port} || exit {NOT_CONNECTED}; "
              'exec "$@" <&3')
    argv = ["bash", "-c", script, "bash", *podman]
    done = target.run(argv, check=False, timeout=120)
    return Inherited(done.returncode, done.stdout, done.stderr, shlex.join(argv))


def socket_kept(result: Inherited, token: str) -> bool:
    """Whether the container used the inherited socket: the server's reply came through
    fd 3. Not kept only with bash's own "Bad file descriptor" for fd 3."""
    if result.exit == NOT_CONNECTED:
        raise NoObservation(f"bash could not connect the socket: {result.stderr.strip()[-200:]}")
    if token in result.stdout.split():
        return True
    if CLOSED in result.stderr:
        return False
    raise NoObservation(f"no reply and no closed fd 3: exit {result.exit}: "
                        f"{(result.stderr or result.stdout).strip()[-300:]}")


@pytest.mark.parametrize("claim", params(REGISTRY.select("inherited_socket_kept")))
def test_bash_form(claim: Claim, target: Target, recorder: Recorder, applicable: Any,
                   internet_server: hostserver.HostServer) -> None:
    """A socket closed by podman counts only next to the control: the same command with
    --preserve-fds=1 gets the reply."""
    applicable(claim)
    network = claim.extra["network"]
    result = bash_form(target, internet_server, network, claim.extra.get("podman_options", []),
                       claim.extra.get("env", []))
    evidence = result.evidence()
    kept = socket_kept(result, internet_server.token)
    if not kept:
        control = bash_form(target, internet_server, network, ["--preserve-fds=1"], [])
        evidence.update(control.evidence("control --preserve-fds=1 "))
        if not socket_kept(control, internet_server.token):
            raise NoObservation("the control (--preserve-fds=1) did not get the reply either")
    recorder.check(claim, kept, evidence=evidence)


# --- the quadlet form: the file descriptor store ------------------------------------

def quadlet_text(name: str, server: hostserver.HostServer, restrict: bool) -> str:
    """The guide's mytest.container (with the lab's substitutions)."""
    restriction = ["RestrictAddressFamilies=AF_UNIX AF_NETLINK"] if restrict else []
    connect = (f'ExecStartPre=+bash -c "exec 3<>/dev/tcp/{server.address}/{server.port} ; '
               'systemd-notify --fd=3 --fdname=foobar"')
    # The guide traps SIGTERM (fedora's stop signal); podnet's image stops with another.
    command = (request_script(server)
               + f' ; trap "exit 0" SIGTERM {STOP_SIGNAL}; sleep inf & wait $!')
    return "\n".join([
        "[Service]", *restriction, connect, "FileDescriptorStoreMax=1",
        "SystemCallArchitectures=native", "", "[Container]", f"ContainerName={name}",
        "Network=none", "Pull=never", f"Image={IMAGE}", f"Exec=/bin/bash -c '{command}'", ""])


@dataclass(frozen=True)
class UnitRun:
    replied: bool
    evidence: dict[str, Any]


def quadlet_form(target: Target, server: hostserver.HostServer, restrict: bool) -> UnitRun:
    unit = f"{PREFIX}mytest-{secrets.token_hex(3)}"
    text = quadlet_text(unit, server, restrict)
    with container_unit(target, unit, text) as service:
        def output() -> str | None:
            logs = target.podman("logs", unit, check=False).stdout
            if server.token in logs.split():
                return logs
            state = target.systemctl_user("is-active", service, check=False).stdout.strip()
            if state == "failed":
                raise GiveUp(f"{service} failed")
            return None

        try:
            poll(output, what=f"{service}'s reply", timeout=OUTPUT_TIMEOUT, interval=0.3)
            replied = True
        except (GiveUp, NotReady):
            replied = False
        journal = target.run(["journalctl", "--user", "-u", service, "--no-pager", "-n", "40"],
                             check=False).stdout
    errors = [ln for ln in journal.splitlines() if "rror" in ln or "ailed" in ln]
    return UnitRun(replied, {"unit": text, "journal_errors": " | ".join(errors[-4:])})


def quadlet_replied(guide: UnitRun, control: UnitRun | None) -> bool:
    """The guide's unit got the reply; if not, the control (the same unit without
    RestrictAddressFamilies=) must have, or nothing is observed."""
    return against_control(guide.replied, control is not None and control.replied,
                           "the unit without RestrictAddressFamilies=")


@pytest.mark.parametrize("claim", params(REGISTRY.select("fd_store_socket_kept")))
def test_quadlet_form(claim: Claim, target: Target, recorder: Recorder, applicable: Any,
                     internet_server: hostserver.HostServer) -> None:
    applicable(claim)
    guide = quadlet_form(target, internet_server, restrict=True)
    control = None if guide.replied else quadlet_form(target, internet_server, restrict=False)
    evidence = dict(guide.evidence)
    if control is not None:
        evidence["control without RestrictAddressFamilies="] = (
            "replied" if control.replied else control.evidence["journal_errors"])
    recorder.check(claim, quadlet_replied(guide, control), evidence=evidence)
