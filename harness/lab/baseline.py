"""host1's baseline: its routes and the kernel settings podnet's checks change, as
``up`` left them.

A session killed in the middle of a check can leave host1 without its routes or with
a lowered port setting, and the next session would record false contradictions of the
guide. So ``up`` records the baseline, and every session compares host1 with it and
puts it back before its first check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from harness.atomic import write_text
from harness.errors import PodnetError
from harness.lab import state as lab_state
from harness.probes.netconf import Route, route_key, routes
from harness.targets.base import Target

#: Every kernel setting a check changes in host1 (with netconf.sysctl_set).
SYSCTLS = ("net.ipv4.ip_unprivileged_port_start",)


class NotRestored(PodnetError):
    """host1 still differs from its baseline after the restore."""


@dataclass(frozen=True)
class Snapshot:
    routes: tuple[Route, ...]
    sysctls: dict[str, str]

    def to_json(self) -> str:
        return json.dumps({"routes": [{"family": r.family, **r.spec} for r in self.routes],
                           "sysctls": self.sysctls}, indent=2)

    @classmethod
    def from_json(cls, text: str) -> Snapshot:
        data = json.loads(text)
        found = tuple(Route(entry["family"], {k: v for k, v in entry.items() if k != "family"})
                      for entry in data["routes"])
        return cls(found, {str(k): str(v) for k, v in data["sysctls"].items()})


def capture(target: Target) -> Snapshot:
    return Snapshot(tuple(routes(target)), {key: target.sysctl(key) for key in SYSCTLS})


def save(lab: str, snapshot: Snapshot) -> None:
    write_text(lab_state.baseline_file(lab), snapshot.to_json())


def load(lab: str) -> Snapshot | None:
    try:
        return Snapshot.from_json(lab_state.baseline_file(lab).read_text())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


@dataclass(frozen=True)
class Plan:
    """What to change to bring host1 back to its baseline."""

    #: Missing routes, prefix routes before routes through a gateway.
    add: tuple[Route, ...]
    #: Routes the baseline does not have, routes through a gateway first.
    delete: tuple[Route, ...]
    #: (setting, current value, baseline value) of each setting that differs.
    sysctls: tuple[tuple[str, str, str], ...]

    def __bool__(self) -> bool:
        return bool(self.add or self.delete or self.sysctls)

    def describe(self) -> str:
        parts = [f"route missing: {route_key(r)}" for r in self.add]
        parts += [f"route not in the baseline: {route_key(r)}" for r in self.delete]
        parts += [f"{key} is {now}, baseline {then}" for key, now, then in self.sysctls]
        return "; ".join(parts)


def plan(baseline: Snapshot, current: Snapshot) -> Plan:
    wanted = {route_key(r): r for r in baseline.routes}
    present = {route_key(r): r for r in current.routes}
    add = [r for k, r in wanted.items() if k not in present]
    delete = [r for k, r in present.items() if k not in wanted]
    return Plan(
        tuple(sorted(add, key=lambda r: "gateway" in r.spec)),
        tuple(sorted(delete, key=lambda r: "gateway" not in r.spec)),
        tuple((key, current.sysctls.get(key, "?"), value)
              for key, value in baseline.sysctls.items()
              if current.sysctls.get(key) != value),
    )


def apply(target: Target, changes: Plan) -> None:
    target.require_isolated("restore routes and settings")
    for route in changes.delete:
        target.run(route.argv("del"), root=True, check=False)
    for route in changes.add:
        target.run(route.argv(), root=True, check=False)
    for key, _now, value in changes.sysctls:
        target.set_sysctl(key, value)


def restore(target: Target, baseline: Snapshot) -> Plan:
    """Bring host1 back to ``baseline``; return what differed (empty when nothing did).
    Raises :class:`NotRestored` when host1 still differs afterwards."""
    changes = plan(baseline, capture(target))
    if changes:
        apply(target, changes)
        if left := plan(baseline, capture(target)):
            raise NotRestored(left.describe())
    return changes
