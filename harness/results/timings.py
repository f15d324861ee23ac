"""Where a run's time goes: each test's and each phase's wall time, in ``run.json``.

``timings`` is a list of :class:`Timing`: a test (its node id; setup, call and teardown
together, as pytest's ``--durations``) or a phase (``lab up``, ``image builds``, a
benchmark's ``throughput: warm-up``, ``teardown: lab down``...). Phases may nest inside
a test (a session fixture's lab start is in its first test's setup) and inside each
other: they say where a test's time went, they are not added to it.

Phases are announced with :func:`phase` wherever they happen; whoever keeps the run
(the pytest plugin, ``podnet verify``) takes them with :func:`attach` and
:func:`drain`: a phase that ends while nobody keeps a run (``podnet verify``'s lab start,
before pytest begins) waits in :data:`_pending` for the next one.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

KINDS = ("test", "phase")


@dataclass(frozen=True)
class Timing:
    #: A test's node id, or the phase's name.
    name: str
    kind: str
    seconds: float
    #: When it started (seconds since the epoch).
    started: float
    #: Tests: the scenario module without ``test_`` (``source_address``); phases: "".
    suite: str = ""
    #: Tests: ``passed``, ``failed`` or ``skipped``; phases: "" or ``error``.
    outcome: str = ""
    #: Tests: a benchmark, which ran alone (``harness.workers.BENCHMARK_MARKERS``).
    alone: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown timing kind {self.kind!r}")


def suite_of(nodeid: str) -> str:
    """``scenarios/test_source_address.py::test_x[...]`` -> ``source_address``."""
    module = nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
    return module.removesuffix(".py").removeprefix("test_")


Sink = Callable[[Timing], None]
_sink: list[Sink] = []
_pending: list[Timing] = []


def emit(timing: Timing) -> None:
    if _sink:
        _sink[-1](timing)
    else:
        _pending.append(timing)


@contextlib.contextmanager
def phase(name: str) -> Iterator[None]:
    """Record the wall time of the ``with`` block as the phase ``name`` (also when it
    fails: its outcome is then ``error``)."""
    started, clock = time.time(), time.monotonic()
    outcome = "error"
    try:
        yield
        outcome = ""
    finally:
        emit(Timing(name, "phase", time.monotonic() - clock, started, outcome=outcome))


def attach(sink: Sink) -> None:
    """``sink`` receives every phase from now on, and at once those that waited."""
    _sink.append(sink)
    for timing in drain():
        sink(timing)


def detach(sink: Sink) -> None:
    if sink in _sink:
        _sink.remove(sink)


def drain() -> list[Timing]:
    """The phases that ended while nobody kept a run, removed from the waiting list."""
    taken = list(_pending)
    _pending.clear()
    return taken
