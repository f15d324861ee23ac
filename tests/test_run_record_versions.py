"""The run record's versions: older records are upgraded on reading, newer ones refused
with one line; every new run names the podnet that made it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from harness import __version__
from harness.claims import load_default
from harness.errors import PodnetError
from harness.reports import html, markdown
from harness.results import store
from harness.results.recorder import Recorder
from harness.results.schema import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parent.parent


def _result(outcome: str, reason: str) -> dict[str, object]:
    return {"claim_id": "performance.x", "section": "Performance", "statement": "s",
            "expected": True, "observed": None, "outcome": outcome, "reason": reason}


def _write(tmp_path: Path, version: int, results: list[dict[str, object]]) -> Path:
    record = {"schema": "podnet.run", "schema_version": version, "run_id": "r", "started": 0,
              "results": results}
    (tmp_path / store.RUN_FILE).write_text(json.dumps(record))
    return tmp_path


def test_version_1_inconclusive_skips_become_inconclusive(tmp_path: Path) -> None:
    run = store.load(_write(tmp_path, 1, [
        _result("skipped", "inconclusive: indistinguishable (overlapping intervals)"),
        _result("skipped", "pasta is not installed on the target")]))
    assert [r.outcome for r in run.results] == ["inconclusive", "skipped"]
    assert run.podnet == {}


def test_a_newer_version_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(PodnetError, match=f"schema version {SCHEMA_VERSION + 1}; this podnet "
                       "reads versions 1, 2, 3"):
        store.load(_write(tmp_path, SCHEMA_VERSION + 1, []))


def test_a_run_records_podnets_version_and_commit(tmp_path: Path) -> None:
    recorder = Recorder.start(tmp_path, "r")
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()
    assert recorder.run.podnet == {"version": __version__, "commit": head}
    recorder.inconclusive(load_default().claims[0], "inconclusive: too few rounds")
    saved = recorder.save()
    assert saved is not None
    again = store.load(saved)
    assert again.podnet == recorder.run.podnet and again.results[0].outcome == "inconclusive"
    made = f"made by podnet {__version__} (commit {head[:12]})"
    assert made in markdown.render(again, []) and made in html.render(again, [])
