"""A session's record is removed only when everything it marked is verified gone: a
listing that fails, a file removal that fails, root steps that could not run each keep
the record for the next session (fake target, argv recorded)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.sessions import ownership
from harness.sessions.cleanup import marked_session
from harness.sessions.records import SessionStore
from tests.test_sessions import DEAD, NEW, FakeTarget, HereTarget, dead_record
from tests.test_sessions import records as _records

UNIT = "/home/test/.config/systemd/user/podnet-web-abc123.socket"


@pytest.fixture
def store(tmp_path: Path) -> SessionStore:
    return SessionStore.on(HereTarget(tmp_path / "home"))


def _dead(store: SessionStore, *paths: str, root: bool = False) -> None:
    dead_record(store, DEAD, *paths, root=root)


def test_failed_podman_listing_is_not_nothing_left(store: SessionStore) -> None:
    _dead(store)
    target = FakeTarget({"containers": [{"Id": "c", "Labels": {ownership.LABEL: DEAD}}]})
    target.failing.add("containers")
    with marked_session(target, NEW, store):
        pass
    assert _records(store) == [DEAD, NEW]  # its own end is not verified either
    assert not any(argv[:2] == ("podman", "rm") for argv, _ in target.calls)
    target.failing.clear()  # podman answers again: the next session cleans it
    with marked_session(target, "20261128T000003Z-dddddd", store):
        pass
    assert ("podman", "rm", "--force", "--time", "0", "c") in [a for a, _ in target.calls]
    assert _records(store) == []


def test_failed_file_removal_keeps_the_manifest(store: SessionStore) -> None:
    _dead(store, UNIT)
    target = FakeTarget()
    target.existing.add(UNIT)
    target.failing_rm.add((UNIT,))
    with marked_session(target, NEW, store):
        pass
    assert _records(store) == [DEAD]


def test_failed_file_listing_keeps_the_manifest(store: SessionStore) -> None:
    _dead(store, UNIT)
    target = FakeTarget()
    target.failing.add("present")
    with marked_session(target, NEW, store):
        pass
    assert _records(store) == [DEAD]


class NoRoot(FakeTarget):
    @property
    def can_root(self) -> bool:
        return False


def test_skipped_root_steps_keep_the_manifest(store: SessionStore) -> None:
    _dead(store, "/etc/systemd/system/podnet-web-system-abc123.socket", root=True)
    target = NoRoot()
    with marked_session(target, NEW, store):
        pass
    assert _records(store) == [DEAD]
    assert not any(root for _, root in target.calls)


def test_everything_verified_gone_removes_the_record(store: SessionStore) -> None:
    _dead(store, UNIT)
    target = FakeTarget({"containers": [{"Id": "c", "Labels": {ownership.LABEL: DEAD}}]})
    target.existing.add(UNIT)
    with marked_session(target, NEW, store):
        pass
    assert _records(store) == []
    assert UNIT not in target.existing
