"""What a method or check needs from the target, and why it is missing if it is."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from harness import containers, network_settings
from harness.methods import Method
from harness.podman.info import PodmanInfo
from harness.targets.base import NOT_ISOLATED, Target
from harness.versions import Version

PASTA_SINCE = Version((4, 4, 0), "4.4")
#: podman's own message when it no longer offers a method, per requirement: podman 6
#: removed slirp4netns ("slirp4netns support has been removed, use --network=pasta
#: instead; ..."). Only this message makes a refusal ``unsupported``; any other error
#: leaves the requirement merely missing.
REMOVED = {"slirp4netns": re.compile(r"slirp4netns support has been removed[^\n]*")}
#: The network a removed requirement is tried with when the method names none.
REMOVED_NETWORK = {"slirp4netns": "slirp4netns"}


@dataclass(frozen=True)
class Refusal:
    """podman refusing a method it no longer offers: its message and the command tried."""

    message: str
    command: str


@dataclass(frozen=True)
class SettingsTrial:
    """What podman did with a method's containers.conf settings (harness.network_settings):
    its refusal (the method is unsupported), or why they could not be tried."""

    refusal: Refusal | None = None
    blocked: str | None = None


#: The port the settings trial publishes (its container exits at once).
TRIAL_PORT = 18080


def removal_message(requirement: str, returncode: int, stderr: str) -> str | None:
    """podman's message if it refused ``requirement`` as removed; None for a success or
    any other error."""
    pattern = REMOVED.get(requirement)
    found = pattern.search(stderr) if pattern and returncode != 0 else None
    return found.group(0).strip() if found else None


@dataclass
class Capabilities:
    target: Target
    info: PodmanInfo
    libsdsock: str | None = None
    has_host3: bool = False
    _tried: dict[str, Refusal | None] = field(default_factory=dict)
    _settings: dict[str, SettingsTrial] = field(default_factory=dict)

    def first_missing(self, needs: Iterable[str]) -> str | None:
        """The reason for the first of ``needs`` the target lacks; None if it has all."""
        return next((reason for need in needs if (reason := self.missing(need))), None)

    def missing(self, need: str) -> str | None:
        """None if the target has ``need``, else the reason it does not."""
        comp = self.info.components
        if need in ("pasta", "quadlet") and comp.podman < PASTA_SINCE:
            return f"{need} needs podman >= 4.4; the target has podman {comp.podman}"
        reasons = {
            "quadlet": (False, ""),
            "pasta": (comp.pasta is None, "pasta is not installed on the target"),
            "slirp4netns": (comp.slirp4netns is None,
                            f"slirp4netns is not available with podman {comp.podman}"),
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

    def refusal(self, needs: Iterable[str], method: Method | None = None) -> Refusal | None:
        """For a requirement the target lacks and podman may have removed (slirp4netns on
        podman 6): try the method anyway and return podman's refusal if it says so. A
        method with containers.conf settings is tried with them (once per session)."""
        if method is not None and method.network_settings and (
                found := self.settings_trial(method).refusal):
            return found
        for need in needs:
            if need not in REMOVED or not self.missing(need):
                continue
            network = (method.network if method else None) or REMOVED_NETWORK[need]
            if network not in self._tried:
                message = removal_message(need, *containers.refusal(
                    self.target, [f"--network={network}"]))
                self._tried[network] = Refusal(
                    message, f"podman run --rm --network={network} IMAGE true") if message else None
            if self._tried[network] is not None:
                return self._tried[network]
        return None

    def settings_trial(self, method: Method) -> SettingsTrial:
        """Try ``method``'s containers.conf settings: podman must report them in effect
        and start a container publishing a port on a custom network with them; a start
        that fails only with them is podman's refusal."""
        if method.id not in self._settings:
            self._settings[method.id] = self._try_settings(method)
        return self._settings[method.id]

    def _try_settings(self, method: Method) -> SettingsTrial:
        if busy := network_settings.busy_containers(self.target):
            return SettingsTrial(blocked=f"{', '.join(busy)} run on custom networks: the "
                                 "settings may only change when no container does "
                                 "(containers.conf(5))")
        commands: list[str] = []
        with containers.network(self.target) as net:
            def start() -> tuple[int, str]:
                options = [f"--network={net}", "-p", f"{TRIAL_PORT}:8080"]
                commands.append(f"podman run --rm {' '.join(options)} IMAGE true")
                return containers.refusal(self.target, options)

            with network_settings.applied(self.target, method) as path:
                for key, wanted in method.network_settings:
                    if key not in network_settings.REPORTED:
                        continue
                    commands.append(f"{network_settings.INFO_PROBE} (with {path})")
                    info = self.target.podman("info", "--format", "json", check=False)
                    refused, blocked = network_settings.reported_refusal(
                        key, wanted, info.returncode, info.stdout, info.stderr)
                    if refused or blocked:
                        return self._settings_result(refused, blocked, commands)
                started = start()
            control = started if started[0] == 0 else start()
            refused, blocked = network_settings.start_refusal(started, control)
            return self._settings_result(refused, blocked, commands)

    @staticmethod
    def _settings_result(refused: str | None, blocked: str | None,
                         commands: list[str]) -> SettingsTrial:
        return SettingsTrial(Refusal(refused, "; ".join(commands)) if refused else None,
                             blocked)

    @functools.cached_property
    def systemd_user(self) -> bool:
        state = self.target.systemctl_user("is-system-running", check=False).stdout.strip()
        return state in ("running", "degraded")
