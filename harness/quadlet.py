"""Quadlet container units of the rootless user, written, started and always removed."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from harness.targets.base import QUADLET_DIR, Target

USER_GENERATOR = "/usr/lib/systemd/user-generators/podman-user-generator"
SYSTEM_GENERATOR = "/usr/lib/systemd/system-generators/podman-system-generator"


@contextlib.contextmanager
def container_unit(target: Target, unit: str, text: str, *, start: bool = True
                   ) -> Iterator[str]:
    """Write ``unit``.container, reload the user manager, optionally start the generated
    service; yield the service name. On exit the service is stopped and the file removed,
    if this session wrote it (a file of that name that is not podnet's stays, and so
    does its unit: :meth:`Target.undo_units`)."""
    path = f"{target.home}/{QUADLET_DIR}/{unit}.container"
    service = f"{unit}.service"
    try:
        target.write_file(path, target.label_quadlet(path, text))
        target.systemctl_user("daemon-reload")
        if start:
            target.systemctl_user("start", "--no-block", service)
        yield service
    finally:
        target.undo_units(path)


@contextlib.contextmanager
def network_unit(target: Target, name: str, text: str = "[Network]\n") -> Iterator[str]:
    """``name``.network in the user's quadlet directory; yields the network's name
    (``systemd-NAME``, quadlet's default). On exit the file, its unit and the network
    quadlet created (labelled by the file's ``Label=``) are removed; a file of that name
    that this session did not write stays, with its unit and network."""
    path = f"{target.home}/{QUADLET_DIR}/{name}.network"
    try:
        target.write_file(path, target.label_quadlet(path, text))
        yield f"systemd-{name}"
    finally:
        target.undo_units(path)
        target.remove_own("networks", f"systemd-{name}")


def dryrun(target: Target) -> str:
    """The user generator's output for the user's quadlet files (``--user --dryrun``)."""
    done = target.run([SYSTEM_GENERATOR, "--user", "--dryrun"], check=False)
    if not done.ok:
        done = target.run([USER_GENERATOR, "--dryrun"], check=False)
    return done.stdout
