"""A marked session on a target: stale sessions cleaned first, this one's marks removed
at its end (a safety net behind each check's own teardown)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

from harness import marks
from harness.sessions import Session, SessionStore, default_root
from harness.targets.base import Target

log = logging.getLogger("podnet.cleanup")


def clean_stale(target: Target, store: SessionStore) -> list[str]:
    """Clean every recorded session of ``store`` that is not alive; return their ids.
    A session whose marks are not all gone keeps its record for the next attempt."""
    cleaned = []
    for stale in store.stale():
        steps = target.clean_session(stale)
        log.info("stale session %s: %d cleanup steps", stale.id, len(steps))
        _end_if_clean(target, stale)
        cleaned.append(stale.id)
    return cleaned


def _end_if_clean(target: Target, session: Session) -> None:
    left = marks.plan_podman([session.id], target.listings())
    if left:
        log.warning("session %s: not everything was removed (%s); kept for the next run",
                    session.id, "; ".join(" ".join(step.argv) for step in left))
        session.release()
    else:
        session.end()


@contextlib.contextmanager
def marked_session(target: Target, key: str, session_id: str,
                   root: Path | None = None) -> Iterator[Session]:
    """Clean the stale sessions of the target ``key``, then mark everything ``target``
    creates with ``session_id`` until exit; on exit remove what is left of it."""
    store = SessionStore(root or default_root(), key)
    clean_stale(target, store)
    session = store.begin(session_id)
    target.attach(session)
    try:
        yield session
    finally:
        target.attach(None)
        try:
            target.clean_session(session)
        except BaseException:
            session.release()
            raise
        _end_if_clean(target, session)
