"""Bounded polling: readiness is checked, never slept for."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from harness.errors import PodnetError

T = TypeVar("T")


class NotReady(PodnetError):
    pass


class GiveUp(PodnetError):
    """Raised by a check to stop waiting at once: what it waits for cannot happen."""


def poll(
    check: Callable[[], T | None],
    *,
    what: str,
    timeout: float = 30.0,
    interval: float = 0.05,
    max_interval: float = 0.5,
) -> T:
    """Call ``check`` until it returns something other than None/False; return that.

    The interval grows from ``interval`` to ``max_interval``. Exceptions raised by
    ``check`` count as "not yet" and the last one is reported on timeout.
    """
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    delay = interval
    while True:
        try:
            value = check()
            if value is not None and value is not False:
                return value
        except GiveUp:
            raise
        except Exception as exc:
            last_error = exc
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error})" if last_error else ""
            raise NotReady(f"timed out after {timeout:g} s waiting for {what}{detail}")
        time.sleep(delay)
        delay = min(delay * 1.5, max_interval)


#: How long a line may take to reach a container's log after the request it records
#: (conmon copies the server's output a moment after the reply).
LOG_WAIT = 10.0


def logged(find: Callable[[], T | None], *, what: str, timeout: float = LOG_WAIT) -> T | None:
    """What ``find`` finds in a log, read again until it is there (at most ``timeout``
    seconds); None if it never is."""
    try:
        return poll(find, what=what, timeout=timeout)
    except NotReady:
        return None
