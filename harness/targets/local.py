"""The local target: the invoking user's own rootless podman (a workstation).

When podnet runs as root, a named unprivileged user is the rootless user instead.
Commands as root use ``sudo -n`` when podnet itself is not root.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Sequence

from harness.errors import PodnetError, UsageError
from harness.run import Completed, run
from harness.targets.base import Target


class LocalTarget(Target):
    def __init__(self, user: str | None = None, main_address: str | None = None) -> None:
        self.is_root = os.geteuid() == 0
        if self.is_root and not user:
            raise UsageError(
                "the local target needs an unprivileged user when run as root: "
                "pass --local-user NAME (or PODNET_LOCAL_USER)"
            )
        try:
            entry = pwd.getpwnam(user) if user else pwd.getpwuid(os.geteuid())
        except KeyError:
            raise UsageError(f"no such user '{user}': create it or choose another") from None
        if entry.pw_uid == 0:
            raise UsageError("the local target must be a rootless user, not root")
        self.user = entry.pw_name
        self.uid = entry.pw_uid
        self.home = entry.pw_dir
        self.name = f"local:{self.user}"
        self.main_address = main_address or _main_address()

    @property
    def can_root(self) -> bool:
        return self.is_root or run(["sudo", "-n", "true"], check=False).ok

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
        env = [f"{k}={v}" for k, v in self.user_env().items()]
        if root:
            full = list(argv) if self.is_root else ["sudo", "-n", *argv]
        elif self.is_root:
            full = ["runuser", "-u", self.user, "--", "env", "-i", *env, *argv]
        else:
            full = ["env", "-u", "NOTIFY_SOCKET", *argv]
        return run(full, check=check, input=input, timeout=timeout, stdin_path=stdin_path)


def _main_address() -> str:
    out = run(["ip", "-4", "route", "get", "192.0.2.1"], check=False).stdout.split()
    if "src" in out:
        return out[out.index("src") + 1]
    raise PodnetError("cannot tell this machine's main address: pass --target-address")
