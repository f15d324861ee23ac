"""Locks between podnet processes, so no command tears down another's lab or build.

* the lab lock: ``lab up``, ``down`` and ``destroy`` hold it exclusively; a pytest
  session or ``podnet verify`` holds it shared for as long as it uses the lab;
* the session lock: one session per lab at a time (two sessions in one lab collide on
  unit names and ports and would record each other's interference as results);
* the cache lock of a release: one build of that release's root file system at a time.

They are POSIX record locks (``fcntl``) on files under the state root: the kernel drops
them when their process ends, however it ends, and converts a held lock between shared
and exclusive in place (``flock`` releases it first), so a session that holds its lab
shared can bring the lab up or down without letting another command in between. Locks
are re-entrant within a process. A busy lock names its holders from ``/proc/locks``
(pid and command line); the holder also writes its pid and command line into the file.

Locks are taken in one order only: session, lab, cache.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import PodnetError
from harness.lab import state as lab_state

#: How long a command waits for a lab or target another command holds: 60 s unless
#: ``--lock-wait`` (PODNET_LOCK_WAIT) says otherwise (:func:`set_wait`); read when a lock
#: is taken.
LAB_WAIT = 60.0
PROC_LOCKS = Path("/proc/locks")
Note = Callable[[str], None]


class LockBusy(PodnetError):
    """Another process held the lock for longer than the wait allowed."""


def to_stderr(text: str) -> None:
    print(f"podnet: {text}", file=sys.stderr, flush=True)


@dataclass
class _Held:
    fd: int
    #: One entry per nested hold in this process, innermost last: exclusive or not.
    modes: list[bool] = field(default_factory=list)

    @property
    def exclusive(self) -> bool:
        return any(self.modes)


_HELD: dict[Path, _Held] = {}


def lock_path(kind: str, name: str) -> Path:
    return lab_state.owned("STATE_ROOT") / "locks" / f"{kind}-{name}.lock"


def lab_names() -> list[str]:
    """Every lab that ever took its lock on this machine (booting ones included: a
    booting lab has no state file yet, but holds its lock)."""
    found = {path.name[len("lab-"):-len(".lock")]
             for path in (lab_state.root("STATE_ROOT") / "locks").glob("lab-*.lock")}
    return sorted(found | {s.name for s in lab_state.all_states()})


def set_wait(seconds: float) -> None:
    """This process's :data:`LAB_WAIT` (``--lock-wait``)."""
    global LAB_WAIT
    LAB_WAIT = seconds


def lab_lock(name: str, *, exclusive: bool, wait: float | None = None,
             note: Note = to_stderr) -> contextlib.AbstractContextManager[None]:
    return hold(lock_path("lab", name), exclusive=exclusive, what=f"lab '{name}'", wait=wait,
                note=note)


#: ``podnet verify`` holds a lab's session lock for its whole job and runs the checks in
#: pytest workers, other processes: ``<lab name>:<pid>`` in their environment says that
#: their ancestor ``pid`` holds the lab's session for them.
HANDED_DOWN = "PODNET_SESSION_HOLDER"


def hand_down(name: str) -> dict[str, str]:
    """The environment entry by which this process, holding lab ``name``'s session lock,
    lends it to the processes it starts."""
    return {HANDED_DOWN: f"{name}:{os.getpid()}"}


def _handed_down(name: str) -> bool:
    """Lab ``name``'s session lock is held, exclusively, by an ancestor of this process
    that lent it (:func:`hand_down`)."""
    lab, _, pid = os.environ.get(HANDED_DOWN, "").rpartition(":")
    if lab != name or not pid.isdigit():
        return False
    lender = int(pid)
    return lender in _ancestors() and any(
        h.pid == lender and h.exclusive for h in holders(lock_path("session", name)))


def _ancestors() -> set[int]:
    found, pid = set(), os.getppid()
    while pid > 1 and pid not in found:
        found.add(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            break
        pid = int(stat.rpartition(")")[2].split()[1])
    return found


@contextlib.contextmanager
def session_lock(name: str, *, wait: float | None = None, note: Note = to_stderr
                 ) -> Iterator[None]:
    """What a pytest session or ``podnet verify`` holds while it uses lab ``name`` (a
    session that an ancestor lent it, :func:`hand_down`, holds only the lab lock)."""
    own = contextlib.nullcontext() if _handed_down(name) else hold(
        lock_path("session", name), exclusive=True, what=f"a test session in lab '{name}'",
        wait=wait, note=note)
    with own, lab_lock(name, exclusive=False, wait=wait, note=note):
        yield


def cache_lock(release: str, *, wait: float) -> contextlib.AbstractContextManager[None]:
    return hold(lock_path("cache", release), exclusive=True,
                what=f"the {release} root file system build", wait=wait, note=to_stderr)


@contextlib.contextmanager
def hold(path: Path, *, exclusive: bool, what: str, wait: float | None, note: Note
         ) -> Iterator[None]:
    """Hold ``path`` shared or exclusive; wait at most ``wait`` seconds (None:
    :data:`LAB_WAIT`) for it, then raise :class:`LockBusy` naming the holders."""
    wait = LAB_WAIT if wait is None else wait
    held = _HELD.get(path)
    if held is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        held = _Held(os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644))
        _HELD[path] = held
    before = held.exclusive if held.modes else None
    wanted = bool(before) or exclusive
    try:
        if wanted != before:
            _acquire(held.fd, path, wanted, what, wait, note)
    except BaseException:
        if not held.modes:
            _release(path, held)
        raise
    held.modes.append(exclusive)
    if wanted and not before:
        _write_holder(held.fd)
    try:
        yield
    finally:
        held.modes.pop()
        if not held.modes:
            _release(path, held)
        elif held.exclusive != wanted:
            fcntl.lockf(held.fd, fcntl.LOCK_SH)  # in place: nobody gets in between


def _acquire(fd: int, path: Path, exclusive: bool, what: str, wait: float, note: Note) -> None:
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    deadline = time.monotonic() + wait
    noted = False
    while True:
        try:
            fcntl.lockf(fd, mode | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
        who = describe(holders(path))
        if time.monotonic() >= deadline:
            raise LockBusy(f"{what} is in use by {who}: waited {wait:g} s; "
                           "try again when it has finished")
        if not noted:
            note(f"{what} is in use by {who}; waiting up to {wait:g} s")
            noted = True
        time.sleep(0.2)


def _release(path: Path, held: _Held) -> None:
    _HELD.pop(path, None)
    os.close(held.fd)  # closing drops this process's locks on the file


def _write_holder(fd: int) -> None:
    line = f"{os.getpid()} {_cmdline(os.getpid())}\n".encode()
    os.ftruncate(fd, 0)
    os.pwrite(fd, line, 0)


@dataclass(frozen=True)
class Holder:
    pid: int
    exclusive: bool
    command: str


def holders(path: Path, proc_locks: Path = PROC_LOCKS) -> list[Holder]:
    """Other processes holding a lock on ``path``, from the kernel's lock table."""
    try:
        info = os.stat(path)
        table = proc_locks.read_text()
    except OSError:
        return []
    return parse_locks(table, os.major(info.st_dev), os.minor(info.st_dev), info.st_ino)


def parse_locks(table: str, major: int, minor: int, inode: int) -> list[Holder]:
    wanted = f"{major:02x}:{minor:02x}:{inode}"
    # "1: POSIX  ADVISORY  WRITE 3061 fe:00:16637954 0 EOF"; "1: -> ..." is a waiter
    locks = [(int(fields[4]), fields[3] == "WRITE") for fields in map(str.split, table.splitlines())
             if len(fields) >= 6 and fields[1] != "->" and fields[5] == wanted]
    return [Holder(pid, write, _cmdline(pid)) for pid, write in locks
            if pid != os.getpid() and pid > 0]


def describe(found: list[Holder]) -> str:
    if not found:
        return "another process (it has just let go)"
    return ", ".join(f"pid {h.pid} ({h.command})" for h in found)


def _cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    # one line, whatever the arguments hold
    text = " ".join(raw.replace(b"\0", b" ").decode(errors="replace").split())
    return text if len(text) <= 120 else text[:117] + "..."
