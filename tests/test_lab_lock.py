"""harness.lab.lock: bounded waits naming the holder, shared and exclusive holds,
re-entrant holds that convert in place, and locks that die with their process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.lab import lock

REPO = Path(__file__).resolve().parent.parent
HOLDER = """
import sys, time
from harness.lab import lock
kind, name, mode = sys.argv[1:4]
if kind == "session":
    held = lock.session_lock(name, wait=0)
else:
    held = lock.lab_lock(name, exclusive=mode == "ex", wait=0)
with held:
    print("held", flush=True)
    time.sleep(60)
"""


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "state"
    monkeypatch.setenv("PODNET_STATE_DIR", str(root))
    return root


@pytest.fixture
def other(state_dir: Path) -> Iterator[list[subprocess.Popen[str]]]:
    """Start holders in other processes: ``other.append(...)`` via :func:`_hold`."""
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for proc in procs:
        proc.kill()
        proc.wait()


def _hold(procs: list[subprocess.Popen[str]], kind: str, name: str, mode: str = "ex",
          ) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, kind, name, mode], cwd=REPO,
                            stdout=subprocess.PIPE, text=True)
    procs.append(proc)
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    return proc


def test_busy_lab_waits_bounded_and_names_the_holder(other: list[subprocess.Popen[str]]) -> None:
    holder = _hold(other, "lab", "h3t", "ex")
    notes: list[str] = []
    started = time.monotonic()
    with pytest.raises(lock.LockBusy) as info, \
            lock.lab_lock("h3t", exclusive=True, wait=0.6, note=notes.append):
        pass
    assert 0.6 <= time.monotonic() - started < 3
    message = str(info.value)
    assert f"pid {holder.pid} (" in message and HOLDER.split()[0] in message
    assert message.startswith("lab 'h3t' is in use by pid") and "\n" not in message
    assert len(notes) == 1 and "waiting up to 0.6 s" in notes[0]


@pytest.mark.parametrize("given", [["--lock-wait", "0.5"], []], ids=["option", "variable"])
def test_the_wait_is_the_users_to_choose(other: list[subprocess.Popen[str]], given: list[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """``--lock-wait`` (or PODNET_LOCK_WAIT) bounds the wait of a command that finds the
    lab busy; the wrong world, any other wait, is told apart by the message and the time."""
    monkeypatch.setattr(lock, "LAB_WAIT", lock.LAB_WAIT)  # the command sets it
    if not given:
        monkeypatch.setenv("PODNET_LOCK_WAIT", "0.5")
    holder = _hold(other, "lab", "h3t", "ex")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "harness.cli", *given, "--name", "h3t",
                           "lab", "down"], cwd=REPO, capture_output=True, text=True,
                          timeout=30)
    assert 0.5 <= time.monotonic() - started < 10
    assert done.returncode == 2, done.stderr
    assert f"lab 'h3t' is in use by pid {holder.pid}" in done.stderr
    assert "waited 0.5 s" in done.stderr and "Traceback" not in done.stderr


def test_the_holder_writes_its_pid_and_command(other: list[subprocess.Popen[str]]) -> None:
    holder = _hold(other, "lab", "h3t", "ex")
    text = lock.lock_path("lab", "h3t").read_text()
    assert text.startswith(f"{holder.pid} ") and "-c" in text


def test_shared_holds_coexist_and_exclude_exclusive(other: list[subprocess.Popen[str]]) -> None:
    _hold(other, "lab", "h3t", "sh")
    with lock.lab_lock("h3t", exclusive=False, wait=0):
        pass
    with pytest.raises(lock.LockBusy), lock.lab_lock("h3t", exclusive=True, wait=0.2):
        pass


def test_one_session_per_lab(other: list[subprocess.Popen[str]]) -> None:
    holder = _hold(other, "session", "h3t")
    with pytest.raises(lock.LockBusy) as info, lock.session_lock("h3t", wait=0.2):
        pass
    assert "a test session in lab 'h3t'" in str(info.value)
    assert f"pid {holder.pid}" in str(info.value)
    # A session keeps `lab up/down` out as well.
    with pytest.raises(lock.LockBusy), lock.lab_lock("h3t", exclusive=True, wait=0.2):
        pass
    with lock.session_lock("other-lab", wait=0):  # other labs are not affected
        pass


def test_a_lock_dies_with_its_process(other: list[subprocess.Popen[str]]) -> None:
    holder = _hold(other, "lab", "h3t", "ex")
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    with lock.lab_lock("h3t", exclusive=True, wait=5):
        pass


def test_reentrant_upgrade_and_in_place_downgrade(other: list[subprocess.Popen[str]]) -> None:
    """A session (shared) brings its lab up (exclusive) without deadlocking with itself,
    and keeps holding it shared afterwards, with nobody let in between."""
    with lock.session_lock("h3t", wait=0):
        with lock.lab_lock("h3t", exclusive=True, wait=0):
            with lock.lab_lock("h3t", exclusive=True, wait=0):  # down inside up
                pass
            probe = subprocess.run([sys.executable, "-c", HOLDER, "lab", "h3t", "sh"],
                                   cwd=REPO, capture_output=True, text=True, timeout=30)
            assert probe.returncode != 0 and "LockBusy" in probe.stderr
        # downgraded, still held: another shared holder may join, an exclusive may not
        sharer = _hold(other, "lab", "h3t", "sh")
        sharer.kill()
        sharer.wait()
        probe = subprocess.run([sys.executable, "-c", HOLDER, "lab", "h3t", "ex"],
                               cwd=REPO, capture_output=True, text=True, timeout=30)
        assert probe.returncode != 0 and "LockBusy" in probe.stderr
    _hold(other, "lab", "h3t", "ex")  # all released


def test_a_failed_wait_keeps_nothing(other: list[subprocess.Popen[str]]) -> None:
    held_before = dict(lock._HELD)  # a suite in this process may hold its own lab's locks
    holder = _hold(other, "lab", "h3t", "ex")
    with pytest.raises(lock.LockBusy), lock.lab_lock("h3t", exclusive=False, wait=0):
        pass
    assert held_before == lock._HELD
    holder.kill()
    holder.wait()
    with lock.lab_lock("h3t", exclusive=True, wait=5):
        pass


def test_parse_locks_reads_the_kernel_table() -> None:
    table = (
        "1: POSIX  ADVISORY  WRITE 3061 fe:00:16637954 0 EOF\n"
        "1: -> POSIX  ADVISORY  WRITE 3099 fe:00:16637954 0 EOF\n"
        "2: POSIX  ADVISORY  READ 1 fe:00:16637954 0 EOF\n"
        "3: FLOCK  ADVISORY  WRITE 4000 fe:00:99 0 EOF\n"
        "4: POSIX  ADVISORY  READ 4001 00:1a:16637954 0 EOF\n"
    )
    found = lock.parse_locks(table, 0xfe, 0, 16637954)
    assert [(h.pid, h.exclusive) for h in found] == [(3061, True), (1, False)]
    assert lock.describe([]) == "another process (it has just let go)"


@pytest.mark.skipif(os.geteuid() != 0, reason="lab destroy needs root")
def test_destroy_waits_for_a_booting_lab(other: list[subprocess.Popen[str]], tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A lab being brought up holds its lock and has no state file yet: destroy must
    not empty the cache under it."""
    for variable in ("PODNET_CACHE_DIR", "PODNET_DATA_DIR"):
        monkeypatch.setenv(variable, str(tmp_path / variable.lower()))
    monkeypatch.setattr(lock, "LAB_WAIT", 0.3)
    from harness.lab import state as lab_state

    rootfs = lab_state.owned("CACHE_ROOT") / "trixie-0123"
    rootfs.mkdir()
    booting = _hold(other, "lab", "boot1", "ex")
    from harness.lab import lab as lab_ctl

    with pytest.raises(lock.LockBusy) as info:
        lab_ctl.destroy("h3t")
    assert f"lab 'boot1' is in use by pid {booting.pid}" in str(info.value)
    assert rootfs.is_dir()


LENDER = """
import os, subprocess, sys
from harness.lab import lock
name, child = sys.argv[1:3]
with lock.session_lock(name, wait=0):
    env = {**os.environ, **lock.hand_down(name)}
    done = subprocess.run([sys.executable, "-c", child, name], env=env, capture_output=True,
                          text=True)
    print(done.stdout.strip() or done.stderr.strip().splitlines()[-1], flush=True)
"""
TAKER = """
import sys
from harness.lab import lock
with lock.session_lock(sys.argv[1], wait=0):
    print("taken")
"""


def test_a_session_lent_by_an_ancestor_is_taken_without_waiting() -> None:
    """podnet verify holds the lab's session and runs its checks in pytest workers: a
    worker it started checks in that lab at once (it waited and gave up before)."""
    done = subprocess.run([sys.executable, "-c", LENDER, "h3t", TAKER], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "taken", done.stderr


def test_a_lent_session_is_not_taken_by_a_stranger(other: list[subprocess.Popen[str]],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment entry alone lends nothing: the lender must be an ancestor that
    holds the session lock."""
    holder = _hold(other, "session", "h3t")
    monkeypatch.setenv(lock.HANDED_DOWN, f"h3t:{holder.pid}")
    with pytest.raises(lock.LockBusy), lock.session_lock("h3t", wait=0):
        pass
    monkeypatch.setenv(lock.HANDED_DOWN, f"h3t:{os.getppid()}")  # an ancestor, not holding
    with pytest.raises(lock.LockBusy), lock.session_lock("h3t", wait=0):
        pass
