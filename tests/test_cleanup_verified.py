"""A session's record is removed only when everything it marked is verified gone: a
listing that fails, a file removal that fails, root steps that could not run each keep
the record for the next session (fake target, argv recorded)."""

from __future__ import annotations

from pathlib import Path

from harness import marks
from harness.cleanup import marked_session
from harness.sessions import SessionStore
from tests.test_sessions import DEAD, NEW, FakeTarget

UNIT = "/home/test/.config/systemd/user/podnet-web-abc123.socket"


def _dead(tmp_path: Path, *paths: str, root: bool = False) -> None:
    dead = SessionStore(tmp_path, "lab-x").begin(DEAD)
    for path in paths:
        dead.wrote(path, root=root)
    dead.release()


def _records(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "lab-x").iterdir())


def test_failed_podman_listing_is_not_nothing_left(tmp_path: Path) -> None:
    _dead(tmp_path)
    target = FakeTarget({"containers": [{"Id": "c", "Labels": {marks.LABEL: DEAD}}]})
    target.failing.add("containers")
    with marked_session(target, "lab-x", NEW, root=tmp_path):
        pass
    assert _records(tmp_path) == [DEAD, NEW]  # its own end is not verified either
    assert not any(argv[:2] == ("podman", "rm") for argv, _ in target.calls)
    target.failing.clear()  # podman answers again: the next session cleans it
    with marked_session(target, "lab-x", "20261128T000003Z-dddddd", root=tmp_path):
        pass
    assert ("podman", "rm", "--force", "--time", "0", "c") in [a for a, _ in target.calls]
    assert _records(tmp_path) == []


def test_failed_file_removal_keeps_the_manifest(tmp_path: Path) -> None:
    _dead(tmp_path, UNIT)
    target = FakeTarget()
    target.existing.add(UNIT)
    target.failing_rm.add((UNIT,))
    with marked_session(target, "lab-x", NEW, root=tmp_path):
        pass
    assert _records(tmp_path) == [DEAD]


def test_failed_file_listing_keeps_the_manifest(tmp_path: Path) -> None:
    _dead(tmp_path, UNIT)
    target = FakeTarget()
    target.failing.add("present")
    with marked_session(target, "lab-x", NEW, root=tmp_path):
        pass
    assert _records(tmp_path) == [DEAD]


class NoRoot(FakeTarget):
    @property
    def can_root(self) -> bool:
        return False


def test_skipped_root_steps_keep_the_manifest(tmp_path: Path) -> None:
    _dead(tmp_path, "/etc/systemd/system/podnet-web-system-abc123.socket", root=True)
    target = NoRoot()
    with marked_session(target, "lab-x", NEW, root=tmp_path):
        pass
    assert _records(tmp_path) == [DEAD]
    assert not any(root for _, root in target.calls)


def test_everything_verified_gone_removes_the_record(tmp_path: Path) -> None:
    _dead(tmp_path, UNIT)
    target = FakeTarget({"containers": [{"Id": "c", "Labels": {marks.LABEL: DEAD}}]})
    target.existing.add(UNIT)
    with marked_session(target, "lab-x", NEW, root=tmp_path):
        pass
    assert _records(tmp_path) == []
    assert UNIT not in target.existing
