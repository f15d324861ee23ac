"""Outbound probes from inside a container: fetch URLs, read /etc/hosts, find pasta.

:func:`container_fetch` runs one short-lived container that tries each URL with curl
and reports, per URL, curl's exit status and the body (``udp://HOST:PORT``: one datagram
sent with socat, the reply as body). URLs may use ``{gateway}``,
replaced inside the container by the address of its IPv4 default route (the guide's
way of finding the address pasta's ``--map-gw`` maps, ``10.0.2.2`` in its examples).
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import takewhile

from harness.services import IMAGE
from harness.targets.base import Target

_GATEWAY = "gw=$(ip -4 route show default | awk '/^default/ {print $3; exit}'); echo \"gateway $gw\""


@dataclass(frozen=True)
class Attempt:
    url: str
    curl_exit: int
    body: str

    @property
    def tool(self) -> str:
        return "socat" if self.url.startswith("udp://") else "curl"

    def answered(self, token: str) -> bool:
        return self.curl_exit == 0 and self.body.strip() == token


@dataclass(frozen=True)
class FetchResult:
    gateway: str | None
    attempts: tuple[Attempt, ...]
    etc_hosts: str
    command: str

    def reached(self, token: str, among: Sequence[str] | None = None) -> bool:
        """Whether any attempt (of the URLs ``among``, when given) answered ``token``."""
        return any(a.answered(token) for a in self.attempts
                   if among is None or a.url in among)

    def evidence(self) -> dict[str, str]:
        return {
            "command": self.command,
            "gateway": self.gateway or "",
            "attempts": "; ".join(f"{a.url} -> {a.tool} exit {a.curl_exit}"
                                  + (f", body {a.body.strip()[:40]!r}" if a.body.strip() else "")
                                  for a in self.attempts),
        }


def fetch_script(urls: Sequence[str], timeout: float) -> str:
    lines = [_GATEWAY]
    for url in urls:
        shell_url = url.replace("{gateway}", "${gw}")
        if url.startswith("udp://"):
            # one datagram; the reply (if any) within the timeout (-t: socat's wait after
            # stdin ends, 0.5 s by default); socat exits non-zero on an ICMP refusal
            hostport = shell_url.removeprefix("udp://")
            fetch = f'echo podnet | socat -t{timeout:g} -T{timeout:g} - "UDP4:{hostport}"'
        else:
            fetch = f'curl -s -4 -m {timeout:g} "{shell_url}"'
        lines.append(
            f'body=$({fetch}); rc=$?; '
            f'echo "result {url} $rc $(printf %s "$body" | head -c 200 | tr -d "\\n")"'
        )
    lines.append('echo "hosts-begin"; cat /etc/hosts; echo "hosts-end"')
    return "\n".join(lines)


def parse_fetch_output(stdout: str, command: str = "") -> FetchResult:
    """Parse what :func:`fetch_script` printed."""
    gateway = None
    attempts = []
    hosts: list[str] = []
    lines = iter(stdout.splitlines())
    for line in lines:
        if line == "hosts-begin":  # /etc/hosts, up to the line hosts-end
            hosts += takewhile(lambda inner: inner != "hosts-end", lines)
        elif line.startswith("gateway "):
            gateway = line.split(" ", 1)[1].strip() or None
        elif line.startswith("result "):
            _, url, status, *body = line.split(" ", 3)
            attempts.append(Attempt(url, int(status), "".join(body)))
    return FetchResult(gateway, tuple(attempts), "\n".join(hosts) + ("\n" if hosts else ""), command)


def container_fetch(target: Target, network: str, urls: Sequence[str], *,
                    run_args: Sequence[str] = (), env: Sequence[str] = (),
                    timeout: float = 2.0) -> FetchResult:
    """One container on ``network`` tries each URL; nothing is left behind (--rm)."""
    argv = target.marked([*(["env", *env] if env else []), "podman", "run", "--rm",
                          f"--network={network}", *run_args, IMAGE, "sh", "-c",
                          fetch_script(urls, timeout)])
    done = target.run(argv, timeout=60 + timeout * len(urls))
    shown = shlex.join([*argv[:-1], "..."])
    return parse_fetch_output(done.stdout, shown)


def hosts_entries(text: str) -> dict[str, str]:
    """name -> address from /etc/hosts text (the first line naming it wins)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        for name in words[1:]:
            found.setdefault(name, words[0])
    return found


def share_one_address(addresses: dict[str, str | None]) -> bool:
    """Whether every name has an entry and all entries are one address."""
    values = set(addresses.values())
    return bool(addresses) and None not in values and len(values) == 1
