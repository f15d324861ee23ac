"""Is the process a lab's state file names still that lab's init?

A PID alone is not enough: after host1's init dies, its PID can be reused, even by
another ``systemd``. Before podnet signals host1's init or enters it, the process must
have the start time and the network namespace that ``up`` recorded, and that namespace
must still be the lab's ``/run/netns/<lab>-host1``.
"""

from __future__ import annotations

import contextlib
import os
import signal
from dataclasses import dataclass
from pathlib import Path

from harness.lab.namespaces import NETNS_DIR, namespace_id
from harness.lab.state import LabState

PROC = Path("/proc")


@dataclass(frozen=True)
class ProcessIdentity:
    pid: int
    comm: str
    #: Clock ticks after boot (field 22 of /proc/PID/stat).
    start: int
    #: (device, inode) of /proc/PID/ns/net.
    netns: tuple[int, int]


def read(pid: int, proc: Path = PROC) -> ProcessIdentity | None:
    """The identity of a living process (not a zombie), or None."""
    base = proc / str(pid)
    try:
        comm, _, rest = (base / "stat").read_text().rpartition(")")
    except (OSError, ValueError):
        return None
    fields = rest.split()  # fields[0] is field 3 (state)
    netns = namespace_id(base / "ns" / "net")
    if netns is None or len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return ProcessIdentity(pid, comm.partition("(")[2], int(fields[19]), netns)


def lab_init(state: LabState, proc: Path = PROC,
             netns_dir: Path = NETNS_DIR) -> ProcessIdentity | None:
    """host1's init if the state's PID still is it (at any stage of its boot), else None."""
    found = read(state.init_pid, proc)
    host1 = namespace_id(netns_dir / state.netns.get("host1", "-"))
    if found is None or host1 is None or found.netns != host1:
        return None
    if state.init_start and (found.start, found.netns) != (state.init_start, state.host1_netns):
        return None  # a state file from before identities were recorded has netns only
    return found


def kill(state: LabState) -> None:
    """SIGKILL host1's init when the state's PID still is it: never a reused PID."""
    init = lab_init(state)
    if init is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(init.pid, signal.SIGKILL)


def is_up(state: LabState, proc: Path = PROC, netns_dir: Path = NETNS_DIR) -> bool:
    """host1's init is the state's and has become systemd."""
    found = lab_init(state, proc, netns_dir)
    return found is not None and found.comm == "systemd"
