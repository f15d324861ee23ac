"""The one place where podnet starts a subprocess.

Every command goes through :func:`run`, which logs argv at debug level and turns a
non-zero exit into :class:`~harness.errors.CommandError` carrying argv, exit status,
stdout and stderr.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Protocol

from harness.errors import CommandError, CommandTimeout, MissingTool, PodnetError

log = logging.getLogger("podnet.run")


@dataclass(frozen=True)
class Completed:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run(
    argv: Sequence[str],
    *,
    check: bool = True,
    input: str | None = None,
    timeout: float | None = 120,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    stdin_path: str | None = None,
    failure: Callable[[Completed], PodnetError | None] | None = None,
) -> Completed:
    """Run argv to completion and capture its output as text.

    ``input`` is sent as text on stdin; ``stdin_path`` sends a file's bytes instead.
    ``failure`` reads a non-zero exit first and may return a typed error, raised whether
    or not ``check`` (e.g. ssh's own failures: the command never ran).
    """
    argv = [str(a) for a in argv]
    log.debug("run: %s", " ".join(argv))
    started = time.monotonic()
    try:
        with contextlib.ExitStack() as files:
            stdin = None if stdin_path is None else files.enter_context(open(stdin_path, "rb"))
            proc = subprocess.run(
                argv, stdin=stdin, input=input, capture_output=True, text=True,
                errors="replace", timeout=timeout, env=dict(env) if env is not None else None,
                cwd=cwd, check=False,
            )
    except FileNotFoundError as exc:
        raise MissingTool(argv[0], "install it or check PATH") from exc
    except subprocess.TimeoutExpired as exc:
        raise CommandTimeout(argv, timeout or 0, _text(exc.stdout), _text(exc.stderr)) from exc
    done = Completed(tuple(argv), proc.returncode, proc.stdout, proc.stderr,
                     time.monotonic() - started)
    log.debug("exit %d after %.2fs: %s", done.returncode, done.seconds, argv[0])
    if failure is not None and not done.ok and (typed := failure(done)) is not None:
        raise typed
    if check and proc.returncode != 0:
        raise CommandError(argv, proc.returncode, proc.stdout, proc.stderr)
    return done


def spawn(
    argv: Sequence[str],
    *,
    stdout: int | IO[bytes] | None = subprocess.DEVNULL,
    stderr: int | IO[bytes] | None = subprocess.DEVNULL,
    stdin: int | IO[bytes] | None = subprocess.DEVNULL,
    cwd: str | None = None,
) -> subprocess.Popen[bytes]:
    """Start a long-running process (a lab init, a server) in a session of its own and
    return its handle."""
    argv = [str(a) for a in argv]
    log.debug("spawn: %s", " ".join(argv))
    try:
        return subprocess.Popen(argv, stdout=stdout, stderr=stderr, stdin=stdin,
                                start_new_session=True, cwd=cwd)
    except FileNotFoundError as exc:
        raise MissingTool(argv[0], "install it or check PATH") from exc


class Transport(Protocol):
    """How a target's or a client's commands reach its machine: :data:`HERE`, or
    :class:`harness.ssh.SshTransport`."""

    def run(self, argv: Sequence[str], /, *, check: bool, input: str | None = None,
            timeout: float | None = 120, stdin_path: str | None = None,
            cwd: str | None = None) -> Completed: ...

    def spawn(self, argv: Sequence[str], /, cwd: str | None = None
              ) -> subprocess.Popen[bytes]: ...


class Here:
    """The transport to this machine (:class:`harness.ssh.SshTransport` reaches another):
    what a target's commands run through."""

    #: The module's :func:`run`, which takes every argument a Transport's run does.
    run = staticmethod(run)

    def spawn(self, argv: Sequence[str], cwd: str | None = None) -> subprocess.Popen[bytes]:
        """Start ``argv`` with pipes to and from this process."""
        return spawn(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, cwd=cwd)


HERE = Here()


@contextlib.contextmanager
def environ(values: Mapping[str, str]) -> Iterator[None]:
    """``values`` in this process's environment (and so in every command started
    meanwhile), each variable as it was afterwards."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def require_tool(name: str, hint: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise MissingTool(name, hint)
    return path


def _text(value: bytes | str | None) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value or ""
