"""``lab up`` reads the lab's state once, decides once and acts once; it saves the
lab's state last: an ``up`` killed before the lab is complete
(baseline recorded, images loaded) leaves no state that says the lab is up, and the
next ``up`` recognises what it left as a partial lab and cleans it first."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.errors import PodnetError
from harness.lab import baseline, cgroup, identity, namespaces
from harness.lab import lab as lab_ctl
from harness.lab import state as lab_state
from harness.lab.releases import DEFAULT_RELEASE, get_release


class Killed(BaseException):
    """``kill -9`` in the middle of ``up``: no handler of podnet's runs after it."""


@pytest.fixture
def booting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``up`` with every step faked; the list records the steps in order."""
    for variable in ("PODNET_STATE_DIR", "PODNET_DATA_DIR", "PODNET_CACHE_DIR"):
        monkeypatch.setenv(variable, str(tmp_path / variable.lower()))
    steps: list[str] = []
    cached = SimpleNamespace(directory=tmp_path / "cache", rootfs=tmp_path / "rootfs",
                             image_tar=tmp_path / "image.tar",
                             storage=lambda name: tmp_path / "storage")
    monkeypatch.setattr(lab_ctl, "debian_mirror", lambda: "http://deb.example")
    monkeypatch.setattr(lab_ctl, "require_tool", lambda tool, hint: None)
    monkeypatch.setattr(lab_ctl, "ensure_built", lambda *a: cached)
    monkeypatch.setattr(namespaces, "create", lambda name: {"host1": f"{name}-host1"})
    monkeypatch.setattr(namespaces, "namespace_id", lambda path: (1, 2))
    monkeypatch.setattr(cgroup, "create", lambda name: tmp_path / "cgroup")
    monkeypatch.setattr(lab_ctl, "boot", lambda *a: 4242)
    monkeypatch.setattr(identity, "read", lambda pid: identity.ProcessIdentity(
        pid, "systemd", 99, (1, 2)))
    monkeypatch.setattr(lab_ctl, "wait_booted", lambda *a: steps.append("booted"))
    monkeypatch.setattr(baseline, "capture", lambda target: "snapshot")
    monkeypatch.setattr(baseline, "save", lambda name, snap: steps.append("baseline"))
    monkeypatch.setattr(lab_ctl, "_reset_containers", lambda target: steps.append("reset"))
    # the cleaning of a failed ``up`` does not run: the process was killed
    monkeypatch.setattr(lab_ctl, "_stop", lambda name, state: steps.append("down"))
    monkeypatch.setattr(identity, "is_up", lambda st: True)  # host1 would be systemd
    return steps


def test_up_killed_before_its_images_does_not_count_as_up(
        booting: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def images(*_: object) -> None:
        raise Killed

    monkeypatch.setattr(lab_ctl, "ensure_images", images)
    with pytest.raises(Killed):
        lab_ctl._up("h3t", get_release(DEFAULT_RELEASE), lambda _: None)
    assert booting[:3] == ["booted", "baseline", "reset"]
    assert lab_state.load("h3t") is None, "a lab without its images was saved as up"
    assert not lab_ctl.status("h3t").up


def test_a_complete_up_saves_the_state_after_its_images(
        booting: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def images(target: object, *_: object) -> None:
        assert lab_state.load("h3t") is None
        booting.append("images")

    monkeypatch.setattr(lab_ctl, "ensure_images", images)
    lab_ctl._up("h3t", get_release(DEFAULT_RELEASE), lambda _: None)
    assert booting == ["booted", "baseline", "reset", "images"]
    saved = lab_state.load("h3t")
    assert saved is not None and saved.init_pid == 4242 and lab_ctl.status("h3t").up


def test_a_partial_lab_is_cleaned_before_the_next_up(
        booting: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    said: list[str] = []
    monkeypatch.setattr(lab_ctl, "status", lambda name: lab_ctl.LabStatus(
        name, False, None, [f"{name}-host1"]))
    monkeypatch.setattr(lab_ctl, "ensure_images", lambda *a: None)
    lab_ctl._up("h3t", get_release(DEFAULT_RELEASE), said.append)
    assert booting[0] == "down" and "did not finish" in said[0]


def test_state_is_written_atomically(booting: list[str], monkeypatch: pytest.MonkeyPatch
                                     ) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    state = lab_state.LabState("h3t", "trixie", 1, "/c", {}, "/g", 0.0)
    lab_state.save(state)
    assert synced, "the state file was not flushed to disk before it replaced the old one"
    leftovers = [p.name for p in lab_state.root("STATE_ROOT").iterdir() if p.name != lab_state.MARKER]
    assert leftovers == ["h3t.json"] and lab_state.load("h3t") == state


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every read of a lab's state file, by lab name."""
    read: list[str] = []
    real = lab_state.load

    def counted(name: str) -> lab_state.LabState | None:
        read.append(name)
        return real(name)

    monkeypatch.setattr(lab_state, "load", counted)
    return read


def _saved(release: str = DEFAULT_RELEASE) -> lab_state.LabState:
    state = lab_state.LabState("h3t", release, 4242, "/c", {"host1": "h3t-host1"}, "/g", 0.0)
    lab_state.save(state)
    return state


def test_up_on_a_lab_that_is_up_reads_its_state_once(
        booting: list[str], loads: list[str]) -> None:
    """``podnet verify`` on a lab that is up: one read, and nothing done."""
    state = _saved()
    running = lab_ctl.up("h3t", DEFAULT_RELEASE, replace=True)
    assert loads == ["h3t"] and not running.booted and running.target.state == state
    assert booting == []


def test_up_replacing_another_release_reads_its_state_once(
        booting: list[str], loads: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A lab up with another release: one read, down with that state, one boot."""
    old = _saved("bookworm")
    stopped: list[lab_state.LabState | None] = []
    monkeypatch.setattr(lab_ctl, "_stop", lambda name, state: (
        stopped.append(state), lab_state.remove(name)))
    monkeypatch.setattr(lab_ctl, "ensure_images", lambda *a: None)
    running = lab_ctl.up("h3t", DEFAULT_RELEASE, replace=True)
    assert running.booted and stopped == [old] and loads == ["h3t"]
    assert booting == ["booted", "baseline", "reset"]


def test_up_refuses_another_release_without_replace(booting: list[str]) -> None:
    _saved("bookworm")
    with pytest.raises(PodnetError, match="is up with bookworm, not trixie"):
        lab_ctl.up("h3t", "trixie")
    assert booting == []


def test_a_session_on_a_lab_that_is_up_reads_its_state_once(
        booting: list[str], loads: list[str]) -> None:
    state = _saved()
    said: list[str] = []
    with lab_ctl.session("h3t", DEFAULT_RELEASE, keep=False, say=said.append) as target:
        assert target.state == state
    assert loads == ["h3t"] and booting == []
