"""One run, one directory under ``results/``: ``<UTC time stamp>-<short id>/run.json``."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path

from harness.atomic import write_text
from harness.errors import PodnetError
from harness.results.schema import Run

RUN_FILE = "run.json"


def new_run_id(now: float | None = None) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now or time.time()))
    return f"{stamp}-{secrets.token_hex(3)}"


def run_dir(root: Path, run_id: str) -> Path:
    return root / run_id


def save(run: Run, directory: Path) -> Path:
    """Write ``run.json`` atomically: a failed write keeps the previous record."""
    return write_text(directory / RUN_FILE, json.dumps(run.to_dict(), indent=2, default=str) + "\n")


def load(directory: Path) -> Run:
    path = directory / RUN_FILE if directory.is_dir() else directory
    if not path.exists():
        raise PodnetError(f"{directory} is not a run directory: it has no {RUN_FILE}")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise PodnetError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise PodnetError(f"{path} is malformed: expected a JSON object")
    return Run.from_dict(data, str(path))
