"""The environment fingerprint of a run: target, release, kernel, CPU, versions."""

from __future__ import annotations

import os
import platform
from typing import Any

from harness.image_names import WEB_IMAGE
from harness.podman.info import PodmanInfo, read_version
from harness.targets.base import Target
from harness.versions import Version

#: Extra versions read by commands on the target, beyond what podman info reports.
_EXTRA = {
    "systemd": ["systemctl", "--version"],
    "iperf3": ["iperf3", "--version"],
    "nginx": ["podman", "run", "--rm", "--network=none", f"{WEB_IMAGE}:latest", "nginx", "-v"],
}

#: Kernel settings of the target's network namespace that shape throughput; a lab
#: inherits them from the machine it runs on.
NET_SYSCTLS = ("net.ipv4.tcp_congestion_control", "net.core.rmem_max", "net.core.wmem_max",
               "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem")


def podman_info(target: Target) -> PodmanInfo:
    return PodmanInfo.from_json(target.podman_json("info", "--format", "json"))


def fingerprint(target: Target, info: PodmanInfo, release: str | None) -> dict[str, Any]:
    versions = info.components.as_text()
    for name, argv in _EXTRA.items():
        done = target.run(target.marked(argv), check=False, timeout=60)
        first = (done.stdout or done.stderr).strip().splitlines()
        versions[name] = first[0] if first and done.ok else "absent"
    return {
        "target": target.name,
        "release": release,
        "kernel": info.components.kernel or platform.release(),
        "cpu": _cpu_model(),
        "cpus": os.cpu_count() or 0,
        "rootless": info.rootless,
        "rootless_network_cmd": info.rootless_network_cmd,
        "network_backend": info.network_backend,
        "versions": versions,
        "net_sysctls": net_sysctls(target),
    }


def systemd_version(environment: dict[str, Any]) -> Version | None:
    """systemd's version from the fingerprint: None when absent, an error naming the text
    when ``systemctl --version`` printed something that is no version."""
    text = str(environment.get("versions", {}).get("systemd", "absent"))
    return None if text == "absent" else read_version("systemd", text, "systemctl --version")


def net_sysctls(target: Target) -> dict[str, str]:
    paths = ["/proc/sys/" + name.replace(".", "/") for name in NET_SYSCTLS]
    done = target.run(["sh", "-c", 'for f; do echo $(cat "$f"); done', "sh", *paths],
                      check=False, timeout=30)
    values = done.stdout.splitlines() if done.ok else []
    return {name: value for name, value in zip(NET_SYSCTLS, values, strict=False) if value}


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()
