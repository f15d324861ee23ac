"""The lab's state file: names and PIDs of what a running lab consists of."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.atomic import write_text
from harness.errors import UsageError
from harness.names import root_dir

#: The roots podnet writes and deletes inside, and the variables that move them.
ROOTS = {"STATE_ROOT": ("PODNET_STATE_DIR", "/run/podnet"),
         "DATA_ROOT": ("PODNET_DATA_DIR", "/var/lib/podnet"),
         "CACHE_ROOT": ("PODNET_CACHE_DIR", "/var/cache/podnet")}


#: The file that makes a directory one of podnet's roots: written by podnet when it
#: creates the root (or adopts its default one, or an empty one), required before
#: podnet writes or deletes anything in it.
MARKER = ".podnet-root"


def root(constant: str) -> Path:
    """The root ``constant`` (a key of :data:`ROOTS`), validated when it is used (never
    at import): a bad variable is one line from the command that needs it, not a
    traceback."""
    variable, default = ROOTS[constant]
    path = root_dir(variable, os.environ.get(variable, default))
    for other, (other_variable, other_default) in ROOTS.items():
        if other == constant:
            continue
        try:
            theirs = root_dir(other_variable, os.environ.get(other_variable, other_default))
        except UsageError:
            continue  # said by the command that uses it
        if path == theirs or theirs in path.parents or path in theirs.parents:
            raise UsageError(f"invalid {variable} {str(path)!r}: it overlaps {other_variable} "
                             f"{str(theirs)!r}; give each of podnet's roots a directory of "
                             "its own")
    return path


def owned(constant: str) -> Path:
    """The root ``constant`` ready for podnet to write and delete in: owned by this
    process's user, not writable by others (nor is any directory above it, unless
    sticky), and marked as podnet's. A missing root is created and marked; an existing
    one is adopted (marked) only when it is podnet's default or empty. Anything else is
    refused in one line before anything is written or deleted in it."""
    variable, default = ROOTS[constant]
    path = root(constant)
    given = f"{variable}={path}"
    for parent in reversed(path.parents):
        info = _lstat(parent)
        if info is not None and (info.st_uid not in (0, os.geteuid()) or (
                info.st_mode & 0o002 and not info.st_mode & stat.S_ISVTX)):
            raise UsageError(f"refusing {given}: {parent} may be changed by another user; "
                             "give a directory below ones only you and root can write")
    info = _lstat(path)
    if info is None:
        path.mkdir(parents=True, mode=0o755)
        info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise UsageError(f"refusing {given}: not a directory (a symbolic link or a file)")
    if info.st_uid != os.geteuid():
        raise UsageError(f"refusing {given}: it belongs to uid {info.st_uid}, not to you; "
                         "give a directory of your own")
    if info.st_mode & 0o022:
        raise UsageError(f"refusing {given}: others may write in it (mode "
                         f"{stat.S_IMODE(info.st_mode):o}); give a directory only you can "
                         "write")
    marker = path / MARKER
    if not marker.is_file():
        if str(path) != default and any(path.iterdir()):
            raise UsageError(f"refusing {given}: it is not podnet's (no {MARKER} in it, and "
                             "it is not empty); podnet deletes in its roots, so give a new "
                             "or empty directory")
        marker.write_text(f"{variable}: podnet writes and deletes in this directory\n")
    return path


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


@dataclass(frozen=True)
class LabState:
    name: str
    release: str
    init_pid: int
    cache_dir: str
    netns: dict[str, str]
    cgroup: str
    started: float
    #: Identity of host1's init beyond its PID, checked before it is signalled or
    #: entered: its start time (clock ticks after boot, field 22 of /proc/PID/stat) and
    #: its network namespace (device, inode), which is /run/netns/<lab>-host1. Zero in
    #: a state file written before they were recorded.
    init_start: int = 0
    host1_netns: tuple[int, int] = (0, 0)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> LabState:
        data = json.loads(text)
        data["host1_netns"] = tuple(data.get("host1_netns", (0, 0)))
        return cls(**data)


def state_file(name: str) -> Path:
    return root("STATE_ROOT") / f"{name}.json"


def baseline_file(name: str) -> Path:
    """host1's routes and kernel settings as ``up`` left them (see baseline.py)."""
    return root("STATE_ROOT") / f"{name}.baseline"


def load(name: str) -> LabState | None:
    try:
        return LabState.from_json(state_file(name).read_text())
    except (FileNotFoundError, ValueError, TypeError):
        return None


def save(state: LabState) -> None:
    """Write the state atomically and durably: after a crash it is the old or the new."""
    write_text(owned("STATE_ROOT") / f"{state.name}.json", state.to_json())


def remove(name: str) -> None:
    state_file(name).unlink(missing_ok=True)
    baseline_file(name).unlink(missing_ok=True)


def all_states() -> list[LabState]:
    states = root("STATE_ROOT")
    return [state for path in (states.glob("*.json") if states.is_dir() else ())
            if (state := load(path.stem)) is not None]
