"""The lab's state file: names and PIDs of what a running lab consists of."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

STATE_ROOT = Path(os.environ.get("PODNET_STATE_DIR", "/run/podnet"))
DATA_ROOT = Path(os.environ.get("PODNET_DATA_DIR", "/var/lib/podnet"))
CACHE_ROOT = Path(os.environ.get("PODNET_CACHE_DIR", "/var/cache/podnet"))


@dataclass(frozen=True)
class LabState:
    name: str
    release: str
    init_pid: int
    cache_dir: str
    netns: dict[str, str]
    cgroup: str
    started: float

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> LabState:
        return cls(**json.loads(text))


def state_file(name: str) -> Path:
    return STATE_ROOT / f"{name}.json"


def load(name: str) -> LabState | None:
    path = state_file(name)
    try:
        return LabState.from_json(path.read_text())
    except FileNotFoundError:
        return None
    except (ValueError, TypeError):
        return None


def save(state: LabState) -> None:
    path = state_file(state.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(state.to_json())
    tmp.replace(path)


def remove(name: str) -> None:
    state_file(name).unlink(missing_ok=True)


def all_states() -> list[LabState]:
    if not STATE_ROOT.is_dir():
        return []
    found = []
    for path in STATE_ROOT.glob("*.json"):
        state = load(path.stem)
        if state is not None:
            found.append(state)
    return found
