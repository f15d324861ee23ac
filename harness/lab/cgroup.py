"""The lab's own cgroup2 subtree: holds every lab process so teardown can kill all."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from harness.errors import PodnetError


def lab_cgroup(lab: str) -> Path:
    """The lab's cgroup, below where the machine mounts cgroup2 (pure v2 or the hybrid
    ``unified`` mount)."""
    with open("/proc/self/mounts") as mounts:
        for line in mounts:
            fields = line.split()
            if fields[2] == "cgroup2":
                return Path(fields[1]) / f"{lab}.lab"
    raise PodnetError("no cgroup2 file system is mounted: the lab needs cgroup v2")


def create(lab: str) -> Path:
    path = lab_cgroup(lab)
    path.mkdir(exist_ok=True)
    return path


def kill_all(path: Path, timeout: float = 15.0) -> None:
    """Kill every process in the subtree, wait until it is empty, remove it."""
    if not path.is_dir():
        return
    kill_file = path / "cgroup.kill"
    deadline = time.monotonic() + timeout
    while _procs(path):
        if kill_file.exists():
            kill_file.write_text("1")
        else:
            for pid in _procs(path):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, 9)
        if time.monotonic() > deadline:
            raise PodnetError(f"processes in {path} did not exit; see {path}/cgroup.procs")
        time.sleep(0.05)
    for sub in sorted((p for p in path.rglob("*") if p.is_dir()),
                      key=lambda p: len(p.parts), reverse=True):
        _rmdir(sub)
    _rmdir(path)


def _procs(path: Path) -> list[int]:
    pids = []
    for procs in path.rglob("cgroup.procs"):
        with contextlib.suppress(OSError):
            pids += [int(p) for p in procs.read_text().split()]
    return pids


def _rmdir(path: Path) -> None:
    for _ in range(50):
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.05)
