"""ssh as podnet runs it, for the ssh target and the ssh clients alike.

Every command is one ssh invocation through :func:`harness.run.run`: ``BatchMode`` (never
a prompt), strict host key checking (against a known_hosts file of podnet's when given),
one connection shared through a control socket in a private directory on this machine
(``ControlMaster``/``ControlPersist``), closed and removed by
:meth:`SshTransport.close`. ssh's own failures (exit 255) raise one-line typed errors
naming the cause; a remote command's own exit status passes through.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from harness.errors import (
    SshAuthFailed,
    SshFailed,
    SshHostKey,
    SshRefused,
    SshUnreachable,
    UsageError,
)
from harness.fsguard import remove_tree
from harness.run import Completed, run, spawn

#: Seconds an idle shared connection outlives its last command (also after a crash).
PERSIST_SECONDS = 60
CONNECT_TIMEOUT = 10
#: ssh exits 255 when it failed itself; a remote command's own status passes through.
SSH_FAILED = 255
#: (ssh's stderr line, error, cause, what to do): the first line that matches decides.
FAILURES: tuple[tuple[re.Pattern[str], type[SshFailed], str, str], ...] = (
    (re.compile(r"^ssh: connect to host .*: Connection refused"), SshRefused,
     "connection refused", "is sshd running there and listening on that port?"),
    (re.compile(r"^\S+: Permission denied \("), SshAuthFailed,
     "authentication refused",
     "give a key that user accepts with --ssh-identity (or in ssh-agent); podnet never "
     "asks for a password"),
    (re.compile(r"REMOTE HOST IDENTIFICATION HAS CHANGED"), SshHostKey,
     "host key changed",
     "the host's key is not the one in known_hosts: find out why before you trust it"),
    (re.compile(r"^Host key verification failed|^No \S+ host key is known for"), SshHostKey,
     "host key unknown",
     "the host is not in known_hosts: check its fingerprint, then add it to known_hosts "
     "or pass --ssh-known-hosts FILE"),
    (re.compile(r"^ssh: connect to host .*: (No route to host|Network is unreachable"
                r"|Connection timed out)"), SshUnreachable,
     "host unreachable", "check the address and that the machine is up"),
    (re.compile(r"^ssh: Could not resolve hostname"), SshUnreachable,
     "unknown host name", "give an address or a name this machine resolves"),
    (re.compile(r"^Cannot open network namespace"), SshUnreachable,
     "the network namespace ssh runs in is gone", "is the lab still up?"),
)


_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
#: An interface name as an IPv6 zone (Linux allows at most 15 bytes).
_ZONE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}")


@dataclass(frozen=True)
class SshUrl:
    #: The login ("": ssh's default, the ssh configuration's or this user's name).
    user: str
    host: str
    port: int | None

    @property
    def destination(self) -> str:
        return f"{self.user}@{self.host}" if self.user else self.host

    @classmethod
    def parse(cls, url: str, what: str = "client") -> SshUrl:
        """``ssh://[user@]host[:port]``. A host or user that ssh would read as an option
        (``-oProxyCommand=...``) or as a shell word is refused. ``what`` names the URL in
        messages (``client``, ``target``)."""
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
        return cls(user or "", ssh_host, port)

    def describe(self) -> str:
        return self.destination + (f":{self.port}" if self.port else "")


def _address(text: str) -> str | None:
    """An IP address as ssh takes it, or None. An IPv6 zone (``%25eth0``, RFC 6874, or
    ``%eth0``) must be an interface name: ssh hands the host to ProxyCommand and
    ``Match exec`` through a shell (``%h``), so no other character may pass."""
    address, percent, zone = text.partition("%")
    zone = unquote(percent + zone)[1:]
    if percent and not _ZONE.fullmatch(zone):
        return None
    ssh_host = address + (f"%{zone}" if percent else "")
    try:
        ipaddress.ip_address(ssh_host)  # an IPv4 address takes no zone
    except ValueError:
        return None
    return ssh_host


def ssh_failure(destination: str, done: Completed) -> SshFailed | None:
    """The typed error for ssh's own failure, None for a remote command's exit."""
    if done.returncode != SSH_FAILED:
        return None
    lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
    for line in lines:
        for pattern, error, cause, hint in FAILURES:
            if pattern.search(line):
                return error(destination, cause, hint)
    for line in lines:
        if line.startswith(("ssh: ", "kex_exchange_identification:", "Connection closed by",
                            "Control socket", "ControlPath")):
            return SshFailed(destination, line, "run the same ssh command by hand to see why")
    return None


@dataclass(frozen=True)
class SshTransport:
    """Commands on ``url``'s machine, over one shared ssh connection, and how podnet's ssh
    reaches it (all on this machine). Close it (:meth:`close`) when done."""

    url: SshUrl
    #: A private directory for the shared connection's control socket (default: a new one).
    control_dir: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="podnet-ssh-"))
    #: podnet's own known_hosts file (None: ssh's, ~/.ssh/known_hosts).
    known_hosts: str | None = None
    #: The private key to offer (None: ssh's defaults and ssh-agent).
    identity: str | None = None
    #: A network namespace ssh runs in (the lab proof: host2's), None: this machine's.
    netns: str | None = None

    def ssh_options(self) -> list[str]:
        """ssh's argv up to (not including) the destination."""
        # With a known_hosts file or key of podnet's, ssh reads no ssh_config (-F none): a
        # KnownHostsCommand, IdentityFile or CertificateFile there would add to them.
        own = self.known_hosts or self.identity
        argv = [*(("ip", "netns", "exec", self.netns) if self.netns else ()), "ssh",
                *(("-F", "none") if own else ()),
                "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
                "-o", f"ConnectTimeout={CONNECT_TIMEOUT}",
                "-o", "ControlMaster=auto", "-o", f"ControlPath={self.control_dir}/%C",
                "-o", f"ControlPersist={PERSIST_SECONDS}"]
        if self.known_hosts:
            argv += ["-o", f"UserKnownHostsFile={self.known_hosts}",
                     "-o", "GlobalKnownHostsFile=/dev/null", "-o", "VerifyHostKeyDNS=no",
                     "-o", "UpdateHostKeys=no"]
        if self.identity:
            argv += ["-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
                     "-o", "PKCS11Provider=none", "-i", self.identity]
        if self.url.port:
            argv += ["-p", str(self.url.port)]
        return argv

    def ssh_argv(self, remote: Sequence[str]) -> list[str]:
        """argv that runs ``remote`` (an argv, quoted for the remote shell) on the target."""
        return [*self.ssh_options(), "--", self.url.destination, shlex.join(remote)]

    def control_argv(self, operation: str) -> list[str]:
        """argv that sends ``operation`` (``check``, ``exit``) to the shared connection."""
        return [*self.ssh_options(), "-O", operation, "--", self.url.destination]

    def run(self, remote: Sequence[str], *, check: bool, input: str | None = None,
            timeout: float | None = 120, stdin_path: str | None = None,
            cwd: str | None = None) -> Completed:
        """Run ``remote`` (an argv) there; ssh's own failures raise :class:`SshFailed`.
        ``cwd``: the working directory of ssh here."""
        return run(self.ssh_argv(remote), check=check,
                   input=input if input is not None or stdin_path else "",
                   timeout=timeout, stdin_path=stdin_path, cwd=cwd,
                   failure=lambda done: ssh_failure(self.url.describe(), done))

    def spawn(self, remote: Sequence[str], cwd: str | None = None) -> subprocess.Popen[bytes]:
        """Start ``remote`` there, with pipes to and from this process."""
        return spawn(self.ssh_argv(remote), stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd)

    def close(self) -> None:
        """End the shared connection and remove its directory (safe to call twice)."""
        directory = Path(self.control_dir)
        if not directory.exists():
            return
        if any(directory.iterdir()):
            run(self.control_argv("exit"), check=False, input="", timeout=30)
        remove_tree(directory, Path(tempfile.gettempdir()))
