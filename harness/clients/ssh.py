"""A client on another machine, reached with ssh (``--client ssh://user@host2``), over
the same transport as the ssh target (harness.ssh): strict host keys, one shared
connection, typed failures. Close it (:meth:`SshClient.close`) when done."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.clients.base import AGENT, Client
from harness.errors import UsageError
from harness.run import Completed
from harness.ssh import SshTransport, SshUrl


class SshClient(Client):
    def __init__(self, url: str, address: str | None = None) -> None:
        self.ssh = SshTransport(SshUrl.parse(url))
        self.destination = self.ssh.url.destination
        self.name = f"ssh:{self.destination}"
        try:
            self.address = address or self._discover_address()
        except BaseException:
            self.close()
            raise

    def run(self, argv: Sequence[str], *, check: bool = True, timeout: float | None = 60,
            input: str | None = None) -> Completed:
        return self.ssh.run(argv, check=check, timeout=timeout, input=input)

    def agent(self, *args: str, timeout: float = 30) -> dict[str, Any]:
        done = self.run(["python3", "-", *args], check=False, timeout=timeout,
                        input=AGENT.read_text())
        return self._parse(done)

    def close(self) -> None:
        self.ssh.close()

    def _discover_address(self) -> str:
        out = self.run(["sh", "-c", "echo $SSH_CONNECTION"]).stdout.split()
        if len(out) < 3:
            raise UsageError(f"cannot tell {self.destination}'s address: pass it with --client-address")
        return out[2]
