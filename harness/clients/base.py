"""A client: the remote peer that connects to the target (lab host2/host3, or ssh)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.run import HERE, Completed, Transport

AGENT = Path(__file__).with_name("agent.py")


@dataclass(frozen=True)
class HttpReply:
    status: int | None
    body: str
    seconds: float | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass(eq=False)
class Client:
    """Runs commands on the client's machine: each through :attr:`transport`, behind
    :attr:`prefix` (e.g. ``ip netns exec NS``)."""

    name: str
    #: The address this client's traffic comes from, as the target should see it.
    address: str
    #: The Python that runs podnet's servers on the client.
    python: str = "python3"
    #: How commands reach the client's machine, and what runs each of them there.
    transport: Transport = HERE
    prefix: tuple[str, ...] = ()

    def run(self, argv: Sequence[str], *, check: bool = True, timeout: float | None = 60,
            input: str | None = None) -> Completed:
        """Run a command on the client."""
        return self.transport.run([*self.prefix, *argv], check=check, timeout=timeout,
                                  input=input)

    def agent(self, *args: str, timeout: float = 30) -> dict[str, Any]:
        """Run one probe of :mod:`harness.clients.agent`, its source on the Python's stdin,
        and return its JSON."""
        return self._parse(self.run([self.python, "-", *args], check=False, timeout=timeout,
                                    input=AGENT.read_text()))

    def http_get(self, url: str, timeout: float = 5.0) -> HttpReply:
        out = self.agent("http", url, str(timeout), timeout=timeout + 10)
        return HttpReply(out.get("status"), str(out.get("body", "")), out.get("seconds"),
                         out.get("error"))

    def udp_exchange(self, host: str, port: int, timeout: float = 3.0) -> dict[str, Any]:
        return self.agent("udp", host, str(port), str(timeout), timeout=timeout + 10)

    def tcp_connect(self, host: str, port: int, timeout: float = 3.0) -> dict[str, Any]:
        return self.agent("tcp-connect", host, str(port), str(timeout), timeout=timeout + 10)

    @staticmethod
    def _parse(done: Completed) -> dict[str, Any]:
        lines = done.stdout.strip().splitlines()
        if not lines:
            return {"error": f"agent printed nothing (exit {done.returncode}): {done.stderr[-300:]}"}
        parsed: dict[str, Any] = json.loads(lines[-1])
        return parsed


def netns_client(name: str, netns: str, address: str) -> Client:
    """A client in the network namespace ``netns`` on this machine (the lab's host2 and
    host3): the namespace shares this machine's files, so the controller's own Python
    runs there."""
    return Client(name, address, prefix=("ip", "netns", "exec", netns), python=sys.executable)
