"""A target: where rootless podman and its systemd user manager live."""

from __future__ import annotations

import json
import logging
import secrets
import shlex
import subprocess
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from harness.errors import CommandError, PodnetError
from harness.run import HERE, Completed, Transport
from harness.sessions import ownership
from harness.sessions.ownership import ListingFailed
from harness.sessions.records import Session

log = logging.getLogger("podnet.target")

#: The environment every rootless command gets: no inherited NOTIFY_SOCKET (podman
#: fails with "dial unixgram ... permission denied" when one leaks in).
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: Where quadlet files and user units live, relative to the user's home.
QUADLET_DIR = ".config/containers/systemd"
USER_UNIT_DIR = ".config/systemd/user"
SYSTEM_UNIT_DIR = "/etc/systemd/system"
SYSTEM_QUADLET_DIR = "/etc/containers/systemd"
#: The last line of :meth:`Target.present`'s answer: the listing ran to its end.
PRESENT_END = "podnet-listed"
#: Why a check that changes the machine is not run on a target that is not isolated.
NOT_ISOLATED = ("changes host routes/sysctls/binds 0.0.0.0:80: needs an isolated target "
                "such as the lab")


class ForeignFile(PodnetError):
    """A file podnet would write exists and is not podnet's own."""


class NotIsolated(PodnetError):
    """A change to routes, sysctls or privileged ports asked of a workstation."""


def fresh_dir(run: Callable[..., Completed], record: Callable[[str], None], parent: str,
              stem: str) -> str:
    """A new directory ``PARENT/STEM<random>`` of mode 0700: its path is recorded (with
    ``record``, e.g. :meth:`Target.record_file`) before ``mkdir`` makes it, and ``mkdir``
    without ``-p`` never takes over a directory that exists."""
    path = f"{parent.rstrip('/')}/{stem}{secrets.token_hex(6)}"
    record(path)
    run(["mkdir", "-m", "0700", "--", path])
    return path


class Target:
    """Where scenarios run containers: a :attr:`transport` and the :meth:`command` that
    runs an argv as the target's user or root through it.

    Marks: once :meth:`attach` gave the target a session, :meth:`podman` labels every
    object it creates with ``io.podnet.session=<id>``; argv built by hand goes through
    :meth:`marked`, quadlet files get :meth:`label_quadlet`, and :meth:`write_file`
    (or :meth:`record_file`, for files written otherwise) records each path in the
    session's manifest before writing it. :meth:`clean_session` removes what a session
    marked, and nothing else.
    """

    #: Whether checks may change routes, sysctls or bind privileged ports on all
    #: addresses here (the lab: yes; a workstation: no).
    isolated: bool = False
    #: The session whose marks this target puts on what it creates; None: no marks.
    session: Session | None = None

    #: Short name for headers and results, e.g. ``lab:trixie`` or ``local:alice``.
    name: str
    user: str
    uid: int
    home: str
    #: Address of host1's main interface as clients see it.
    main_address: str

    #: How commands reach the target's machine: this one, or ssh to another.
    transport: Transport = HERE

    def command(self, argv: Sequence[str], *, root: bool) -> tuple[list[str], str | None]:
        """``argv`` as :attr:`transport` runs it on the target, as the rootless user unless
        ``root``, and its working directory there (None: the transport's own)."""
        raise PodnetError(f"{self.name} cannot run commands")

    def run(self, argv: Sequence[str], *, root: bool = False, check: bool = True,
            input: str | None = None, timeout: float | None = 120,
            stdin_path: str | None = None) -> Completed:
        """Run a command on the target, as the rootless user unless ``root``."""
        full, cwd = self.command(argv, root=root)
        return self.transport.run(full, check=check, input=input, timeout=timeout,
                                  stdin_path=stdin_path, cwd=cwd)

    def hold_open(self, argv: Sequence[str]) -> subprocess.Popen[bytes]:
        """Start ``argv`` on the target as the rootless user, with pipes to and from this
        process: it runs until this process closes its stdin or ends (the session
        lock's holder, sessions/records.py)."""
        full, cwd = self.command(argv, root=False)
        return self.transport.spawn(full, cwd=cwd)

    @property
    def can_root(self) -> bool:
        """Whether :meth:`run` with ``root=True`` is possible."""
        return True

    @property
    def runtime_dir(self) -> str:
        return f"/run/user/{self.uid}"

    def user_env(self) -> dict[str, str]:
        return {
            "PATH": BASE_PATH,
            "HOME": self.home,
            "USER": self.user,
            "LOGNAME": self.user,
            "LANG": "C.UTF-8",
            "XDG_RUNTIME_DIR": self.runtime_dir,
            "DBUS_SESSION_BUS_ADDRESS": f"unix:path={self.runtime_dir}/bus",
        }

    def sh(self, script: str, *, check: bool = True) -> Completed:
        return self.run(["sh", "-c", script], check=check)

    def attach(self, session: Session | None) -> None:
        """Mark what this target creates from now on with ``session`` (None: stop)."""
        self.session = session

    def marked(self, argv: Sequence[str]) -> list[str]:
        """``argv`` (``podman run ...``, ``env X=Y podman network create ...``) with the
        session's label added when it creates a podman object."""
        return ownership.mark_podman(argv, self.session.id if self.session else None)

    def label_quadlet(self, path: str, text: str) -> str:
        """``text`` of the file ``path`` with the session's ``Label=`` line when it is a
        quadlet ``.container``/``.network``/``.volume`` file."""
        return ownership.label_quadlet(path, text, self.session.id if self.session else None)

    def podman(self, *args: str, check: bool = True, timeout: float | None = 120) -> Completed:
        return self.run(self.marked(["podman", *args]), check=check, timeout=timeout)

    def logs(self, container: str) -> str:
        """What ``podman logs`` prints for ``container``: its stdout, then its stderr."""
        done = self.podman("logs", container, check=False)
        return done.stdout + done.stderr

    def podman_json(self, *args: str) -> Any:
        return json.loads(self.podman(*args).stdout)

    def systemctl_user(self, *args: str, check: bool = True,
                       timeout: float | None = 120) -> Completed:
        return self.run(["systemctl", "--user", *args], check=check, timeout=timeout)

    def systemctl(self, *args: str, check: bool = True) -> Completed:
        return self.run(["systemctl", *args], root=True, check=check)

    def record_file(self, path: str, *, root: bool = False) -> None:
        """Record in the session's manifest that ``path`` (a file or a directory of
        podnet's own) is about to be written; call before writing it."""
        if self.session is not None:
            self.session.wrote(path, root=root)

    def fresh_dir(self, parent: str, stem: str) -> str:
        """:func:`fresh_dir` on this target, recorded in the session's manifest."""
        return fresh_dir(self.run, self.record_file, parent, stem)

    def write_file(self, path: str, content: str, *, root: bool = False,
                   mode: str = "0644") -> None:
        """Write ``content`` to ``path``. In a session, a file that exists and that this
        session did not write is never overwritten (it is the user's, or another
        program's): :class:`ForeignFile` is raised and nothing is recorded."""
        self._write(path, root=root, mode=mode, input=content)

    def copy_file(self, path: str, source: str, *, mode: str = "0644") -> None:
        """Copy the controller's file ``source`` to ``path`` as :meth:`write_file` does:
        recorded first, never over a file this session did not write."""
        self._write(path, root=False, mode=mode, stdin_path=source)

    def _write(self, path: str, *, root: bool, mode: str, input: str | None = None,
               stdin_path: str | None = None) -> None:
        own = self.session is not None and any(
            w.path == path for w in self.session.files())
        if self.session is not None and not own and self.run(
                ["test", "-e", path], root=root, check=False).ok:
            raise ForeignFile(f"refusing to overwrite {path} on {self.name}: podnet did not "
                              "write it; move it away, or run where it does not exist")
        self.record_file(path, root=root)
        quoted = shlex.quote(path)
        # noclobber (set -C) closes the gap between the check above and the write.
        clobber = "" if own or self.session is None else "set -C; "
        done = self.run(
            ["sh", "-c", f"{clobber}mkdir -p \"$(dirname {quoted})\" && cat > {quoted} "
                         f"&& chmod {mode} {quoted}"],
            root=root, input=input, stdin_path=stdin_path, check=False, timeout=300,
        )
        if not done.ok:
            if clobber and "exists" in done.stderr and self.session is not None:
                self.session.removed(path, root=root)  # not ours: forget it
                raise ForeignFile(f"refusing to overwrite {path} on {self.name}: it appeared "
                                  "while podnet was about to write it")
            raise CommandError(done.argv, done.returncode, done.stdout, done.stderr)

    def read_file(self, path: str, *, root: bool = False) -> str:
        return self.run(["cat", path], root=root).stdout

    def owned(self, paths: Iterable[str], *, root: bool = False) -> list[str]:
        """Of ``paths``, those this session's manifest says it wrote (the path, or a
        directory above it) and has not removed since: the only files an undo may
        remove and whose units it may stop. A file whose write raised
        :class:`ForeignFile`, or that was never written, is not among them. Without a
        session nothing is marked or refused, and the paths are taken as given."""
        paths = [p for p in paths if p]
        if self.session is None:
            return paths
        live = [w.path.rstrip("/") for w in self.session.files() if w.root == root]
        return [p for p in paths
                if any(p == w or p.startswith(w + "/") for w in live)]

    def remove_files(self, *paths: str, root: bool = False) -> None:
        """Remove ``paths``, those of them :meth:`owned` keeps: a path this session did
        not write is never removed, whatever its name."""
        mine = self.owned(paths, root=root)
        if skipped := [p for p in paths if p and p not in mine]:
            log.info("not removing %s: this session did not write it", ", ".join(skipped))
        if mine:
            self.run(["rm", "-rf", "--", *mine], root=root)
            for path in mine:
                if self.session is not None:
                    self.session.removed(path, root=root)

    def unit_dirs(self, *, root: bool) -> list[str]:
        """Where unit and quadlet files of the system's (``root``) or the user's manager live."""
        if root:
            return [SYSTEM_UNIT_DIR, SYSTEM_QUADLET_DIR]
        return [f"{self.home}/{QUADLET_DIR}", f"{self.home}/{USER_UNIT_DIR}"]

    def undo_units(self, *paths: str, root: bool = False) -> None:
        """Undo what a setup wrote into the unit directories: stop the units that the
        files of ``paths`` this session wrote (:meth:`owned`) define or generate, remove
        those files, reload the manager and ``reset-failed`` exactly those units. Units
        of a file the session did not write are never stopped or reset."""
        mine = self.owned(paths, root=root)
        if not mine:
            return
        dirs = self.unit_dirs(root=root)
        units = list(dict.fromkeys(u for p in mine if (u := ownership.unit_of(p, dirs))))
        systemctl = self.systemctl if root else self.systemctl_user
        if units:
            systemctl("stop", "--", *units, check=False)
        self.remove_files(*mine, root=root)
        systemctl("daemon-reload", check=False)
        if units:
            systemctl("reset-failed", "--", *units, check=False)

    def remove_own(self, kind: str, *names: str) -> None:
        """Remove the ``kind`` objects (``containers``, ``pods``, ``networks``,
        ``volumes``) named ``names`` that carry this session's label, by id, networks and
        volumes without ``--force``: an object of that name that is not this session's
        stays, and so does a network or volume a foreign container still uses. Without
        a session (nothing is marked) they are removed by name, again without forcing
        networks and volumes."""
        names = tuple(n for n in names if n)
        if not names:
            return
        if self.session is None:
            steps = ownership.plan_by_name(kind, names)
        else:
            try:
                found = self._labelled(kind)
            except ListingFailed as exc:
                log.warning("not removing %s: %s", ", ".join(names), exc)
                return
            listing = ownership.Listings(**{kind: ownership.named(found, names)})
            steps = ownership.plan_podman([self.session.id], listing)
        for step in steps:
            self.run(step.argv, check=False)

    def sysctl(self, key: str) -> str:
        return self.read_file("/proc/sys/" + key.replace(".", "/")).strip()

    def require_isolated(self, what: str) -> None:
        """Refuse, before running anything, a change only an isolated target allows."""
        if not self.isolated:
            raise NotIsolated(f"refusing to {what} on {self.name}: {NOT_ISOLATED}")

    def set_sysctl(self, key: str, value: str) -> None:
        self.require_isolated(f"set {key}")
        # not write_file: /proc/sys files cannot be chmod'ed
        path = shlex.quote("/proc/sys/" + key.replace(".", "/"))
        self.run(["sh", "-c", f"cat > {path}"], root=True, input=value + "\n")

    def clean_session(self, session: Session) -> list[ownership.Step]:
        """Remove what ``session`` made here: the pods, containers, networks and volumes
        labelled with its id, and the units and files of its manifest. Return the steps
        run (a failing step does not stop the others). When podman's listings fail, its
        objects are not removed now (the files still are); whether anything is left is
        for :func:`harness.sessions.cleanup.remaining` to verify."""
        try:
            listings = self.listings()
        except ListingFailed as exc:
            log.warning("session %s: %s; its podman objects are left for the next run",
                        session.id, exc)
            listings = ownership.Listings()
        steps = ownership.plan_cleanup(
            [session.id], listings, session.files(),
            user_unit_dirs=self.unit_dirs(root=False), system_unit_dirs=self.unit_dirs(root=True))
        for step in steps:
            if step.root and not self.can_root:
                continue
            self.run(step.argv, root=step.root, check=False)
        return steps

    def listings(self) -> ownership.Listings:
        """The pods, containers, networks and volumes that carry podnet's label; raises
        :class:`ListingFailed` when one of podman's listings does not answer."""
        return ownership.Listings(**{kind: self._labelled(kind) for kind in ownership.LIST_ARGV})

    def _labelled(self, kind: str) -> list[dict[str, Any]]:
        done = self.run(ownership.list_argv(kind), check=False)
        if not done.ok:
            raise ListingFailed(f"'{' '.join(done.argv)}' failed: "
                                f"{(done.stderr.strip().splitlines() or ['(no stderr)'])[-1]}")
        try:
            found = json.loads(done.stdout or "[]")
        except ValueError:
            found = None
        if not isinstance(found, list):
            raise ListingFailed(f"'{' '.join(done.argv)}' did not answer with a JSON list")
        return found

    def present(self, paths: Sequence[str], *, root: bool = False) -> list[str]:
        """Which of ``paths`` exist (or are dangling links); raises
        :class:`ListingFailed` when the answer is not known (the command did not run to
        its end)."""
        if not paths:
            return []
        done = self.run(["sh", "-c", 'for p; do if [ -e "$p" ] || [ -L "$p" ]; then '
                         'printf "%s\\n" "$p"; fi; done; echo "$0"', PRESENT_END, *paths],
                        root=root, check=False)
        lines = done.stdout.splitlines()
        if not done.ok or not lines or lines[-1] != PRESENT_END:
            raise ListingFailed(f"cannot tell whether {len(paths)} file(s) podnet wrote on "
                                f"{self.name} are gone")
        return [line for line in lines[:-1] if line in paths]
