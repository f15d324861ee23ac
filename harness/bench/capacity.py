"""UDP capacity: the highest rate a path delivers with less than 1% loss.

A fixed offered rate says nothing once every method delivers it; the capacity does.
:func:`search` offers rates to iperf3 (``-b``) in a short, bounded search: up by
``factor`` while the loss stays under the limit, down while it does not, then
geometric bisection between the best passing and the lowest failing rate. The
capacity is what the receiver got at the best passing rate.

The search never offers more than ``factor`` times a rate the path passed (or the
start): an unthrottled flood starves iperf3's own control connection through
slirp4netns so that the test never ends; a bounded overshoot does not.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

#: Loss (percent) under which an offered rate passes.
LOSS_LIMIT = 1.0
#: A passing step whose receiver got less than this share of the offer saturated the
#: sender or the path: offering more cannot raise the capacity.
SHORTFALL = 0.9
#: The search stops when the failing rate is within this share above the passing one.
PRECISION = 0.1
#: Offered rates stay within these bounds (bit/s).
FLOOR, CEILING = 1e6, 100e9


@dataclass(frozen=True)
class Step:
    """One iperf3 UDP test at an offered rate."""

    offered: float
    received: float
    lost_percent: float
    nbytes: int = 0
    jitter_ms: float | None = None
    #: The test ended without a result at this rate (e.g. the flood reset iperf3's
    #: control connection): the path did not carry the rate, what it received is unknown.
    error: str = ""

    def passes(self) -> bool:
        return not self.error and self.lost_percent < LOSS_LIMIT

    @classmethod
    def failed(cls, offered: float, error: str) -> Step:
        return cls(offered, 0.0, 100.0, error=error)

    def as_dict(self) -> dict[str, Any]:
        return {"offered": self.offered, "received": self.received,
                "lost_percent": self.lost_percent, "bytes": self.nbytes,
                "jitter_ms": self.jitter_ms, **({"error": self.error} if self.error else {})}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Step:
        jitter = raw.get("jitter_ms")
        return cls(float(raw["offered"]), float(raw["received"]),
                   float(raw["lost_percent"]), int(raw.get("bytes", 0)),
                   None if jitter is None else float(jitter), str(raw.get("error", "")))


@dataclass(frozen=True)
class Capacity:
    steps: tuple[Step, ...]

    @property
    def best(self) -> Step | None:
        """The passing step that delivered most."""
        return max((s for s in self.steps if s.passes()), key=lambda s: s.received, default=None)

    @property
    def bits_per_second(self) -> float | None:
        best = self.best
        return None if best is None else best.received

    @property
    def saturated(self) -> bool:
        """Whether the search reached the path's limit: a rate above the best passing
        one failed, or the best passing one was not delivered in full. False means the
        capacity may be limited by the offered rate."""
        best = self.best
        if best is None:
            return False
        above = any(not s.passes() and s.offered > best.offered for s in self.steps)
        return above or best.received < SHORTFALL * best.offered

    @property
    def nbytes(self) -> int:
        return sum(s.nbytes for s in self.steps)

    def as_dict(self) -> dict[str, Any]:
        best = self.best
        return {"capacity_offered": None if best is None else best.offered,
                "lost_percent": None if best is None else best.lost_percent,
                "saturated": self.saturated, "loss_limit": LOSS_LIMIT,
                "search": [s.as_dict() for s in self.steps]}


def next_rate(steps: Sequence[Step], *, factor: float) -> float | None:
    """The next rate to offer after ``steps``, or None when the search is done."""
    good = max((s for s in steps if s.passes()), key=lambda s: s.offered, default=None)
    bad = min((s for s in steps if not s.passes() and (good is None or s.offered > good.offered)),
              key=lambda s: s.offered, default=None)
    if good is not None and good.received < SHORTFALL * good.offered:
        return None
    if bad is None:
        assert good is not None
        return good.offered * factor if good.offered < CEILING else None
    if good is None:
        # What the receiver got when overloaded is a hint of the capacity (none when
        # the test ended without a result).
        hint = bad.offered if bad.error else bad.received
        return max(FLOOR, min(bad.offered / factor, hint))
    if bad.offered <= good.offered * (1 + PRECISION):
        return None
    return math.sqrt(good.offered * bad.offered)


#: Tests a search may add, beyond its ``steps``, while no rate has passed yet: a search
#: that ends without one has measured nothing, and going down is cheap and safe.
DOWNWARD_EXTRA = 6


def search(measure: Callable[[float], Step], start: float, *, steps: int,
           factor: float) -> Capacity:
    """At most ``steps`` tests from ``start``, and up to :data:`DOWNWARD_EXTRA` more
    while none has passed."""
    done: list[Step] = []
    rate: float | None = start
    for taken in range(steps + DOWNWARD_EXTRA):
        if rate is None or (taken >= steps and any(s.passes() for s in done)):
            break
        done.append(measure(min(CEILING, max(FLOOR, rate))))
        rate = next_rate(done, factor=factor)
    return Capacity(tuple(done))


def resume_rate(found: Capacity, fallback: float, factor: float) -> float:
    """Where the next search of the same path starts: its last capacity's offered rate,
    or below the lowest failing rate when nothing passed."""
    best = found.best
    if best is not None:
        return best.offered
    lowest = min((s.received for s in found.steps), default=fallback * factor)
    return max(FLOOR, lowest / factor)


#: Seconds of one UDP test (iperf3 sends rate * seconds bytes).
STEP_SECONDS = 0.5
#: The first search of a path (in the warm-up): from the fixed offered rate, doubling.
FIRST_STEPS, FIRST_FACTOR = 5, 2.0
#: Every round's search: from where the last one ended, in smaller steps.
ROUND_STEPS, ROUND_FACTOR = 2, 1.25
