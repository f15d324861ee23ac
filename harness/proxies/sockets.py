"""Who holds a listening socket: ``ss -ltnp`` in host1's network namespace."""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.results.recorder import NoObservation
from harness.targets.base import Target

_USER = re.compile(r'\("(?P<name>[^"]+)",pid=(?P<pid>\d+),fd=(?P<fd>\d+)\)')


@dataclass(frozen=True)
class Holder:
    name: str
    pid: int
    fd: int


def parse_ss(text: str) -> list[list[Holder]]:
    """One list of holders per listening socket of ``ss -Hltnp`` output."""
    return [[Holder(m["name"], int(m["pid"]), int(m["fd"])) for m in _USER.finditer(line)]
            for line in text.splitlines() if line.strip()]


def listeners(target: Target, port: int) -> tuple[str, list[list[Holder]]]:
    """``ss`` output and holders of the host's listening TCP sockets on ``port``."""
    done = target.run(["ss", "-Hltnp", f"sport = :{port}"], root=True)
    return done.stdout.strip(), parse_ss(done.stdout)


def own_listeners(target: Target, container: str, port: int) -> str:
    """Listening TCP sockets on ``port`` in the container's own network namespace."""
    done = target.podman("exec", container, "ss", "-Hltn", f"sport = :{port}", check=False)
    return done.stdout.strip() if done.ok else f"(ss failed: {done.stderr.strip()[:200]})"


def inherited_socket_ignored(control_served: bool, served: bool, active: bool,
                             own_listener: str, server: str) -> bool:
    """Whether ``server`` ignores the socket systemd passes: with a server that takes it,
    the same units serve (control); this one runs, listening on a socket of its own
    (``own_listener``: the container's ``ss`` output), and the inherited socket goes
    unserved. A server that never came up is no observation: a request unanswered then
    says nothing about the inherited socket."""
    if not control_served:
        raise NoObservation(f"the control failed: the units with a server that takes the "
                            f"inherited socket did not serve either (instead of {server})")
    if served:
        return False
    if not active or "LISTEN" not in own_listener:
        raise NoObservation(f"{server} never came up (active: {active}, own listener: "
                            f"{own_listener or 'none'}): a request unanswered says nothing "
                            "about the inherited socket")
    return True
