"""A remote target: rootless podman and the systemd user manager of one user on another
machine, reached with ssh (``--target ssh://user@host[:port]``).

The same rules as a workstation (``--target local``): not isolated (checks that change
routes, sysctls or privileged ports are refused), everything created carries the
session's marks and only what carries them is removed, podnet's test image is used
when there or built from ``--base-tar`` (else by mmdebstrap on that machine). Commands
as root use ``sudo -n`` there.

Every command is one ssh invocation through :func:`harness.run.run`: ``BatchMode`` (never
a prompt), strict host key checking (against ``--ssh-known-hosts`` when given), one
connection shared through a control socket in a private directory on this machine
(``ControlMaster``/``ControlPersist``), closed and removed by :meth:`SshTarget.close`.
ssh's own failures (exit 255) raise one-line typed errors naming the cause.
"""

from __future__ import annotations

import contextlib
import re
import shlex
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.clients.ssh import parse_url
from harness.errors import (
    PodnetError,
    SshAuthFailed,
    SshFailed,
    SshHostKey,
    SshRefused,
    SshUnreachable,
    UsageError,
)
from harness.fsguard import remove_tree
from harness.run import Completed, run, spawn
from harness.targets.base import BASE_PATH, Target

SCHEME = "ssh://"
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


@dataclass(frozen=True)
class SshUrl:
    user: str
    host: str
    port: int | None

    @property
    def destination(self) -> str:
        return f"{self.user}@{self.host}"

    def describe(self) -> str:
        return self.destination + (f":{self.port}" if self.port else "")


def is_ssh_target(text: str) -> bool:
    return text.startswith(SCHEME)


def parse_target_url(text: str) -> SshUrl:
    """``ssh://user@host[:port]``; the user is required and must not be root."""
    destination, port = parse_url(text, "target")
    user, at, host = destination.rpartition("@")
    if not at:
        raise UsageError(f"invalid target {text!r}: name the rootless user, e.g. "
                         "ssh://alice@host")
    if user == "root":
        raise UsageError(f"invalid target {text!r}: the target must be a rootless user, "
                         "not root")
    return SshUrl(user, host, port)


@dataclass(frozen=True)
class SshOptions:
    """How podnet's ssh reaches the target (all on this machine)."""

    #: A private directory for the shared connection's control socket.
    control_dir: str
    #: podnet's own known_hosts file (None: ssh's, ~/.ssh/known_hosts).
    known_hosts: str | None = None
    #: The private key to offer (None: ssh's defaults and ssh-agent).
    identity: str | None = None
    #: A network namespace ssh runs in (the lab proof: host2's), None: this machine's.
    netns: str | None = None
    persist_seconds: int = PERSIST_SECONDS
    connect_timeout: int = CONNECT_TIMEOUT


def ssh_options(url: SshUrl, options: SshOptions) -> list[str]:
    """ssh's argv up to (not including) the destination."""
    # With a known_hosts file or key of podnet's, ssh reads no ssh_config (-F none): a
    # KnownHostsCommand, IdentityFile or CertificateFile there would add to them.
    own = options.known_hosts or options.identity
    argv = [*(("ip", "netns", "exec", options.netns) if options.netns else ()), "ssh",
            *(("-F", "none") if own else ()),
            "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
            "-o", f"ConnectTimeout={options.connect_timeout}",
            "-o", "ControlMaster=auto", "-o", f"ControlPath={options.control_dir}/%C",
            "-o", f"ControlPersist={options.persist_seconds}"]
    if options.known_hosts:
        argv += ["-o", f"UserKnownHostsFile={options.known_hosts}",
                 "-o", "GlobalKnownHostsFile=/dev/null", "-o", "VerifyHostKeyDNS=no",
                 "-o", "UpdateHostKeys=no"]
    if options.identity:
        argv += ["-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
                 "-o", "PKCS11Provider=none", "-i", options.identity]
    if url.port:
        argv += ["-p", str(url.port)]
    return argv


def ssh_argv(url: SshUrl, options: SshOptions, remote: Sequence[str]) -> list[str]:
    """argv that runs ``remote`` (an argv, quoted for the remote shell) on the target."""
    return [*ssh_options(url, options), "--", url.destination, shlex.join(remote)]


def control_argv(url: SshUrl, options: SshOptions, operation: str) -> list[str]:
    """argv that sends ``operation`` (``check``, ``exit``) to the shared connection."""
    return [*ssh_options(url, options), "-O", operation, "--", url.destination]


def remote_argv(argv: Sequence[str], env: dict[str, str], *, root: bool) -> list[str]:
    """What runs on the target: ``argv`` in exactly ``env``, as root through sudo."""
    return [*(("sudo", "-n") if root else ()), "env", "-i",
            *(f"{k}={v}" for k, v in env.items()), *argv]


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


class SshTarget(Target):
    """The rootless user of ``url``'s machine. Close it (:meth:`close`) when done."""

    def __init__(self, url: SshUrl, *, known_hosts: str | None = None,
                 identity: str | None = None, netns: str | None = None,
                 main_address: str | None = None) -> None:
        self.url = url
        self._can_root: bool | None = None
        self.options = SshOptions(tempfile.mkdtemp(prefix="podnet-ssh-"), known_hosts,
                                  identity, netns)
        self.name = f"ssh:{url.describe()}"
        try:
            facts = self._facts()
        except BaseException:
            self.close()
            raise
        self.user, uid, self.home, connection = facts
        self.uid = int(uid)
        if self.uid == 0:
            self.close()
            raise UsageError(f"{self.name} logs in as root: the target must be a rootless user")
        self.main_address = main_address or connection

    def _facts(self) -> tuple[str, str, str, str]:
        """The login's user name, uid, home and the address ssh reached it on."""
        script = 'id -un; id -u; printf "%s\\n" "$HOME"; printf "%s\\n" "$SSH_CONNECTION"'
        lines = self._ssh(["sh", "-c", script], check=True).stdout.splitlines()
        if len(lines) < 4 or not lines[1].isdigit() or len(lines[3].split()) < 3:
            raise PodnetError(f"{self.name}: unexpected answer to who am I: {lines!r}")
        return lines[0], lines[1], lines[2], lines[3].split()[2]

    def _ssh(self, remote: Sequence[str], *, check: bool, input: str | None = None,
             timeout: float | None = 120, stdin_path: str | None = None) -> Completed:
        return run(ssh_argv(self.url, self.options, remote), check=check,
                   input=input if input is not None or stdin_path else "",
                   timeout=timeout, stdin_path=stdin_path,
                   failure=lambda done: ssh_failure(self.url.describe(), done))

    @property
    def can_root(self) -> bool:
        if self._can_root is None:
            self._can_root = self._ssh(["sudo", "-n", "true"], check=False).ok
        return self._can_root

    def run(
        self,
        argv: Sequence[str],
        *,
        root: bool = False,
        check: bool = True,
        input: str | None = None,
        timeout: float | None = 120,
        stdin_path: str | None = None,
    ) -> Completed:
        env = {"PATH": BASE_PATH, "LANG": "C.UTF-8", "HOME": "/root"} if root else self.user_env()
        return self._ssh(remote_argv(argv, env, root=root), check=check, input=input,
                         timeout=timeout, stdin_path=stdin_path)

    def hold_open(self, argv: Sequence[str]) -> subprocess.Popen[bytes]:
        remote = remote_argv(argv, self.user_env(), root=False)
        return spawn(ssh_argv(self.url, self.options, remote), stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def close(self) -> None:
        """End the shared connection and remove its directory (safe to call twice)."""
        directory = Path(self.options.control_dir)
        if not directory.exists():
            return
        if any(directory.iterdir()):
            run(control_argv(self.url, self.options, "exit"), check=False, input="", timeout=30)
        remove_tree(directory, Path(tempfile.gettempdir()))


@contextlib.contextmanager
def ssh_session(url: SshUrl, run_id: str, *, known_hosts: str | None = None,
                identity: str | None = None, netns: str | None = None,
                main_address: str | None = None, base_tar: str | None = None,
                keep_image: bool = False, note: Callable[[str], None]) -> Iterator[SshTarget]:
    """A test session on ``url``'s user, with the workstation's rules: one session per
    remote user at a time (a lock on that machine, sessions.py), podnet's test image there or built
    from ``base_tar``, stale sessions' marks removed first and this one's at the end,
    then the shared connection closed."""
    from harness.targets.local import user_session

    with contextlib.ExitStack() as stack:
        remote = SshTarget(url, known_hosts=known_hosts, identity=identity, netns=netns,
                           main_address=main_address)
        stack.callback(remote.close)
        stack.enter_context(user_session(remote, run_id, base_tar=base_tar,
                                         keep_image=keep_image, note=note, mmdebstrap=False))
        yield remote
