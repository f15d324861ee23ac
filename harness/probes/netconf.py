"""Temporary changes to host1's network configuration, always undone.

Only for the target's own network namespace (the lab's host1): a sysctl of the
namespace (e.g. ``net.ipv4.ip_unprivileged_port_start``), its routes and a link's state.
Each refuses a target that is not isolated (a workstation), whatever the check declared.
Reading the namespace's addresses changes nothing and is allowed anywhere.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from harness.errors import PodnetError
from harness.targets.base import Target

FAMILIES = ("-4", "-6")


@contextlib.contextmanager
def sysctl_set(target: Target, key: str, value: str) -> Iterator[str]:
    """Set ``key`` to ``value``; yield the original value; restore it on exit.
    Refused, before anything runs, on a target that is not isolated."""
    target.require_isolated(f"set {key}")
    original = target.sysctl(key)
    try:
        if original != value:
            target.set_sysctl(key, value)
        yield original
    finally:
        if target.sysctl(key) != original:
            target.set_sysctl(key, original)


@dataclass(frozen=True)
class Route:
    family: str
    spec: dict[str, Any]

    @property
    def is_default(self) -> bool:
        return self.spec.get("dst") == "default"

    def argv(self, verb: str = "append") -> list[str]:
        """``ip route append`` argv recreating the route (prefix routes need no gateway);
        ``verb="del"`` removes it."""
        s = self.spec
        args = ["ip", self.family, "route", verb, s["dst"]]
        for key, word in (("gateway", "via"), ("dev", "dev"), ("protocol", "proto"),
                          ("scope", "scope"), ("prefsrc", "src"), ("metric", "metric"),
                          ("pref", "pref")):
            if key in s and not (key == "scope" and s[key] == "global"):
                args += [word, str(s[key])]
        return args

    def describe(self) -> str:
        return " ".join(self.argv()[4:])


def routes(target: Target) -> list[Route]:
    """The main table's routes, both families."""
    return [Route(family, spec) for family in FAMILIES for spec in json.loads(
        target.run(["ip", "-j", family, "route", "show", "table", "main"]).stdout or "[]")]


#: An off-link documentation address: routable only through a default route.
OFF_LINK = "203.0.113.1"
UNREACHABLE = "Network is unreachable"


def route_to(target: Target, address: str = OFF_LINK) -> str:
    """What ``ip route get`` says about ``address`` (sends nothing): the route, or the
    kernel's refusal."""
    done = target.run(["ip", "route", "get", address], check=False)
    return (done.stdout if done.ok else done.stderr).strip()[:200]


def unusable_proof(before: str, during: list[str]) -> str | None:
    """Why host1's network was not shown unusable while a check ran, or None when it was:
    the off-link address had a route before the routes were removed (the probe can see a
    usable network) and the kernel refused it every time it was asked during the check."""
    if UNREACHABLE in before or " dev " not in f" {before} ":
        return f"the control failed: before the routes were removed, ip route get said {before!r}"
    usable = [said for said in during if UNREACHABLE not in said]
    if usable or not during:
        return f"the network was usable during the check: ip route get said {usable or during!r}"
    return None


@contextlib.contextmanager
def routes_removed(target: Target, *, only_default: bool = False) -> Iterator[list[Route]]:
    """Remove the default routes (or every route of the main table) and yield what was
    removed; put them back on exit, prefix routes before the routes through gateways.
    Refused, before anything runs, on a target that is not isolated."""
    target.require_isolated("remove routes")
    before = routes(target)
    removed = [r for r in before if r.is_default or not only_default]
    try:
        for family in FAMILIES:
            if only_default:
                # several default routes (e.g. metrics) are each deleted
                while any(r.is_default and r.family == family for r in routes(target)):
                    target.run(["ip", family, "route", "del", "default"], root=True)
            else:
                target.run(["ip", family, "route", "flush", "table", "main"], root=True)
        yield removed
    finally:
        missing = _put_back(target, removed, before)
        if missing:
            raise PodnetError(f"routes not restored on {target.name}: {sorted(missing)}")


def route_key(route: Route) -> str:
    """``family`` and ``describe()``: equal for the same route, whatever order ip
    listed its attributes in."""
    return route.family + " " + route.describe()


def _put_back(target: Target, wanted: list[Route], before: list[Route]) -> set[str]:
    """Add each route of ``wanted`` that is missing, prefix routes before the routes
    through gateways; return the keys of ``before``'s routes still missing."""
    present = {route_key(r) for r in routes(target)}
    for route in sorted(wanted, key=lambda r: "gateway" in r.spec):
        if route_key(route) not in present:
            target.run(route.argv(), root=True, check=False)
    return {route_key(r) for r in before} - {route_key(r) for r in routes(target)}


def parse_ipv4_addresses(ip_json: str) -> list[str]:
    """IPv4 addresses of ``ip -j -4 addr show`` output, loopback's last."""
    found = [(entry.get("ifname") == "lo", info["local"])
             for entry in json.loads(ip_json or "[]")
             for info in entry.get("addr_info", []) if info.get("family") == "inet"]
    return [address for _, address in sorted(found, key=lambda pair: pair[0])]


def ipv4_addresses(target: Target) -> list[str]:
    """Every IPv4 address of the target's network namespace."""
    return parse_ipv4_addresses(target.run(["ip", "-j", "-4", "addr", "show"]).stdout)


def link_addresses(target: Target, ifname: str) -> set[tuple[str, str]]:
    """(family, address/prefix) of ``ifname``, link-local addresses left out (the kernel
    makes a new one when the link comes up)."""
    out = target.run(["ip", "-j", "addr", "show", "dev", ifname]).stdout
    return {("-6" if info["family"] == "inet6" else "-4", f"{info['local']}/{info['prefixlen']}")
            for entry in json.loads(out or "[]") for info in entry.get("addr_info", [])
            if info.get("scope") != "link"}


@contextlib.contextmanager
def link_down(target: Target, ifname: str) -> Iterator[None]:
    """Set ``ifname`` down; on exit set it up and put back the addresses and routes the
    kernel dropped with it (IPv6 addresses go with the link). Refused, before anything
    runs, on a target that is not isolated."""
    target.require_isolated(f"set {ifname} down")
    addresses, before = link_addresses(target, ifname), routes(target)
    target.run(["ip", "link", "set", ifname, "down"], root=True)
    try:
        yield
    finally:
        target.run(["ip", "link", "set", ifname, "up"], root=True)
        for family, address in sorted(addresses - link_addresses(target, ifname)):
            target.run(["ip", family, "addr", "add", address, "dev", ifname,
                        *(["nodad"] if family == "-6" else [])], root=True, check=False)
        missing = _put_back(target, before, before)
        lost = {a for _, a in addresses - link_addresses(target, ifname)}
        if lost or missing:
            raise PodnetError(f"{ifname} not restored on {target.name}: "
                              f"{sorted(lost | missing)}")
