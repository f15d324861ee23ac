"""A client on another machine, reached with ssh (``--client ssh://user@host2``)."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlparse

from harness.clients.base import AGENT, Client
from harness.errors import UsageError
from harness.run import Completed, run


class SshClient(Client):
    def __init__(self, url: str, address: str | None = None) -> None:
        parsed = urlparse(url)
        if parsed.scheme != "ssh" or not parsed.hostname:
            raise UsageError(f"invalid client '{url}': expected ssh://user@host[:port]")
        self.destination = (f"{parsed.username}@" if parsed.username else "") + parsed.hostname
        self.port = parsed.port
        self.name = f"ssh:{self.destination}"
        self.address = address or self._discover_address()

    def _ssh(self) -> list[str]:
        base = ["ssh", "-o", "BatchMode=yes"]
        return base + (["-p", str(self.port)] if self.port else []) + [self.destination]

    def run(self, argv: Sequence[str], *, check: bool = True, timeout: float | None = 60,
            input: str | None = None) -> Completed:
        return run([*self._ssh(), shlex.join(argv)], check=check, timeout=timeout, input=input)

    def agent(self, *args: str, timeout: float = 30) -> dict[str, Any]:
        done = self.run(["python3", "-", *args], check=False, timeout=timeout,
                        input=AGENT.read_text())
        return self._parse(done)

    def _discover_address(self) -> str:
        out = self.run(["sh", "-c", "echo $SSH_CONNECTION"]).stdout.split()
        if len(out) < 3:
            raise UsageError(f"cannot tell {self.destination}'s address: pass it with --client-address")
        return out[2]
