"""Sessions on a target: which are alive, and the manifest of the files each one wrote.

A session is a directory ``ROOT/<target key>/<session id>/`` on the controller with
``lock``, held with an exclusive ``flock`` by the session's process for as long as it
runs, ``owner`` (its pid and command line) and ``manifest``: one JSON line per file
written or removed on the target, appended and fsync'ed *before* the file is written.
A session whose lock can be taken is not alive: what it marked is stale. A session
ended cleanly leaves no directory.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from harness import names
from harness.errors import PodnetError
from harness.fsguard import remove_tree
from harness.marks import Written, live_files, safe_path

SESSIONS_ENV = "PODNET_SESSIONS_DIR"
LOCK, OWNER, MANIFEST = "lock", "owner", "manifest"


def default_root() -> Path:
    """``$PODNET_SESSIONS_DIR``; else ``/var/lib/podnet/sessions`` as root, else the
    user's ``~/.local/state/podnet/sessions``. Persistent: a workstation's containers
    and unit files outlive a reboot, so must the record of who made them."""
    value = os.environ.get(SESSIONS_ENV)
    if value:
        return names.root_dir(SESSIONS_ENV, value)
    if os.geteuid() == 0:
        data = os.environ.get("PODNET_DATA_DIR", "/var/lib/podnet")
        return names.root_dir("PODNET_DATA_DIR", data) / "sessions"
    state = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return Path(state) / "podnet" / "sessions"


def target_key(kind: str, name: str) -> str:
    """The directory of one target's sessions: ``lab-<lab name>``, ``local-<uid>``."""
    return names.lab_name(f"{kind}-{name}")


@dataclass
class Session:
    """A session's record; ``_fd`` holds its lock (the owner's, or a cleaner's)."""

    id: str
    directory: Path
    root: Path
    _fd: int | None

    def wrote(self, path: str, *, root: bool = False) -> None:
        """Record, durably, that ``path`` is about to be written on the target."""
        if not safe_path(path):
            raise PodnetError(f"refusing to write {path!r} on the target: podnet writes "
                              "only absolute, normalised paths below a directory")
        self._append("wrote", Written(path, root))

    def removed(self, path: str, *, root: bool = False) -> None:
        self._append("removed", Written(path, root))

    def files(self) -> list[Written]:
        """What the manifest says may still exist on the target."""
        try:
            lines = (self.directory / MANIFEST).read_text().splitlines()
        except FileNotFoundError:
            return []
        events = []
        for line in lines:
            try:
                entry = json.loads(line)
                events.append((str(entry["event"]),
                               Written(str(entry["path"]), bool(entry["root"]))))
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short by a crash: its file was not written yet
        return live_files(events)

    def end(self) -> None:
        """Remove the record (everything it lists is gone) and release the lock."""
        remove_tree(self.directory, self.root)
        self.release()

    def release(self) -> None:
        """Release the lock, keeping the record for the next session to clean."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _append(self, event: str, entry: Written) -> None:
        line = json.dumps({"event": event, "path": entry.path, "root": entry.root})
        fd = os.open(self.directory / MANIFEST, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (line + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)


class SessionStore:
    """The sessions of one target, kept under ``root/key``."""

    def __init__(self, root: Path, key: str) -> None:
        self.root = root
        self.directory = root / key

    def begin(self, session_id: str) -> Session:
        """Create and lock the record of a new session. It becomes visible to others
        (renamed from a hidden name) only once locked, so it never looks dead."""
        names.run_id(session_id)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        hidden = self.directory / f".{session_id}.{os.getpid()}.new"
        hidden.mkdir(mode=0o700)
        fd = _lock(hidden / LOCK, create=True)
        assert fd is not None
        (hidden / OWNER).write_text(json.dumps({"pid": os.getpid(), "argv": sys.argv}) + "\n")
        final = self.directory / session_id
        try:
            os.rename(hidden, final)
        except OSError as exc:
            os.close(fd)
            remove_tree(hidden, self.root)
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
                raise PodnetError(
                    f"session {session_id} is already running on this target "
                    f"({owner(final)}): choose another --run-id") from None
            raise
        _fsync_dir(self.directory)
        return Session(session_id, final, self.root, fd)

    def stale(self) -> Iterator[Session]:
        """Each recorded session that is not alive, locked for its cleaner; sessions
        whose lock is held are skipped. Call :meth:`Session.end` once it is cleaned."""
        if not self.directory.is_dir():
            return
        for entry in sorted(self.directory.iterdir()):
            if not entry.is_dir() or entry.is_symlink():
                continue
            if entry.name.startswith(".") and _creator_alive(entry.name):
                continue
            fd = _lock(entry / LOCK, create=False)
            if fd is None:
                continue
            if entry.name.startswith("."):
                # a session that died while it was being created: nothing recorded yet
                os.close(fd)
                with contextlib.suppress(PodnetError, OSError):
                    remove_tree(entry, self.root)
                continue
            yield Session(entry.name, entry, self.root, fd)


def owner(directory: Path) -> str:
    try:
        data = json.loads((directory / OWNER).read_text())
        return f"pid {data['pid']}: {' '.join(data['argv'])[:120]}"
    except (OSError, ValueError, KeyError, TypeError):
        return "owner unknown"


def _lock(path: Path, *, create: bool) -> int | None:
    """An fd holding an exclusive flock on ``path``; None if another process holds it.
    A missing lock file (without ``create``) counts as free: a fresh one is locked."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        if create:
            raise PodnetError(f"{path} is locked by another process") from None
        return None
    return fd


def _creator_alive(hidden: str) -> bool:
    """Whether the process creating ``.ID.PID.new`` is still running."""
    try:
        os.kill(int(hidden.rsplit(".", 2)[-2]), 0)
    except (ValueError, IndexError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
