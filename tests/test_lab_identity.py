"""harness.lab.identity: host1's init is recognised by its start time and network
namespace, never by its PID alone. A reused PID, even one that belongs to another
``systemd``, is neither seen as the lab nor signalled nor entered."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.errors import LabNotUp
from harness.lab import identity
from harness.lab import lab as lab_ctl
from harness.lab import state as lab_state
from harness.lab.state import LabState
from harness.lab.target import LabTarget

PID = 4242
START = 987654


def _state(name: str = "h3t", pid: int = PID, start: int = START,
           netns: tuple[int, int] = (0, 0)) -> LabState:
    return LabState(name, "trixie", pid, "/var/cache/podnet/trixie-x",
                    {"host1": f"{name}-host1", "host2": f"{name}-host2"},
                    f"/sys/fs/cgroup/{name}.lab", 0.0, start, netns)


def _ns_id(path: Path) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_dev, info.st_ino


@pytest.fixture
def fake(tmp_path: Path) -> Path:
    """A /proc-like tree and a /run/netns-like directory: pid 4242 is a systemd whose
    network namespace is the file ``ns-a``, which is also <lab>-host1."""
    proc, netns_dir = tmp_path / "proc", tmp_path / "netns"
    (proc / str(PID) / "ns").mkdir(parents=True)
    netns_dir.mkdir()
    for name in ("ns-a", "ns-b"):
        (tmp_path / name).write_text(name)
    _write_stat(proc, PID, "systemd", "S", START)
    (proc / str(PID) / "ns" / "net").symlink_to(tmp_path / "ns-a")
    (netns_dir / "h3t-host1").symlink_to(tmp_path / "ns-a")
    return tmp_path


def _write_stat(proc: Path, pid: int, comm: str, status: str, start: int) -> None:
    # fields 3..22: state, ppid, pgrp, session, tty, tpgid, flags, 4 fault counters,
    # utime, stime, cutime, cstime, priority, nice, threads, itrealvalue, starttime
    rest = [status, "1", "1", "1", "0", "-1", "4194560"] + ["0"] * 12 + [str(start)]
    (proc / str(pid) / "stat").write_text(f"{pid} ({comm}) {' '.join(rest)} 0 0 0\n")


def _check(fake: Path, state: LabState) -> identity.ProcessIdentity | None:
    return identity.lab_init(state, fake / "proc", fake / "netns")


def test_the_recorded_init_is_recognised(fake: Path) -> None:
    state = _state(netns=_ns_id(fake / "ns-a"))
    found = _check(fake, state)
    assert found is not None and (found.comm, found.start) == ("systemd", START)
    assert identity.is_up(state, fake / "proc", fake / "netns")


def test_a_reused_pid_with_another_start_time_is_not_the_lab(fake: Path) -> None:
    assert _check(fake, _state(start=START + 1, netns=_ns_id(fake / "ns-a"))) is None


def test_a_process_in_another_network_namespace_is_not_the_lab(fake: Path) -> None:
    assert _check(fake, _state(netns=_ns_id(fake / "ns-b"))) is None
    # ... nor when the lab's namespace file now names another namespace
    (fake / "netns" / "h3t-host1").unlink()
    (fake / "netns" / "h3t-host1").symlink_to(fake / "ns-b")
    assert _check(fake, _state(netns=_ns_id(fake / "ns-a"))) is None


def test_a_lab_whose_namespace_is_gone_is_not_up(fake: Path) -> None:
    (fake / "netns" / "h3t-host1").unlink()
    assert _check(fake, _state(netns=_ns_id(fake / "ns-a"))) is None


def test_zombies_and_missing_processes_are_not_the_lab(fake: Path) -> None:
    _write_stat(fake / "proc", PID, "systemd", "Z", START)
    assert _check(fake, _state(netns=_ns_id(fake / "ns-a"))) is None
    assert _check(fake, _state(pid=PID + 1, netns=_ns_id(fake / "ns-a"))) is None


def test_booting_init_is_the_lab_but_not_up(fake: Path) -> None:
    _write_stat(fake / "proc", PID, "sh", "S", START)  # before it execs systemd
    state = _state(netns=_ns_id(fake / "ns-a"))
    assert _check(fake, state) is not None
    assert not identity.is_up(state, fake / "proc", fake / "netns")


def test_an_older_state_file_is_checked_by_its_namespace(fake: Path) -> None:
    legacy = _state(start=0)  # written before identities were recorded
    assert _check(fake, legacy) is not None
    (fake / "netns" / "h3t-host1").unlink()
    (fake / "netns" / "h3t-host1").symlink_to(fake / "ns-b")
    assert _check(fake, legacy) is None
    loaded = LabState.from_json('{"name": "h3t", "release": "trixie", "init_pid": 1, '
                                '"cache_dir": "/x", "netns": {}, "cgroup": "/y", "started": 0}')
    assert (loaded.init_start, loaded.host1_netns) == (0, (0, 0))
    assert LabState.from_json(_state(netns=(5, 6)).to_json()).host1_netns == (5, 6)


# --- a real process with a reused PID -------------------------------------------------

@pytest.fixture
def impostor(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A process named ``systemd`` that is not any lab's init."""
    binary = tmp_path / "systemd"
    shutil.copy("/bin/sleep", binary)
    proc = subprocess.Popen([str(binary), "300"])
    yield proc
    proc.kill()
    proc.wait()


@pytest.fixture
def lab_roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("PODNET_STATE_DIR", "PODNET_DATA_DIR", "PODNET_CACHE_DIR"):
        monkeypatch.setenv(variable, str(tmp_path / variable.lower()))


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root: a network namespace and down")
def test_status_down_and_target_leave_a_reused_pid_alone(
        impostor: subprocess.Popen[bytes], lab_roots: None) -> None:
    """The state claims the impostor's PID, with its real start time, while the lab's
    host1 namespace exists: the impostor lives in another namespace, so the lab is
    not up, nothing enters it, and down does not kill it."""
    name = f"h3t{uuid.uuid4().hex[:6]}"
    subprocess.run(["ip", "netns", "add", f"{name}-host1"], check=True)
    try:
        real = identity.read(impostor.pid)
        assert real is not None and real.comm == "systemd"
        host1 = _ns_id(Path("/run/netns") / f"{name}-host1")
        for start, netns in ((real.start, host1), (real.start + 1, real.netns),
                             (real.start, real.netns)):
            state = LabState(name, "trixie", impostor.pid, "/x", {"host1": f"{name}-host1"},
                             "/y", 0.0, start, netns)
            lab_state.save(state)
            assert not lab_ctl.status(name).up
            with pytest.raises(LabNotUp):
                LabTarget(name)
        lab_ctl.down(name)
        assert impostor.poll() is None, "down killed a process that is not the lab's"
        assert not (Path("/run/netns") / f"{name}-host1").exists()
        assert lab_state.load(name) is None
    finally:
        subprocess.run(["ip", "netns", "delete", f"{name}-host1"], check=False,
                       capture_output=True)


def test_entering_checks_identity_every_time(fake: Path, monkeypatch: pytest.MonkeyPatch,
                                             lab_roots: None) -> None:
    """A LabTarget whose init has since been replaced refuses to run anything."""
    state = _state(netns=_ns_id(fake / "ns-a"))
    monkeypatch.setattr(lab_state, "load", lambda name: state)
    monkeypatch.setattr(identity, "is_up", lambda st: True)  # up when it was made
    target = LabTarget("h3t")
    monkeypatch.setattr(identity, "lab_init", lambda st: None)  # init replaced since
    with pytest.raises(LabNotUp):
        target.run(["true"])
