"""A remote target: rootless podman and the systemd user manager of one user on another
machine, reached with ssh (``--target ssh://user@host[:port]``).

The same rules as a workstation (``--target local``): not isolated (checks that change
routes, sysctls or privileged ports are refused), everything created carries the
session's marks and only what carries them is removed, podnet's test image is used
when there or built from ``--base-tar`` (mmdebstrap makes a missing base only for
``--target local``: without either, the session stops before any check, saying so). Commands
as root use ``sudo -n`` there. Every command goes through one
:class:`harness.ssh.SshTransport` (strict host keys, one shared connection, typed
failures), closed by :meth:`SshTarget.close`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from harness.errors import PodnetError, UsageError
from harness.ssh import SshTransport, SshUrl
from harness.targets.base import BASE_PATH, Target


def parse_target_url(text: str) -> SshUrl:
    """``ssh://user@host[:port]``; the user is required and must not be root."""
    url = SshUrl.parse(text, "target")
    if not url.user:
        raise UsageError(f"invalid target {text!r}: name the rootless user, e.g. "
                         "ssh://alice@host")
    if url.user == "root":
        raise UsageError(f"invalid target {text!r}: the target must be a rootless user, "
                         "not root")
    return url


def remote_argv(argv: Sequence[str], env: dict[str, str], *, root: bool) -> list[str]:
    """What runs on the target: ``argv`` in exactly ``env``, as root through sudo."""
    return [*(("sudo", "-n") if root else ()), "env", "-i",
            *(f"{k}={v}" for k, v in env.items()), *argv]


class SshTarget(Target):
    """The rootless user of ``url``'s machine. Close it (:meth:`close`) when done."""

    def __init__(self, url: SshUrl, *, known_hosts: str | None = None,
                 identity: str | None = None, netns: str | None = None,
                 main_address: str | None = None) -> None:
        self.ssh = self.transport = SshTransport(url, known_hosts=known_hosts, identity=identity,
                                                 netns=netns)
        self.name = f"ssh:{url.describe()}"
        try:
            self.user, uid, self.home, connection = self._facts()
            self.uid = int(uid)
            if self.uid == 0:
                raise UsageError(f"{self.name} logs in as root: the target must be a rootless user")
        except BaseException:
            self.close()
            raise
        self.main_address = main_address or connection

    def _facts(self) -> tuple[str, str, str, str]:
        """The login's user name, uid, home and the address ssh reached it on."""
        script = 'id -un; id -u; printf "%s\\n" "$HOME"; printf "%s\\n" "$SSH_CONNECTION"'
        lines = self.ssh.run(["sh", "-c", script], check=True).stdout.splitlines()
        if len(lines) < 4 or not lines[1].isdigit() or len(lines[3].split()) < 3:
            raise PodnetError(f"{self.name}: unexpected answer to who am I: {lines!r}")
        return lines[0], lines[1], lines[2], lines[3].split()[2]

    @functools.cached_property
    def can_root(self) -> bool:
        return self.ssh.run(["sudo", "-n", "true"], check=False).ok

    def command(self, argv: Sequence[str], *, root: bool) -> tuple[list[str], str | None]:
        env = {"PATH": BASE_PATH, "LANG": "C.UTF-8", "HOME": "/root"} if root else self.user_env()
        return remote_argv(argv, env, root=root), None

    def close(self) -> None:
        """End the shared connection and remove its directory (safe to call twice)."""
        self.ssh.close()

