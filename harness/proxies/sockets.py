"""Who holds a listening socket: ``ss -ltnp`` in host1's network namespace."""

from __future__ import annotations

import re
from dataclasses import dataclass

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
