"""What a method or check needs from the target, and why it is missing if it is."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from harness.podman.info import PodmanInfo
from harness.targets.base import NOT_ISOLATED, Target
from harness.versions import Version

PASTA_SINCE = Version((4, 4, 0), "4.4")


@dataclass
class Capabilities:
    target: Target
    info: PodmanInfo
    libsdsock: str | None = None
    has_host3: bool = False
    _systemd_user: bool | None = None

    def first_missing(self, needs: Iterable[str]) -> str | None:
        """The reason for the first of ``needs`` the target lacks; None if it has all."""
        return next((reason for need in needs if (reason := self.missing(need))), None)

    def missing(self, need: str) -> str | None:
        """None if the target has ``need``, else the reason it does not."""
        comp = self.info.components
        if need in ("pasta", "quadlet") and self.info.version < PASTA_SINCE:
            return f"{need} needs podman >= 4.4; the target has podman {self.info.version}"
        reasons = {
            "quadlet": (False, ""),
            "pasta": (comp.pasta is None, "pasta is not installed on the target"),
            "slirp4netns": (comp.slirp4netns is None,
                            f"slirp4netns is not available with podman {self.info.version}"),
            "systemd-user": (lambda: not self.systemd_user,
                             "the target has no running systemd user manager"),
            "root": (lambda: not self.target.can_root, "needs root on the target (sudo -n failed)"),
            "libsdsock": (not self.libsdsock, "libsdsock is experimental and cannot be fetched "
                          "here: pass --libsdsock PATH to a built libsdsock.so"),
            "isolated": (lambda: not self.target.isolated, NOT_ISOLATED),
            "host3": (not self.has_host3,
                      "needs a second client on another interface (host3 of the lab)"),
        }
        if need not in reasons:
            raise ValueError(f"unknown requirement {need!r}")
        lacking, reason = reasons[need]
        return reason if (lacking() if callable(lacking) else lacking) else None

    @property
    def systemd_user(self) -> bool:
        if self._systemd_user is None:
            state = self.target.systemctl_user("is-system-running", check=False).stdout.strip()
            self._systemd_user = state in ("running", "degraded")
        return self._systemd_user
