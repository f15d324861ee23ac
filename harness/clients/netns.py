"""A client in a network namespace on this machine (the lab's host2 and host3)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from harness.clients.base import AGENT, Client
from harness.run import Completed, run


class NetnsClient(Client):
    #: The namespace shares this machine's files: the controller's own Python.
    python = sys.executable

    def __init__(self, name: str, netns: str, address: str) -> None:
        self.name = name
        self.netns = netns
        self.address = address

    def run(self, argv: Sequence[str], *, check: bool = True, timeout: float | None = 60,
            input: str | None = None) -> Completed:
        return run(["ip", "netns", "exec", self.netns, *argv], check=check, timeout=timeout,
                   input=input)

    def agent(self, *args: str, timeout: float = 30) -> dict[str, Any]:
        done = self.run([sys.executable, str(AGENT), *args], check=False, timeout=timeout)
        return self._parse(done)
