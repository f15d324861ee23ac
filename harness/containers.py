"""Plain ``podman run -d`` containers and networks for scenarios, always removed."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator, Sequence

from harness.services import IMAGE, PREFIX
from harness.targets.base import Target


def unique(stem: str) -> str:
    return f"{PREFIX}{stem}-{secrets.token_hex(3)}"


@contextlib.contextmanager
def network(target: Target, name: str | None = None, options: Sequence[str] = ()
            ) -> Iterator[str]:
    name = name or unique("net")
    target.podman("network", "create", *options, name)
    try:
        yield name
    finally:
        target.remove_own("networks", name)


@contextlib.contextmanager
def _made(target: Target, kind: str, name: str, *argv: str) -> Iterator[str]:
    """``podman ARGV``, which makes the ``kind`` object ``name``; yields the name. The
    object is removed on exit, also when podman refused to make it."""
    try:
        target.podman(*argv)
        yield name
    finally:
        target.remove_own(kind, name)


def running(target: Target, options: Sequence[str], command: Sequence[str] = (),
            *, name: str | None = None, image: str = IMAGE) -> contextlib.AbstractContextManager[str]:
    """``podman run -d --name NAME OPTIONS IMAGE COMMAND``; raises CommandError (with
    podman's message) if podman refuses; the container is removed on exit."""
    name = name or unique("ctr")
    return _made(target, "containers", name, "run", "-d", "--name", name, *options, image, *command)


def refusal(target: Target, options: Sequence[str], command: Sequence[str] = ("true",)
            ) -> tuple[int, str]:
    """Run a throwaway container; return podman's exit status and its messages."""
    name = unique("try")
    try:
        done = target.podman("run", "--rm", "--name", name, *options, IMAGE, *command,
                             check=False)
        return done.returncode, (done.stderr.strip() or done.stdout.strip())
    finally:
        target.remove_own("containers", name)


def pod(target: Target, options: Sequence[str] = (), *, name: str | None = None
        ) -> contextlib.AbstractContextManager[str]:
    """``podman pod create --name NAME OPTIONS``; the pod (and its containers) is removed
    on exit."""
    name = name or unique("pod")
    return _made(target, "pods", name, "pod", "create", "--name", name, *options)
