"""podnet's roots (PODNET_STATE_DIR, PODNET_DATA_DIR, PODNET_CACHE_DIR) before it writes
or deletes in them: owned by the invoking user, not writable by others, marked as
podnet's, not overlapping. ``PODNET_CACHE_DIR=/var/cache podnet lab destroy`` refuses
in one line, and so does every directory that is not podnet's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.lab import state as lab_state
from harness.lab.state import MARKER, owned

ROOTS = ("PODNET_STATE_DIR", "PODNET_DATA_DIR", "PODNET_CACHE_DIR")


@pytest.fixture
def roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for variable in ROOTS:
        monkeypatch.setenv(variable, str(tmp_path / variable.lower()))
    return tmp_path


def _refused(constant: str) -> str:
    with pytest.raises(UsageError) as caught:
        owned(constant)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_a_new_root_is_created_and_marked(roots: Path) -> None:
    path = owned("CACHE_ROOT")
    assert path == roots / "podnet_cache_dir" and (path / MARKER).is_file()
    (path / "trixie-0123").mkdir()
    assert owned("CACHE_ROOT") == path  # marked: podnet's own, whatever is in it


def test_a_system_directory_is_refused(roots: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODNET_CACHE_DIR", "/var/cache")
    assert "/var/cache" in _refused("CACHE_ROOT")


def test_a_directory_with_files_of_others_is_not_podnets(roots: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    system = roots / "var" / "cache"
    (system / "apt").mkdir(parents=True)
    monkeypatch.setenv("PODNET_CACHE_DIR", str(system))
    assert "it is not podnet's" in _refused("CACHE_ROOT")
    assert not (system / MARKER).exists()


def test_world_writable_roots_and_parents_are_refused(roots: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    shared = roots / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # like /tmp without its sticky bit
    monkeypatch.setenv("PODNET_STATE_DIR", str(shared / "state"))
    assert "may be changed by another user" in _refused("STATE_ROOT")
    monkeypatch.setenv("PODNET_STATE_DIR", str(shared))
    assert "others may write in it" in _refused("STATE_ROOT")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a directory away")
def test_a_root_of_another_user_is_refused(roots: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    theirs = roots / "theirs"
    theirs.mkdir()
    os.chown(theirs, 65534, 65534)
    monkeypatch.setenv("PODNET_DATA_DIR", str(theirs))
    assert "belongs to uid 65534" in _refused("DATA_ROOT")


def test_a_symlinked_root_is_refused(roots: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (roots / "elsewhere").mkdir()
    (roots / "link").symlink_to(roots / "elsewhere")
    monkeypatch.setenv("PODNET_DATA_DIR", str(roots / "link"))
    assert "not a directory" in _refused("DATA_ROOT")


def test_roots_must_not_overlap(roots: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODNET_CACHE_DIR", str(roots / "podnet_data_dir" / "cache"))
    with pytest.raises(UsageError, match="overlaps PODNET_DATA_DIR"):
        lab_state.root("CACHE_ROOT")
    monkeypatch.setenv("PODNET_CACHE_DIR", str(roots / "podnet_data_dir"))
    with pytest.raises(UsageError, match="overlaps"):
        lab_state.root("DATA_ROOT")


@pytest.mark.skipif(os.geteuid() != 0, reason="lab destroy needs root")
def test_destroy_refuses_a_cache_that_is_not_podnets(roots: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """What ``PODNET_CACHE_DIR=/var/cache podnet lab destroy`` would empty, played on a
    directory of its own."""
    from harness.lab import lab as lab_ctl

    system = roots / "var" / "cache"
    (system / "apt" / "archives").mkdir(parents=True)
    (system / "ldconfig").mkdir()
    monkeypatch.setenv("PODNET_CACHE_DIR", str(system))
    with pytest.raises(UsageError, match="it is not podnet's"):
        lab_ctl.destroy("h3t")
    assert sorted(p.name for p in system.iterdir()) == ["apt", "ldconfig"]
