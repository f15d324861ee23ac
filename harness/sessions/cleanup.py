"""A marked session on a target: stale sessions cleaned first, this one's marks removed
at its end (a safety net behind each check's own teardown)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from typing import Protocol

from harness.lab.lock import Note, to_stderr
from harness.results.timings import phase
from harness.sessions import ownership
from harness.sessions.ownership import ListingFailed, Listings, Step
from harness.sessions.records import Commands, Session, SessionStore

log = logging.getLogger("podnet.cleanup")


class Marking(Commands, Protocol):
    """A target as a session sees it (harness.targets.base.Target is one): it marks what
    it creates with the attached session, lists what carries a session's marks and
    removes it."""

    @property
    def can_root(self) -> bool: ...

    def attach(self, session: Session | None) -> None: ...

    def clean_session(self, session: Session) -> list[Step]: ...

    def listings(self) -> Listings: ...

    def present(self, paths: Sequence[str], *, root: bool = False) -> list[str]: ...


def clean_stale(target: Marking, store: SessionStore) -> None:
    """Clean every recorded session of ``store`` that is not alive. A session whose marks
    are not all verified gone keeps its record for the next attempt."""
    for stale in store.stale():
        steps = target.clean_session(stale)
        log.info("stale session %s: %d cleanup steps", stale.id, len(steps))
        _end_if_clean(target, stale)


def remaining(target: Marking, session: Session) -> list[str]:
    """What of ``session``'s marks is not verified gone: podman objects still carrying
    its label, files of its manifest still there, and every listing that did not answer
    (unknown is never taken as gone). Root files count as left where root is not
    available: their removal was skipped."""
    left: list[str] = []
    try:
        left += [" ".join(step.argv) for step in
                 ownership.plan_podman([session.id], target.listings())]
    except ListingFailed as exc:
        left.append(str(exc))
    for root in (False, True):
        paths = [w.path for w in session.files() if w.root == root]
        if not paths:
            continue
        if root and not target.can_root:
            left.append(f"{len(paths)} file(s) written as root (no root to remove them)")
            continue
        try:
            left += target.present(paths, root=root)
        except ListingFailed as exc:
            left.append(str(exc))
    return left


def _end_if_clean(target: Marking, session: Session) -> None:
    """Remove ``session``'s record if everything it marked is verified gone; else (or
    when the verification itself fails) keep it for the next session to clean."""
    left = remaining(target, session)
    if left:
        log.warning("session %s: not everything was removed (%s); kept for the next run",
                    session.id, "; ".join(left))
    else:
        session.end()


@contextlib.contextmanager
def marked_session(target: Marking, session_id: str, store: SessionStore | None = None,
                   note: Note = to_stderr) -> Iterator[Session]:
    """Hold the target's session lock (one session per target: :func:`held`), clean the
    stale sessions recorded there, then mark everything ``target`` creates with
    ``session_id`` until exit; on exit remove what is left of it."""
    store = store or SessionStore.on(target)
    with held(target, store, note):
        with phase("setup: stale sessions' leftovers removed"):
            clean_stale(target, store)
        session = store.begin(session_id)
        target.attach(session)
        try:
            yield session
        finally:
            target.attach(None)
            with phase("teardown: the session's containers, units and files removed"):
                target.clean_session(session)
            _end_if_clean(target, session)


def held(target: Marking, store: SessionStore, note: Note = to_stderr
         ) -> contextlib.AbstractContextManager[None]:
    """The target's session lock, on the target: the second session on the same user of
    the same machine, however either names it, waits for the first (up to
    ``--lock-wait``, a minute by default), then exits naming it."""
    return store.hold(f"the target {target.name}", note=note)
