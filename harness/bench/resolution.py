"""The run's noise control: ``host`` against native is an A/A comparison.

With ``--network=host`` the container's traffic takes the same path as the native
reference, so every difference between the two is noise. The run's resolution is
the largest distance of that ratio's interval from 1, over every combination of
direction and protocol: two methods whose medians are closer than that (relative to
the larger) cannot be told apart by this run.
"""

from __future__ import annotations

from collections.abc import Mapping

from harness.bench.stats import Interval, RatioSummary
from harness.bench.summary import PerfResolution

#: The method measured against native as an A/A control.
AA_METHOD = "host"


def distance(summary: Interval) -> float:
    """How far an A/A ratio's interval reaches from 1."""
    return max(summary.high - 1.0, 1.0 - summary.low, abs(summary.median - 1.0))


def resolution(aa: Mapping[str, RatioSummary], cpu: Mapping[str, Interval] | None = None,
               method: str = AA_METHOD) -> PerfResolution | None:
    """The resolution from the A/A ratios by combination (and of the lab's CPU per GB,
    ``cpu``); None without any."""
    if not aa:
        return None
    per_combo = {combo: distance(s) for combo, s in sorted(aa.items())}
    cpu_distance = max((distance(s) for s in cpu.values()), default=None) if cpu else None
    return PerfResolution(max(per_combo.values()), per_combo, method, "native", cpu_distance)
