"""Sessions on a target: which one is running, and the manifest of the files each wrote.

The records live on the target itself, written as its rootless user, in
``~/.local/state/podnet/sessions/<machine id>-<uid>/``: the machine's ``/etc/machine-id``
and the user's uid as the target answers them. So every way of naming one target meets
the same records and the same lock: root with ``--local-user alice`` and alice herself,
``ssh://alice@host`` and ``ssh://alice@10.0.0.5``, ``local`` and ``ssh://me@localhost``.

* ``lock``: held with ``flock`` by a process on the target for as long as a session
  runs (:meth:`SessionStore.hold`). The process reads its stdin from podnet and ends
  when podnet closes it or dies (an ssh channel that closes does the same), so the lock
  ends with the session however it ends. The holder writes one line naming itself into
  the file; a second session waits for it (bounded), then gives up naming it.
* ``<session id>/owner`` and ``<session id>/manifest``: one JSON line per file written
  or removed on the target, appended and flushed to disk *before* the file is written.
* ``kept-images``: the images kept with ``--keep-image`` on this target.

A store begins sessions only while it holds the lock: every other record there belongs
to a session that is no longer running, and what it marked is stale. A session ended
cleanly leaves no record.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from harness import names
from harness.errors import PodnetError
from harness.lab import lock
from harness.lab.lock import LockBusy, Note, to_stderr
from harness.run import Completed
from harness.sessions.ownership import Written, live_files, safe_path

#: Where a target's records live, relative to its user's home.
RECORDS_DIR = ".local/state/podnet/sessions"
LOCK, OWNER, MANIFEST, KEPT_IMAGES = "lock", "owner", "manifest", "kept-images"
#: What the target answers about itself: machine id, uid, home (one a line).
IDENTITY = ('cat /etc/machine-id 2>/dev/null || cat /var/lib/dbus/machine-id 2>/dev/null; '
            'id -u; printf "%s\\n" "$HOME"')
MACHINE_ID = re.compile(r"[0-9a-f]{32}")
#: Run on the target as its user: take the lock (waiting at most $2 seconds), say who
#: holds it meanwhile, write the holder line, hold it until a line or the end of stdin
#: (a line: a process that inherited the pipe cannot keep it held). Then, when
#: nothing else is recorded, leave no trace: the lock file (removed while still held:
#: a waiter that then gets the removed file's lock sees it is not the file's any more
#: and locks the new one) and the directories made for it, when empty.
HOLD = r"""
dir=$1 wait=$2 holder=$3
command -v flock >/dev/null || { echo "noflock"; exit 1; }
umask 077
made= d=$dir
while [ ! -e "$d" ] && [ "$d" != "$HOME" ] && [ "$d" != / ]; do
    made="$made$d
"
    d=${d%/*}
done
while :; do
    mkdir -p -- "$dir" && exec 9>>"$dir/lock" || { echo "nodir"; exit 1; }
    if ! flock -n 9; then
        printf 'busy %s\n' "$(head -n 1 "$dir/lock")"
        flock -w "$wait" 9 || { printf 'timeout %s\n' "$(head -n 1 "$dir/lock")"; exit 1; }
    fi
    [ "$(stat -c %d:%i -- "$dir/lock" 2>/dev/null)" = "$(stat -L -c %d:%i /dev/fd/9)" ] && break
done
printf '%s\n' "$holder" > "$dir/lock"
echo held
read -r _ || :
[ "$(ls -A -- "$dir")" = lock ] || exit 0
rm -f -- "$dir/lock"
printf '%s\n%s\n%s\n%s' "$dir" "${dir%/*}" "${dir%/*/*}" "$made" |
    while IFS= read -r d; do [ -z "$d" ] || rmdir -- "$d" 2>/dev/null; done
exit 0
"""
#: Print a file podnet keeps there, nothing when it does not exist; fail otherwise.
READ = 'test ! -e "$1" || cat -- "$1"'
#: Replace a file atomically and durably with stdin.
WRITE = 'umask 077; dd of="$1.tmp" conv=fsync status=none && mv -f -- "$1.tmp" "$1"'


class Commands(Protocol):
    """How a store reaches its target: a target (harness.targets) is one."""

    name: str

    def run(self, argv: Sequence[str], *, check: bool = True, input: str | None = None,
            timeout: float | None = 120) -> Completed: ...

    def hold_open(self, argv: Sequence[str]) -> subprocess.Popen[bytes]: ...


def holder_line() -> str:
    """How a holder names itself to the sessions it keeps waiting."""
    argv = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))
    return f"pid {os.getpid()} on {socket.gethostname()} ({argv[:100]})"


@dataclass
class Session:
    """A session's record on the target."""

    id: str
    directory: str
    store: SessionStore

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
        events = []
        for line in self.store.read(f"{self.id}/{MANIFEST}").splitlines():
            try:
                entry = json.loads(line)
                events.append((str(entry["event"]),
                               Written(str(entry["path"]), bool(entry["root"]))))
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short by a crash: its file was not written yet
        return live_files(events)

    def end(self) -> None:
        """Remove the record: everything it lists is gone."""
        self.store.commands.run(["rm", "-rf", "--", self.directory])

    def _append(self, event: str, entry: Written) -> None:
        line = json.dumps({"event": event, "path": entry.path, "root": entry.root})
        self.store.commands.run(["dd", f"of={self.directory}/{MANIFEST}", "oflag=append",
                                 "conv=notrunc,fsync", "status=none"], input=line + "\n")


class SessionStore:
    """The sessions of one target, kept on it in ``directory``."""

    def __init__(self, commands: Commands, directory: str) -> None:
        self.commands = commands
        self.directory = directory
        self._holder: subprocess.Popen[bytes] | None = None
        self._begun: set[str] = set()

    @classmethod
    def on(cls, commands: Commands) -> SessionStore:
        """The store of the target ``commands`` reaches, in the directory named by the
        identity the target answers."""
        lines = commands.run(["sh", "-c", IDENTITY], check=False).stdout.split("\n")
        machine, uid, home = (*lines, "", "", "")[:3]
        if not MACHINE_ID.fullmatch(machine):
            raise PodnetError(f"{commands.name} has no machine id (/etc/machine-id), which "
                              "podnet keys its session records by: create it there with "
                              "'systemd-machine-id-setup'")
        if not uid.isdigit() or not safe_path(home):
            raise PodnetError(f"{commands.name}: unexpected answer to who am I: {lines[:3]!r}")
        return cls(commands, f"{home}/{RECORDS_DIR}/{machine}-{uid}")

    @contextlib.contextmanager
    def hold(self, what: str, *, wait: float | None = None, note: Note = to_stderr
             ) -> Iterator[None]:
        """Hold the target's lock (re-entrant); wait at most ``wait`` seconds (default
        ``--lock-wait``) for a session that holds it, then raise :class:`LockBusy` naming
        it."""
        wait = lock.LAB_WAIT if wait is None else wait
        if self._holder is not None:
            yield
            return
        proc = self.commands.hold_open(["sh", "-c", HOLD, "sh", self.directory,
                                        str(max(0, round(wait))), holder_line()])
        try:
            said = _line(proc)
            if said.startswith("busy "):
                note(f"{what} is in use by {said[5:]}; waiting up to {wait:g} s")
            while said.startswith("busy "):  # again when the holder's file was renewed
                said = _line(proc)
            if said.startswith("timeout "):
                raise LockBusy(f"{what} is in use by {said[8:]}: waited {wait:g} s; "
                               "try again when it has finished")
            if said != "held":
                raise PodnetError(f"cannot take the session lock in {self.directory} on "
                                  f"{self.commands.name}: "
                                  + {"noflock": "flock is not installed there (util-linux)",
                                     "nodir": "the directory cannot be written"}.get(
                                         said, said or "the command ended"))
        except BaseException as exc:
            why = _stop(proc)
            if why and isinstance(exc, PodnetError) and not isinstance(exc, LockBusy):
                raise PodnetError(f"{str(exc).splitlines()[0]} ({why})") from None
            raise
        self._holder = proc
        try:
            yield
        finally:
            self._holder = None
            self._begun.clear()  # ended with the hold: stale for the next one
            _stop(proc)

    def begin(self, session_id: str) -> Session:
        """Create the record of a new session (the lock must be held)."""
        names.run_id(session_id)
        self._require_held()
        record = f"{self.directory}/{session_id}"
        owner = json.dumps({"holder": holder_line(), "argv": sys.argv}) + "\n"
        made = self.commands.run(["sh", "-c", 'umask 077; mkdir -- "$1" && cat > "$1/owner"',
                                  "sh", record], input=owner, check=False)
        if not made.ok:
            raise PodnetError(f"session {session_id} is already recorded on this target: "
                              "choose another --run-id")
        self._begun.add(session_id)
        return Session(session_id, record, self)

    def stale(self) -> Iterator[Session]:
        """Each recorded session other than those this store began: with the lock held,
        none of them runs. Call :meth:`Session.end` once it is cleaned."""
        self._require_held()
        listed = self.commands.run(["sh", "-c", 'test ! -d "$1" || ls -Ap -- "$1"', "sh",
                                    self.directory]).stdout.split("\n")
        for entry in sorted(listed):
            name = entry[:-1]
            if entry.endswith("/") and name not in self._begun and _is_run_id(name):
                yield Session(name, f"{self.directory}/{name}", self)

    def read(self, name: str) -> str:
        """A file of the store ('' when it does not exist)."""
        return self.commands.run(["sh", "-c", READ, "sh", f"{self.directory}/{name}"]).stdout

    def write(self, name: str, text: str | None) -> None:
        """Replace a file of the store atomically (None: remove it)."""
        path = f"{self.directory}/{name}"
        if text is None:
            self.commands.run(["rm", "-f", "--", path])
        else:
            self.commands.run(["sh", "-c", WRITE, "sh", path], input=text)

    def _require_held(self) -> None:
        if self._holder is None:
            raise PodnetError(f"the session lock on {self.commands.name} is not held")


def _is_run_id(name: str) -> bool:
    try:
        names.run_id(name)
    except PodnetError:
        return False
    return True


def _line(proc: subprocess.Popen[bytes]) -> str:
    assert proc.stdout is not None
    return proc.stdout.readline().decode(errors="replace").strip()


def _stop(proc: subprocess.Popen[bytes]) -> str:
    """Tell the holder to let the lock go, and close its stdin: it ends. Return the first
    line of what it said on stderr."""
    if proc.stdin is not None:
        with contextlib.suppress(OSError):
            proc.stdin.write(b"release\n")
        with contextlib.suppress(OSError):
            proc.stdin.close()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    said = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    return said.splitlines()[0] if said else ""
