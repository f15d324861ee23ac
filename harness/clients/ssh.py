"""A client on another machine, reached with ssh (``--client ssh://user@host2``)."""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, urlparse

from harness.clients.base import AGENT, Client
from harness.errors import UsageError
from harness.run import Completed, run

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
#: An interface name as an IPv6 zone (Linux allows at most 15 bytes).
_ZONE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}")


def parse_url(url: str, what: str = "client") -> tuple[str, int | None]:
    """``ssh://user@host[:port]`` as (destination, port). A host or user that ssh would
    read as an option (``-oProxyCommand=...``) or as a shell word is refused. ``what``
    names the URL in messages (``client``, ``target``)."""
    hint = "expected ssh://user@host[:port], e.g. ssh://you@host2"
    try:
        parsed = urlparse(url)
        host, user = parsed.hostname or "", parsed.username
    except ValueError:  # e.g. a bracketed host that is not an address
        raise UsageError(f"invalid {what} {url!r}: {hint}") from None
    if parsed.scheme != "ssh" or not host or parsed.path not in ("", "/") or parsed.password:
        raise UsageError(f"invalid {what} {url!r}: {hint}")
    ssh_host = host if _NAME.fullmatch(host) else _address(host)
    if ssh_host is None or (user is not None and not _NAME.fullmatch(user)):
        raise UsageError(f"invalid {what} {url!r}: the user and host may hold only letters, "
                         f"digits, '.', '_' and '-' and start with a letter or digit (or the "
                         f"host is an IP address, IPv6 in brackets with an optional zone "
                         f"%25<interface>); {hint}")
    try:
        port = parsed.port
    except ValueError:
        port = -1
    if port is not None and not 1 <= port <= 65535:
        raise UsageError(f"invalid {what} {url!r}: the port must be a number from 1 to 65535")
    return (f"{user}@" if user else "") + ssh_host, port


def _address(text: str) -> str | None:
    """An IP address as ssh takes it, or None. An IPv6 zone (``%25eth0``, RFC 6874, or
    ``%eth0``) must be an interface name: ssh hands the host to ProxyCommand and
    ``Match exec`` through a shell (``%h``), so no other character may pass."""
    address, percent, zone = text.partition("%")
    if percent:
        zone = unquote(percent + zone)[1:]
        if not _ZONE.fullmatch(zone):
            return None
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return None
    if percent and parsed.version != 6:
        return None
    return address + (f"%{zone}" if percent else "")


class SshClient(Client):
    def __init__(self, url: str, address: str | None = None) -> None:
        self.destination, self.port = parse_url(url)
        self.name = f"ssh:{self.destination}"
        self.address = address or self._discover_address()

    def _ssh(self) -> list[str]:
        base = ["ssh", "-o", "BatchMode=yes"]
        return base + (["-p", str(self.port)] if self.port else []) + ["--", self.destination]

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
