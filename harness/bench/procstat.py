"""CPU time spent during a measurement: of the forwarding processes (pasta,
slirp4netns, rootlessport, conmon, from /proc/PID/stat) and of every process of the
lab's host (its cgroup's ``cpu.stat``), read on the target in one command."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from harness.targets.base import Target

FORWARDERS = ("pasta", "slirp4netns", "rootlessport", "conmon")
#: The target's own cgroup (in the lab, the cgroup namespace is rooted at the lab's).
CPU_STAT = "/sys/fs/cgroup/cpu.stat"
SEPARATOR = "--- proc"
SCRIPT = f"cat {CPU_STAT} 2>/dev/null; echo '{SEPARATOR}'; getconf CLK_TCK; " \
         "cat /proc/[0-9]*/stat 2>/dev/null"

#: pid -> (forwarder name, CPU seconds).
Snapshot = dict[int, tuple[str, float]]


@dataclass(frozen=True)
class Usage:
    """One reading: the forwarders' CPU seconds by pid, and the cgroup's total (None
    where the target is not a lab of its own: its cgroup would be the machine's)."""

    forwarders: Snapshot = field(default_factory=dict)
    cgroup_seconds: float | None = None


def parse(text: str, forwarders: tuple[str, ...] = FORWARDERS) -> Snapshot:
    """Parse ``getconf CLK_TCK`` followed by /proc/*/stat lines."""
    lines = text.splitlines()
    if not lines:
        return {}
    ticks = float(lines[0])
    found: Snapshot = {}
    for line in lines[1:]:
        left, sep, right = line.rpartition(")")
        if not sep or "(" not in left:
            continue
        pid_text, _, comm = left.partition(" (")
        name = next((f for f in forwarders if comm.startswith(f)), None)
        fields = right.split()
        # After "comm)": state is field 3 of stat; utime and stime are fields 14 and 15.
        if name is None or len(fields) < 13 or not pid_text.strip().isdigit():
            continue
        found[int(pid_text)] = (name, (int(fields[11]) + int(fields[12])) / ticks)
    return found


def cgroup_seconds(text: str) -> float | None:
    """``usage_usec`` of a cgroup2 ``cpu.stat``, in seconds."""
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "usage_usec" and value.strip().isdigit():
            return int(value) / 1e6
    return None


def parse_usage(text: str, *, own_cgroup: bool = True) -> Usage:
    """The output of :data:`SCRIPT`."""
    cgroup, sep, proc = text.partition(SEPARATOR + "\n")
    if not sep:
        return Usage(parse(text))
    return Usage(parse(proc), cgroup_seconds(cgroup) if own_cgroup else None)


#: Runs a command in a transient scope of the user's systemd (inside the lab's cgroup).
SCOPE = ("systemd-run", "--user", "--scope", "--quiet", "--collect")


def in_lab_cgroup(target: Target, argv: list[str]) -> list[str]:
    """``argv`` run so that its CPU counts in the lab's cgroup. Commands entered into
    the lab from outside (nsenter) stay in the machine's cgroup: the native references
    are started this way, like the containers the methods run in."""
    return [*SCOPE, *argv] if target.isolated else argv


def snapshot(target: Target) -> Usage:
    return parse_usage(target.sh(SCRIPT, check=False).stdout, own_cgroup=target.isolated)


def delta(before: Snapshot, after: Snapshot) -> dict[str, float]:
    """CPU seconds per forwarder name spent between two snapshots (new processes count
    from zero)."""
    spent: dict[str, float] = {}
    for pid, (name, seconds) in after.items():
        start = before.get(pid, (name, 0.0))[1]
        spent[name] = spent.get(name, 0.0) + max(0.0, seconds - start)
    return spent


def cgroup_delta(before: Usage, after: Usage) -> float | None:
    if before.cgroup_seconds is None or after.cgroup_seconds is None:
        return None
    return max(0.0, after.cgroup_seconds - before.cgroup_seconds)


def per_gigabyte(spent: Mapping[str, float] | float | None, nbytes: int) -> float | None:
    if spent is None or nbytes <= 0:
        return None
    total = spent if isinstance(spent, int | float) else sum(spent.values())
    return total / (nbytes / 1e9)
