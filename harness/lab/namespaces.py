"""Network namespaces and veth links of the lab. Never touches the machine's network."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

from harness.lab.topology import DEFAULT_VIA, LINKS
from harness.run import run

NETNS_DIR = Path("/run/netns")


def netns_names(lab: str) -> dict[str, str]:
    return {host: f"{lab}-{host}" for host in ("host1", *(link.client for link in LINKS))}


def existing(lab: str) -> list[str]:
    """The lab's own namespaces that exist: exact names only, so another lab's
    (``lab-hostA`` for lab ``lab``) or a user's namespace is never counted or removed."""
    return sorted(ns for ns in netns_names(lab).values() if (NETNS_DIR / ns).exists())


def create(lab: str) -> dict[str, str]:
    names = netns_names(lab)
    for ns in names.values():
        run(["ip", "netns", "add", ns])
        run(["ip", "-n", ns, "link", "set", "lo", "up"])
    h1 = names["host1"]
    for link in LINKS:
        peer = names[link.client]
        # Both ends are created inside lab namespaces: the machine's own never sees them.
        run(["ip", "-n", h1, "link", "add", link.host1_if, "type", "veth",
             "peer", "name", link.peer_if, "netns", peer])
        for ns, ifname, addr, addr6 in (
            (h1, link.host1_if, link.host1_addr, link.host1_addr6),
            (peer, link.peer_if, link.peer_addr, link.peer_addr6),
        ):
            configure(ns, ifname, f"{addr}/{link.prefix}", addr6)
            run(["ip", "-n", ns, "link", "set", ifname, "up"])
    default_routes(h1)
    return names


def configure(ns: str, ifname: str, address: str, address6: str) -> None:
    """Give ``ifname`` in ``ns`` its IPv4 address (with prefix) and IPv6 address (/64)."""
    run(["ip", "-n", ns, "addr", "replace", address, "dev", ifname])
    run(["ip", "-n", ns, "addr", "replace", f"{address6}/64", "dev", ifname, "nodad"])


def default_routes(host1: str) -> None:
    """host1's default routes, both families, through its main link's peer."""
    for family, gateway in (("-4", DEFAULT_VIA.peer_addr), ("-6", DEFAULT_VIA.peer_addr6)):
        run(["ip", "-n", host1, family, "route", "replace", "default", "via", gateway])


def namespace_id(path: Path) -> tuple[int, int] | None:
    """(device, inode) of a network namespace file (/run/netns/NAME or
    /proc/PID/ns/net): equal for the same namespace, whatever the path."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def processes_in(*namespaces: str) -> list[int]:
    """PIDs of processes whose network namespace is one of ``namespaces`` (e.g. servers
    a client host started with ``ip netns exec``, which live outside the lab's cgroup),
    found in one scan of /proc."""
    wanted = {found for ns in namespaces if (found := namespace_id(NETNS_DIR / ns))}
    if not wanted:
        return []
    return [int(entry.name) for entry in Path("/proc").iterdir()
            if entry.name.isdigit() and namespace_id(entry / "ns" / "net") in wanted]


def delete(names: list[str]) -> None:
    """Kill what still runs in the namespaces, then remove them."""
    for pid in processes_in(*names):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for ns in names:
        if (NETNS_DIR / ns).exists():
            run(["ip", "netns", "delete", ns], check=False)
