"""run.json, the reports and the matrix are written atomically: a full disk is one line
and leaves the previous files as they were, with no temporary file and no half-made
matrix directory behind."""

from __future__ import annotations

import builtins
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from harness import atomic, matrix_render
from harness.errors import PodnetError
from harness.reports import render_run
from harness.results import store

FIXTURE_RUN = Path(__file__).parent / "fixtures" / "runs" / "base" / "run.json"


def _fill_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every atomic write lands on /dev/full: the kernel answers ENOSPC."""
    real_open = builtins.open

    def open_full(path: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if "w" in mode:
            Path(path).touch()  # the temporary file exists, as on a real disk
            return real_open("/dev/full", mode, *args, **kwargs)
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr(atomic, "open", open_full, raising=False)


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    _fill_disk(monkeypatch)


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_a_full_disk_keeps_the_previous_file(tmp_path: Path, full_disk: None) -> None:
    target = tmp_path / "run.json"
    target.write_text("previous\n")
    with pytest.raises(PodnetError) as info:
        atomic.write_text(target, "new\n")
    assert "No space left on device" in str(info.value)
    assert len(str(info.value).splitlines()) == 1
    assert _files(tmp_path) == {"run.json": b"previous\n"}


def test_reports_on_a_full_disk_keep_the_previous_reports(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    shutil.copy(FIXTURE_RUN, run_dir / "run.json")
    render_run(run_dir)
    before = _files(run_dir)
    assert {"report.md", "report.html", "results.csv", "measurements.csv"} <= set(before)
    with monkeypatch.context() as patch:
        _fill_disk(patch)
        with pytest.raises(PodnetError, match="No space left on device"):
            render_run(run_dir)
    assert _files(run_dir) == before


def test_run_json_on_a_full_disk(tmp_path: Path, full_disk: None) -> None:
    shutil.copy(FIXTURE_RUN, tmp_path / "run.json")
    run = store.load(tmp_path)
    run.status = "interrupted"
    with pytest.raises(PodnetError, match="cannot write"):
        store.save(run, tmp_path)
    assert _files(tmp_path) == {"run.json": FIXTURE_RUN.read_bytes()}


def test_an_interrupted_run_round_trips_and_is_reported(tmp_path: Path) -> None:
    shutil.copy(FIXTURE_RUN, tmp_path / "run.json")
    run = store.load(tmp_path)
    assert run.status == "complete"  # records without the field
    run.status = "interrupted"
    store.save(run, tmp_path)
    assert store.load(tmp_path).status == "interrupted"
    render_run(tmp_path)
    assert "interrupted" in (tmp_path / "report.md").read_text()
    assert "interrupted" in (tmp_path / "report.html").read_text()
    data = json.loads((tmp_path / "run.json").read_text())
    data["status"] = "paused"
    (tmp_path / "run.json").write_text(json.dumps(data))
    with pytest.raises(PodnetError, match="status is 'paused'"):
        store.load(tmp_path)


def _run(tmp_path: Path, name: str, versions: Any) -> Path:
    data = json.loads(FIXTURE_RUN.read_text())
    data["environment"]["versions"] = versions
    (tmp_path / name).mkdir()
    (tmp_path / name / "run.json").write_text(json.dumps(data))
    return tmp_path / name


def test_matrix_refuses_versions_that_are_not_an_object(tmp_path: Path) -> None:
    good = _run(tmp_path, "good", {"podman": "5.4.2"})
    bad = _run(tmp_path, "bad", ["5.4.2"])
    results = tmp_path / "results"
    with pytest.raises(PodnetError, match=r"environment\.versions is not an object"):
        matrix_render.render_matrix([good, bad], results)
    assert not results.exists()


def test_a_failed_matrix_write_leaves_no_directory(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    good = _run(tmp_path, "good", {"podman": "5.4.2"})
    results = tmp_path / "results"
    results.mkdir()
    written = []

    write_bytes = atomic.write_bytes

    def second_fails(path: Path, data: bytes) -> Path:
        if written:
            raise PodnetError(f"cannot write {path}: No space left on device")
        written.append(path)
        return write_bytes(path, data)

    monkeypatch.setattr(atomic, "write_bytes", second_fails)
    with pytest.raises(PodnetError):
        matrix_render.render_matrix([good, good], results)
    assert list(results.iterdir()) == []
    monkeypatch.undo()
    paths = matrix_render.render_matrix([good, good], results)
    assert [p.name for p in paths] == ["matrix.md", "matrix.html"]
