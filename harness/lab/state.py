"""The lab's state file: names and PIDs of what a running lab consists of."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.atomic import write_text
from harness.names import root_dir

#: The roots podnet writes and deletes inside, and the variables that move them.
ROOTS = {"STATE_ROOT": ("PODNET_STATE_DIR", "/run/podnet"),
         "DATA_ROOT": ("PODNET_DATA_DIR", "/var/lib/podnet"),
         "CACHE_ROOT": ("PODNET_CACHE_DIR", "/var/cache/podnet")}


def _root(constant: str) -> Path:
    """The root, validated when it is used (never at import): a bad variable is one
    line from the command that needs it, not a traceback."""
    variable, default = ROOTS[constant]
    return root_dir(variable, os.environ.get(variable, default))


def state_root() -> Path:
    return _root("STATE_ROOT")


def data_root() -> Path:
    return _root("DATA_ROOT")


def cache_root() -> Path:
    return _root("CACHE_ROOT")


def __getattr__(name: str) -> Path:
    """``state.STATE_ROOT``, ``state.DATA_ROOT`` and ``state.CACHE_ROOT``, validated."""
    if name in ROOTS:
        return _root(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    return state_root() / f"{name}.json"


def baseline_file(name: str) -> Path:
    """host1's routes and kernel settings as ``up`` left them (see baseline.py)."""
    return state_root() / f"{name}.baseline"


def load(name: str) -> LabState | None:
    path = state_file(name)
    try:
        return LabState.from_json(path.read_text())
    except FileNotFoundError:
        return None
    except (ValueError, TypeError):
        return None


def save(state: LabState) -> None:
    """Write the state atomically and durably: after a crash it is the old or the new."""
    write_text(state_file(state.name), state.to_json())


def remove(name: str) -> None:
    state_file(name).unlink(missing_ok=True)
    baseline_file(name).unlink(missing_ok=True)


def all_states() -> list[LabState]:
    root = state_root()
    if not root.is_dir():
        return []
    found = []
    for path in root.glob("*.json"):
        state = load(path.stem)
        if state is not None:
            found.append(state)
    return found
