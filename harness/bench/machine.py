"""The machine's state during each round, from the readings around its measurements
(:class:`harness.bench.procstat.MachineShare`): the load average, the share of the
machine's CPU the lab's host used, the share used by other work (outside the lab and
its clients), interrupts and steal. A round is *busy* when other work took more than
:data:`BUSY_OUTSIDE` of the machine in the median of its measurements: its figures
are kept and used like any other round's, and marked."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from harness.bench.stats import median_of
from harness.results.schema import Measurement

#: Other work's share of the whole machine (2 CPUs: half a CPU) that makes a round busy.
BUSY_OUTSIDE = 0.25
FIELDS = ("load1", "lab_share", "outside_share", "irq_share", "steal_share")


def summary(samples: Iterable[Measurement]) -> dict[str, Any]:
    """The run's record: every round's state (the median over its measurements of each
    of :data:`FIELDS`), and which rounds were busy."""
    by_round: dict[int, list[dict[str, Any]]] = {}
    for m in samples:
        state = m.extra.get("machine")
        if isinstance(state, dict) and m.round > 0:
            by_round.setdefault(m.round, []).append(state)
    rounds = []
    for number, states in sorted(by_round.items()):
        medians = {name: v for name in FIELDS
                   if (v := median_of(s.get(name) for s in states)) is not None}
        rounds.append({"round": number, "measurements": len(states), **medians,
                       "busy": medians.get("outside_share", 0.0) > BUSY_OUTSIDE})
    return {"busy_outside_share": BUSY_OUTSIDE, "rounds": rounds,
            "busy_rounds": [r["round"] for r in rounds if r["busy"]]}
