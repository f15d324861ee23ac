"""Processes on the target: who runs, with which argv (read from /proc/PID/cmdline)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from harness.targets.base import Target


def pids(target: Target, name: str) -> set[int]:
    """PIDs of the rootless user's processes named exactly ``name``."""
    done = target.run(["pgrep", "-u", target.user, f"^{name}(\\.|$)"], check=False)
    return {int(line) for line in done.stdout.split()}


def parse_cmdline(raw: str) -> list[str]:
    """/proc/PID/cmdline: NUL-separated, NUL-terminated."""
    return [arg for arg in raw.split("\0") if arg]


def argv(target: Target, pid: int) -> list[str]:
    done = target.run(["cat", f"/proc/{pid}/cmdline"], check=False)
    return parse_cmdline(done.stdout) if done.ok else []


def option_values(args: Sequence[str], *options: str) -> list[str]:
    """Values given to any of ``options`` (``-t 8080`` and ``--tcp-ports=8080`` forms)."""
    values = []
    for i, arg in enumerate(args):
        if arg in options and i + 1 < len(args):
            values.append(args[i + 1])
        for opt in options:
            if opt.startswith("--") and arg.startswith(opt + "="):
                values.append(arg.split("=", 1)[1])
    return values


def serving(processes: Iterable[Sequence[str]], netns_path: str) -> list[str] | None:
    """Of several pasta argvs, the one whose ``--netns`` (or last argument) names
    ``netns_path``: a container's own pasta, never another container's."""
    return next((list(args) for args in processes
                 if netns_path and (netns_path in option_values(args, "--netns")
                                    or (args and args[-1] == netns_path))), None)


def pasta_of(target: Target, netns_path: str) -> list[str] | None:
    """argv of the pasta process serving the network namespace at ``netns_path``."""
    return serving((argv(target, pid) for pid in sorted(pids(target, "pasta"))), netns_path)


def container_netns(target: Target, container: str) -> str:
    return target.podman("inspect", "-f", "{{.NetworkSettings.SandboxKey}}",
                         container).stdout.strip()
