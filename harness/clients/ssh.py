"""A client on another machine, reached with ssh (``--client ssh://user@host2``), over
the same transport as the ssh target (harness.ssh): strict host keys, one shared
connection, typed failures. Close it (:meth:`SshClient.close`) when done."""

from __future__ import annotations

from harness.clients.base import Client
from harness.errors import UsageError
from harness.ssh import SshTransport, SshUrl


class SshClient(Client):
    def __init__(self, url: str, address: str | None = None) -> None:
        self.ssh = self.transport = SshTransport(SshUrl.parse(url))
        self.destination = self.ssh.url.destination
        self.name = f"ssh:{self.destination}"
        try:
            self.address = address or self._discover_address()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self.ssh.close()

    def _discover_address(self) -> str:
        out = self.run(["sh", "-c", "echo $SSH_CONNECTION"]).stdout.split()
        if len(out) < 3:
            raise UsageError(f"cannot tell {self.destination}'s address: pass it with --client-address")
        return out[2]
