"""The local target: the invoking user's own rootless podman (a workstation).

When podnet runs as root, a named unprivileged user is the rootless user instead.
Commands as root use ``sudo -n`` when podnet itself is not root.

podnet's test image is built on the workstation when it is missing
(:func:`workstation_image`), with the lab's builder and Containerfile, from a base tar
given with ``--base-tar`` or made by mmdebstrap as the target's user; the images a
session built (the test image, the proxies') are removed when it ends, unless kept.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

from harness.errors import CommandError, PodnetError, UsageError
from harness.lab import lock
from harness.lab.mirror import debian_mirror
from harness.lab.releases import DEFAULT_RELEASE, get_release
from harness.lab.rootfs import IMAGE_PACKAGES
from harness.lab.web_image import (
    Built,
    ensure_images,
    has_image,
    image_tag,
    podnet_images,
    remove_podnet_images,
)
from harness.run import run
from harness.sessions.cleanup import marked_session
from harness.sessions.ownership import ListingFailed
from harness.sessions.records import KEPT_IMAGES, SessionStore
from harness.targets.base import Target

#: The base key of a workstation's image: its tag depends on the Containerfile only, so
#: an image kept from an earlier session is found again whatever tar it was built from.
WORKSTATION_BASE = "workstation"
NO_BASE = ("podnet's test image is not on this machine and cannot be built: pass "
           "--base-tar PATH (a tar from 'mmdebstrap --variant=essential --include="
           + ",".join(IMAGE_PACKAGES) + " trixie PATH') or install mmdebstrap")


class LocalTarget(Target):
    def __init__(self, user: str | None = None, main_address: str | None = None) -> None:
        self.is_root = os.geteuid() == 0
        if self.is_root and not user:
            raise UsageError(
                "the local target needs an unprivileged user when run as root: "
                "pass --local-user NAME (or PODNET_LOCAL_USER)"
            )
        try:
            entry = pwd.getpwnam(user) if user else pwd.getpwuid(os.geteuid())
        except KeyError:
            raise UsageError(f"no such user '{user}': create it or choose another") from None
        if entry.pw_uid == 0:
            raise UsageError("the local target must be a rootless user, not root")
        self.user = entry.pw_name
        self.uid = entry.pw_uid
        self.home = entry.pw_dir
        self.name = f"local:{self.user}"
        self.main_address = main_address or _main_address()

    @property
    def can_root(self) -> bool:
        return self.is_root or run(["sudo", "-n", "true"], check=False).ok

    def command(self, argv: Sequence[str], *, root: bool) -> tuple[list[str], str | None]:
        if root:
            return (list(argv) if self.is_root else ["sudo", "-n", *argv]), None
        if self.is_root:  # root's working directory may be closed to the user
            env = [f"{k}={v}" for k, v in self.user_env().items()]
            return ["runuser", "-u", self.user, "--", "env", "-i", *env, *argv], self.home
        return ["env", "-u", "NOTIFY_SOCKET", *argv], None


def _main_address() -> str:
    out = run(["ip", "-4", "route", "get", "192.0.2.1"], check=False).stdout.split()
    if "src" in out:
        return out[out.index("src") + 1]
    raise PodnetError("cannot tell this machine's main address: pass --target-address")


#: Where checks keep scratch files in the user's home (deepest first): the session's
#: cleanup removes the files; a directory the session created is removed once empty.
SCRATCH_DIRS = (".cache/podnet", ".cache")
#: Units that starting any quadlet service pulls in (``Wants=``) and that stay active
#: afterwards (oneshot, RemainAfterExit): stopped at the end if the session started them.
PULLED_IN_UNITS = ("podman-user-wait-network-online.service",)
#: ``systemctl is-active``'s exit status for a unit that is not active (or not loaded);
#: any other failure (no user manager, no bus) says nothing about the unit.
UNIT_INACTIVE = (3, 4)


@contextlib.contextmanager
def workstation_session(target: Target, base_tar: str | None, *, keep: bool,
                        store: SessionStore, mmdebstrap: bool = True) -> Iterator[Built]:
    """Around a session on a workstation (``--target local``, or a remote machine's user
    with ``--target ssh://``): podnet's test image (:func:`workstation_image`), and at
    the end the user's home and user manager as they were before: scratch directories
    the session created are removed (when empty), units its quadlet services pulled in
    are stopped. ``store``: the target's session records; ``mmdebstrap``: whether a
    missing base may be made by mmdebstrap here."""
    # What the listings cannot tell is taken as the person's: never removed or stopped.
    scratch = [f"{target.home}/{d}" for d in SCRATCH_DIRS]
    try:
        there = target.present(scratch)
        created = [d for d in scratch if d not in there]
    except ListingFailed:
        created = []
    inactive = [u for u in PULLED_IN_UNITS if target.systemctl_user(
        "is-active", "--quiet", u, check=False).returncode in UNIT_INACTIVE]
    try:
        with workstation_image(target, base_tar, keep=keep, store=store,
                               mmdebstrap=mmdebstrap) as built:
            yield built
    finally:
        if target.session is not None:
            # What the session's checks left goes first, so that the images and scratch
            # directories below are free; the session's own end repeats it and verifies.
            target.clean_session(target.session)
        for unit in inactive:
            if target.systemctl_user("is-active", "--quiet", unit, check=False).ok:
                target.systemctl_user("stop", unit, check=False)
        for directory in created:
            target.run(["rmdir", "--", directory], check=False)


@contextlib.contextmanager
def user_session(target: Target, run_id: str, *, base_tar: str | None,
                 keep_image: bool, note: lock.Note, mmdebstrap: bool = True,
                 store: SessionStore | None = None) -> Iterator[None]:
    """A test session on a user's own podman (``--target local`` or ``ssh://``), its
    records on the target (sessions/records.py): one session per user at a time (ports), the
    lock taken before the image is checked, so no other session removes it meanwhile;
    then stale sessions' marks are removed and this session's record begun, before
    :func:`workstation_session` builds anything (its build directories are on record),
    and this session's marks are removed at the end. ``store``: the target's records
    (default: on the target, sessions/records.py)."""
    store = store or SessionStore.on(target)
    with marked_session(target, run_id, store, note), \
            workstation_session(target, base_tar, keep=keep_image, store=store,
                                mmdebstrap=mmdebstrap):
        yield


@contextlib.contextmanager
def workstation_image(target: Target, base_tar: str | None, *, keep: bool,
                      store: SessionStore, mmdebstrap: bool = True) -> Iterator[Built]:
    """podnet's test image for one session on a workstation: the one there, or one built
    now from ``base_tar`` (else from a tar mmdebstrap makes as the target's user).
    On exit, unless ``keep``, podnet's images that no session kept (those built now,
    the proxies' images, those a crashed session left) are removed; with ``keep`` they
    are recorded as kept, in the target's ``store``. Raises :class:`UsageError` (one
    line, before any check runs) when the image is missing and cannot be built."""
    if not has_image(target, image_tag(WORKSTATION_BASE)) and base_tar is None \
            and (not mmdebstrap or shutil.which("mmdebstrap") is None):
        raise UsageError(NO_BASE)
    kept = set(store.read(KEPT_IMAGES).split())
    # podnet's images there now that no session kept on purpose were left by one that
    # ended without cleaning up (a crash): this session uses them, then removes them.
    kept_before = {i: n for i, n in podnet_images(target).items() if i in kept}
    try:
        yield ensure_images(target, Path(base_tar) if base_tar else (
            lambda: _mmdebstrap_base(target)), WORKSTATION_BASE)
    finally:
        if not keep:
            remove_podnet_images(target, kept_before)
        now = set(podnet_images(target))
        ids = now if keep else kept & now
        if ids != kept:
            store.write(KEPT_IMAGES, "".join(f"{i}\n" for i in sorted(ids)) if ids else None)


@contextlib.contextmanager
def _mmdebstrap_base(target: Target) -> Iterator[Path]:
    """A base tar made by mmdebstrap in unshare mode as the target's user (no root, no
    mount in the machine's namespace), removed afterwards."""
    release = get_release(DEFAULT_RELEASE)
    mirror = debian_mirror()
    workdir = target.fresh_dir("/tmp", "podnet-base.")
    tar = f"{workdir}/base.tar"
    try:
        try:
            target.run(["mmdebstrap", "--mode=unshare", "--variant=essential",
                        "--include=" + ",".join(IMAGE_PACKAGES),
                        "--dpkgopt=path-exclude=/usr/share/doc/*",
                        "--dpkgopt=path-exclude=/usr/share/man/*",
                        release.suite, tar, f"deb {mirror} {release.suite} main"], timeout=1200)
        except CommandError as exc:
            raise PodnetError(f"mmdebstrap could not make the base of podnet's test image "
                              f"({str(exc).splitlines()[0]}): pass --base-tar PATH instead"
                              ) from None
        yield Path(tar)
    finally:
        target.remove_files(workdir)
