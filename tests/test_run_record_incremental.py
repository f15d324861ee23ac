"""run.json is rewritten, atomically, with every result and after every test: a run
killed with SIGKILL keeps what it recorded, marked interrupted (a real pytest session
with podnet's plugin on a fake target, killed by its own test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from harness.results.recorder import Recorder
from harness.results.schema import ClaimResult, Run
from tests.test_one_result_per_claim import CONFTEST

SUITE = '''
import os
import signal

from harness.claims import load_default

REGISTRY = load_default()


def test_a_check(target, recorder):
    recorder.check(REGISTRY.get("ports.unprivileged.read"), 1024)


def test_killed(target, recorder):
    recorder.check(REGISTRY.get("ports.pasta.t-auto"), True)
    os.kill(os.getpid(), signal.SIGKILL)
'''


def test_a_killed_run_keeps_its_results(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_suite.py").write_text(SUITE)
    results = tmp_path / "results"
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                           f"--results-dir={results}", "--run-id=r1", "--rootdir", str(tmp_path)],
                          cwd=tmp_path, capture_output=True, timeout=120, check=False)
    assert done.returncode == -9, done.stdout[-500:]
    record = json.loads((results / "r1" / "run.json").read_text())
    assert record["status"] == "interrupted" and record["finished"] is None
    assert [r["claim_id"] for r in record["results"]] == ["ports.unprivileged.read",
                                                          "ports.pasta.t-auto"]
    assert not [p.name for p in (results / "r1").iterdir() if p.name != "run.json"]


def test_the_final_record_is_complete(tmp_path: Path) -> None:
    recorder = Recorder(Run("r2", 0.0), tmp_path)
    recorder.add(ClaimResult(claim_id="c", section="s", statement="t", expected=1,
                             observed=1, outcome="passed"))
    assert json.loads((tmp_path / "run.json").read_text())["status"] == "interrupted"
    recorder.save()
    assert json.loads((tmp_path / "run.json").read_text())["status"] == "complete"
