"""What a measurement cost, read on the target in one command before and after it:
the CPU time of the forwarding processes (pasta, slirp4netns, rootlessport, conmon,
from /proc/PID/stat) and the bytes they passed through read/write calls
(/proc/PID/io), the CPU time of every process of the lab's host (its cgroup's
``cpu.stat``), and the machine's state (/proc/loadavg and the CPU line of
/proc/stat: how busy the machine was, and with what)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from harness.targets.base import Target

FORWARDERS = ("pasta", "slirp4netns", "rootlessport", "conmon")
#: The forwarders that move a published port's or the container's network bytes (conmon
#: relays a container's standard streams and logs, not its network traffic).
NETWORK_FORWARDERS = ("pasta", "slirp4netns", "rootlessport")
#: The target's own cgroup (in the lab, the cgroup namespace is rooted at the lab's).
CPU_STAT = "/sys/fs/cgroup/cpu.stat"
SEPARATOR = "--- proc"
IO_SEPARATOR = "--- io"
MACHINE_SEPARATOR = "--- machine"
SCRIPT = f"cat {CPU_STAT} 2>/dev/null; echo '{SEPARATOR}'; getconf CLK_TCK; " \
         "cat /proc/[0-9]*/stat 2>/dev/null; " \
         f"echo '{IO_SEPARATOR}'; grep -s -H -E '^(rchar|wchar):' /proc/[0-9]*/io; " \
         f"echo '{MACHINE_SEPARATOR}'; cat /proc/loadavg; head -n 1 /proc/stat"

#: pid -> (forwarder name, CPU seconds).
Snapshot = dict[int, tuple[str, float]]
#: pid -> (bytes read, bytes written) through read/write calls (``rchar``, ``wchar``).
IoSnapshot = dict[int, tuple[int, int]]


@dataclass(frozen=True)
class Machine:
    """The machine-wide state: the 1-minute load average, and the CPU time of all CPUs
    so far by kind (seconds): busy in tasks, in interrupts (softirq: the kernel moving
    packets, not charged to any cgroup), stolen by a hypervisor, and the total."""

    load1: float
    task_seconds: float
    irq_seconds: float
    steal_seconds: float
    total_seconds: float


@dataclass(frozen=True)
class Usage:
    """One reading: the forwarders' CPU seconds and read/write bytes by pid, the
    cgroup's total (None where the target is not a lab of its own: its cgroup would be
    the machine's), and the machine's state (None where it could not be read)."""

    forwarders: Snapshot = field(default_factory=dict)
    cgroup_seconds: float | None = None
    io: IoSnapshot = field(default_factory=dict)
    machine: Machine | None = None


def _forwarder_stats(lines: Iterable[str]) -> Iterator[tuple[str, str, list[str]]]:
    """(pid, forwarder name, the fields after ``comm)``) of each /proc/PID/stat line of
    a forwarder (after "comm)", the state is field 3 of stat)."""
    for line in lines:
        left, sep, right = line.rpartition(")")
        pid, _, comm = left.partition(" (")
        name = next((f for f in FORWARDERS if comm.startswith(f)), None)
        if sep and name is not None:
            yield pid.strip(), name, right.split()


def parse(text: str) -> Snapshot:
    """Parse ``getconf CLK_TCK`` followed by /proc/*/stat lines."""
    lines = text.splitlines()
    if not lines:
        return {}
    ticks = float(lines[0])
    # utime and stime are fields 14 and 15 of stat.
    return {int(pid): (name, (int(fields[11]) + int(fields[12])) / ticks)
            for pid, name, fields in _forwarder_stats(lines[1:])
            if len(fields) >= 13 and pid.isdigit()}


#: The forwarders' resident memory: the page size, then every process's stat line.
RSS_SCRIPT = "getconf PAGESIZE; cat /proc/[0-9]*/stat 2>/dev/null"


def parse_rss(text: str) -> dict[str, int]:
    """Resident bytes by forwarder name (all its processes added up), from
    :data:`RSS_SCRIPT`'s output."""
    lines = text.splitlines()
    if not lines or not lines[0].strip().isdigit():
        return {}
    page = int(lines[0])
    found: dict[str, int] = {}
    for _, name, fields in _forwarder_stats(lines[1:]):
        # rss (pages) is field 24 of stat.
        if len(fields) >= 22 and fields[21].isdigit():
            found[name] = found.get(name, 0) + int(fields[21]) * page
    return found


def cgroup_seconds(text: str) -> float | None:
    """``usage_usec`` of a cgroup2 ``cpu.stat``, in seconds."""
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "usage_usec" and value.strip().isdigit():
            return int(value) / 1e6
    return None


def parse_io(text: str) -> IoSnapshot:
    """``grep -H`` lines of /proc/PID/io: ``/proc/812/io:rchar: 650``."""
    found: dict[int, dict[str, int]] = {}
    for line in text.splitlines():
        path, _, rest = line.partition(":")
        key, _, value = rest.partition(":")
        pid = path.removeprefix("/proc/").removesuffix("/io")
        if pid.isdigit() and value.strip().isdigit():
            found.setdefault(int(pid), {})[key.strip()] = int(value)
    return {pid: (v.get("rchar", 0), v.get("wchar", 0)) for pid, v in found.items()}


def parse_machine(text: str, ticks: float) -> Machine | None:
    """/proc/loadavg, then the ``cpu`` line of /proc/stat (in ``ticks`` per second)."""
    lines = text.splitlines()
    if len(lines) < 2 or not lines[1].startswith("cpu ") or ticks <= 0:
        return None
    try:
        load1 = float(lines[0].split()[0])
        values = [int(v) for v in lines[1].split()[1:]]
    except (ValueError, IndexError):
        return None
    # user nice system idle iowait irq softirq steal (guest time is counted in user).
    values += [0] * (8 - len(values))
    user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
    return Machine(load1, (user + nice + system) / ticks, (irq + softirq) / ticks,
                   steal / ticks, sum(values[:8]) / ticks)


def parse_usage(text: str, *, own_cgroup: bool = True) -> Usage:
    """The output of :data:`SCRIPT`."""
    cgroup, sep, proc = text.partition(SEPARATOR + "\n")
    if not sep:
        return Usage(parse(text))
    proc, _, rest = proc.partition(IO_SEPARATOR + "\n")
    io, _, machine = rest.partition(MACHINE_SEPARATOR + "\n")
    ticks = proc.split("\n", 1)[0].strip()
    return Usage(parse(proc), cgroup_seconds(cgroup) if own_cgroup else None,
                 parse_io(io),
                 parse_machine(machine, float(ticks) if ticks.isdigit() else 0.0))


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


def carried_bytes(before: Usage, after: Usage) -> dict[str, int]:
    """Bytes each network forwarder (by name) passed through read/write calls between
    two readings: for each of its processes the larger of what it read and what it wrote
    (a forwarder reads the bytes it carries on one side and writes them on the other),
    the largest process of each name. pasta writes what it carries to the tap device,
    slirp4netns reads and writes it there. Bytes moved with splice(2) are not counted
    (rootlessport copies TCP that way): the forwarders' CPU time shows those."""
    found: dict[str, int] = {}
    for pid, (name, _) in after.forwarders.items():
        if pid not in after.io or name not in NETWORK_FORWARDERS:
            continue
        read0, written0 = before.io.get(pid, (0, 0)) if pid in before.forwarders else (0, 0)
        read1, written1 = after.io[pid]
        moved = max(0, read1 - read0, written1 - written0)
        found[name] = max(found.get(name, 0), moved)
    return found


@dataclass(frozen=True)
class MachineShare:
    """The machine between two readings, as shares of its whole CPU capacity: the
    lab's host (its cgroup), the rest of the tasks (other work on the machine, and the
    clients outside the lab's cgroup), interrupts (softirq: packets), steal; and the
    load average before."""

    load1: float
    lab: float | None
    outside: float | None
    irq: float
    steal: float

    def to_dict(self) -> dict[str, float | None]:
        return {"load1": self.load1, "lab_share": self.lab, "outside_share": self.outside,
                "irq_share": self.irq, "steal_share": self.steal}


def machine_share(before: Usage, after: Usage, *, client_seconds: float = 0.0
                  ) -> MachineShare | None:
    """What the machine did between two readings (``client_seconds``: CPU time of a
    client outside the lab's cgroup that belongs to the measurement itself)."""
    a, b = before.machine, after.machine
    if a is None or b is None or b.total_seconds <= a.total_seconds:
        return None
    total = b.total_seconds - a.total_seconds
    tasks = b.task_seconds - a.task_seconds
    lab = cgroup_delta(before, after)
    outside = None if lab is None else max(0.0, tasks - lab - client_seconds) / total
    return MachineShare(a.load1, None if lab is None else min(1.0, lab / total), outside,
                        (b.irq_seconds - a.irq_seconds) / total,
                        (b.steal_seconds - a.steal_seconds) / total)
