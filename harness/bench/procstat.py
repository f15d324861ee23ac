"""CPU time of the forwarding processes (pasta, slirp4netns, rootlessport, conmon),
read from /proc/PID/stat on the target."""

from __future__ import annotations

from collections.abc import Mapping

from harness.targets.base import Target

FORWARDERS = ("pasta", "slirp4netns", "rootlessport", "conmon")
SCRIPT = "getconf CLK_TCK; cat /proc/[0-9]*/stat 2>/dev/null"

#: pid -> (forwarder name, CPU seconds).
Snapshot = dict[int, tuple[str, float]]


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


def snapshot(target: Target) -> Snapshot:
    return parse(target.sh(SCRIPT, check=False).stdout)


def delta(before: Snapshot, after: Snapshot) -> dict[str, float]:
    """CPU seconds per forwarder name spent between two snapshots (new processes count
    from zero)."""
    spent: dict[str, float] = {}
    for pid, (name, seconds) in after.items():
        start = before.get(pid, (name, 0.0))[1]
        spent[name] = spent.get(name, 0.0) + max(0.0, seconds - start)
    return spent


def per_gigabyte(spent: Mapping[str, float], nbytes: int) -> float | None:
    return sum(spent.values()) / (nbytes / 1e9) if nbytes > 0 else None
