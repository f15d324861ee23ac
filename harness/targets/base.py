"""A target: where rootless podman and its systemd user manager live."""

from __future__ import annotations

import json
import shlex
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from harness.run import Completed

#: The environment every rootless command gets: no inherited NOTIFY_SOCKET (podman
#: fails with "dial unixgram ... permission denied" when one leaks in).
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: Where quadlet files and user units live, relative to the user's home.
QUADLET_DIR = ".config/containers/systemd"
USER_UNIT_DIR = ".config/systemd/user"
SYSTEM_UNIT_DIR = "/etc/systemd/system"


class Target(ABC):
    """Where scenarios run containers. Subclasses provide :meth:`run`."""

    #: Short name for headers and results, e.g. ``lab:trixie`` or ``local:alice``.
    name: str
    user: str
    uid: int
    home: str
    #: Address of host1's main interface as clients see it.
    main_address: str

    @abstractmethod
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
        """Run a command on the target, as the rootless user unless ``root``."""

    @property
    def can_root(self) -> bool:
        """Whether :meth:`run` with ``root=True`` is possible."""
        return True

    @property
    def runtime_dir(self) -> str:
        return f"/run/user/{self.uid}"

    def user_env(self) -> dict[str, str]:
        return {
            "PATH": BASE_PATH,
            "HOME": self.home,
            "USER": self.user,
            "LOGNAME": self.user,
            "LANG": "C.UTF-8",
            "XDG_RUNTIME_DIR": self.runtime_dir,
            "DBUS_SESSION_BUS_ADDRESS": f"unix:path={self.runtime_dir}/bus",
        }

    def sh(self, script: str, *, root: bool = False, check: bool = True,
           timeout: float | None = 120) -> Completed:
        return self.run(["sh", "-c", script], root=root, check=check, timeout=timeout)

    def podman(self, *args: str, check: bool = True, timeout: float | None = 120,
               input: str | None = None) -> Completed:
        return self.run(["podman", *args], check=check, timeout=timeout, input=input)

    def podman_json(self, *args: str) -> Any:
        return json.loads(self.podman(*args).stdout)

    def systemctl_user(self, *args: str, check: bool = True,
                       timeout: float | None = 120) -> Completed:
        return self.run(["systemctl", "--user", *args], check=check, timeout=timeout)

    def systemctl(self, *args: str, check: bool = True,
                  timeout: float | None = 120) -> Completed:
        return self.run(["systemctl", *args], root=True, check=check, timeout=timeout)

    def write_file(self, path: str, content: str, *, root: bool = False,
                   mode: str = "0644") -> None:
        quoted = shlex.quote(path)
        self.run(
            ["sh", "-c", f"mkdir -p \"$(dirname {quoted})\" && cat > {quoted} && chmod {mode} {quoted}"],
            root=root, input=content,
        )

    def read_file(self, path: str, *, root: bool = False) -> str:
        return self.run(["cat", path], root=root).stdout

    def remove_files(self, *paths: str, root: bool = False) -> None:
        if paths:
            self.run(["rm", "-rf", "--", *paths], root=root)

    def sysctl(self, key: str) -> str:
        return self.read_file("/proc/sys/" + key.replace(".", "/")).strip()

    def set_sysctl(self, key: str, value: str) -> None:
        # not write_file: /proc/sys files cannot be chmod'ed
        path = shlex.quote("/proc/sys/" + key.replace(".", "/"))
        self.run(["sh", "-c", f"cat > {path}"], root=True, input=value + "\n")

    def describe(self) -> str:
        return self.name

    def clean_stale(self, prefix: str = "podnet-") -> None:
        """Remove what an interrupted run left: containers, networks, units and quadlet
        files whose names start with ``prefix``. Touches nothing else."""
        self.podman("rm", "--force", "--time", "0", "--filter", f"name=^{prefix}", check=False)
        nets = self.podman("network", "ls", "--format", "{{.Name}}", check=False).stdout.split()
        stale = [n for n in nets if n.startswith(prefix)]
        if stale:
            self.podman("network", "rm", "--force", *stale, check=False)
        user_units = (f"{self.home}/{QUADLET_DIR}/{prefix}*",
                      f"{self.home}/{USER_UNIT_DIR}/{prefix}*")
        self.sh(f"systemctl --user stop '{prefix}*' 2>/dev/null; rm -rf {' '.join(user_units)}; "
                "systemctl --user daemon-reload; systemctl --user reset-failed", check=False)
        if self.can_root:
            self.sh(f"systemctl stop '{prefix}*' 2>/dev/null; rm -f {SYSTEM_UNIT_DIR}/{prefix}*; "
                    "systemctl daemon-reload; systemctl reset-failed", root=True, check=False)
