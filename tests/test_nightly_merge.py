"""The nightly merge job (scripts/nightly-merge): tonight's runs of each release with the
archive's nights before, merged into the matrix, the comparisons and the history."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import recorded

MERGE = Path(__file__).resolve().parent.parent / "scripts" / "nightly-merge"
PODNET = Path(sys.executable).with_name("podnet")
RELEASES = ("trixie", "sid")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The six nights, ``<release>-<night>``, oldest first per release."""
    return recorded.history(tmp_path_factory.mktemp("recorded") / "history")


def _night(root: Path, runs: list[Path]) -> tuple[Path, Path]:
    """The merge job's inputs from the fixtures: tonight's run of each release as
    actions/download-artifact lays out the artifacts, and the two nights before in the
    archive."""
    tonight, archive = root / "tonight", root / "archive"
    for release in RELEASES:
        for night in (1, 2, 3):
            source = runs[0].parent / f"{release}-{night}"
            run_id = json.loads((source / "run.json").read_text())["run_id"]
            into = (tonight / f"run-{release}" if night == 3 else archive / release) / run_id
            into.mkdir(parents=True)
            shutil.copy(source / "run.json", into / "run.json")
    return tonight, archive


def _merge(root: Path, runs: list[Path]) -> Path:
    _night(root, runs)
    env = {**os.environ, "PODNET": str(PODNET), "COLUMNS": "200"}
    done = subprocess.run(["bash", str(MERGE), "tonight", "archive", "merged", *RELEASES],
                          cwd=root, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr
    return root / "merged"


def _files(out: Path) -> dict[str, bytes]:
    """The merge's files, with the time stamp of the matrix and history directories left
    out of their names."""
    found = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        parts = list(path.relative_to(out).parts)
        if len(parts) > 1:
            parts[0] = parts[0].split("-")[0]  # matrix-<time>, history-<time>
        found["/".join(parts)] = path.read_bytes()
    return found


def test_the_nightly_merge_gives_the_same_files_wherever_it_runs(runs: list[Path],
                                                                 tmp_path: Path) -> None:
    """The merge job's script (podnet matrix, podnet compare, podnet history) on the
    downloaded artifacts, once as the workflow runs it and once as someone runs it
    locally on the same run directories: the same files."""
    workflow, local = _merge(tmp_path / "workflow", runs), _merge(tmp_path / "local", runs)
    files = _files(workflow)
    assert files == _files(local)
    assert set(files) >= {"summary.md", "compare-trixie.md", "compare-sid.md", "coverage.md",
                          "matrix/matrix.md", "matrix/matrix.html", "history/history.md",
                          "history/outcomes.csv", "history/ratios.csv"}
    summary = files["summary.md"].decode()
    assert summary.index("# ") < summary.index("## trixie: tonight against the previous night")
    assert "❌ 2 regressions" in files["compare-trixie.md"].decode()
    assert "# History of 6 runs of 2 releases" in summary
    coverage = files["coverage.md"].decode()
    assert "Produced from `" in coverage and "trixie" in coverage and "sid" in coverage
    last = coverage.rstrip().splitlines()[-1]
    assert last.endswith("statements observed") and f"{last} (coverage.md" in summary
    matrix = files["matrix/matrix.md"].decode()
    assert "trixie (podman 5.4.2" in matrix and "sid (podman 5.8.6" in matrix
    assert matrix.index("trixie (podman") < matrix.index("sid (podman")
    # Tonight's runs joined the archive: three nights per release for tomorrow.
    for release in RELEASES:
        assert len(list((tmp_path / "local" / "archive" / release).iterdir())) == 3


def test_the_nightly_merge_keeps_only_the_last_nights(runs: list[Path], tmp_path: Path) -> None:
    _, archive = _night(tmp_path, runs)
    env = {**os.environ, "PODNET": str(PODNET), "PODNET_KEEP_NIGHTS": "2"}
    subprocess.run(["bash", str(MERGE), "tonight", "archive", "merged", *RELEASES], cwd=tmp_path,
                   env=env, capture_output=True, timeout=300, check=True)
    assert sorted(p.name for p in (archive / "trixie").iterdir()) == [
        "20261126T021700Z-a2a2a2", "20261127T021700Z-a3a3a3"]
    history = (next((tmp_path / "merged").glob("history-*")) / "history.md").read_text()
    assert "# History of 4 runs of 2 releases" in history


def test_a_release_without_a_run_tonight_is_said_and_the_rest_merged(runs: list[Path],
                                                                     tmp_path: Path) -> None:
    tonight, _ = _night(tmp_path, runs)
    shutil.rmtree(tonight / "run-sid")
    env = {**os.environ, "PODNET": str(PODNET)}
    done = subprocess.run(["bash", str(MERGE), "tonight", "archive", "merged", *RELEASES],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "no run of sid" in done.stderr
    assert "No run was recorded tonight." in (tmp_path / "merged" / "summary.md").read_text()
