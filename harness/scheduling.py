"""xdist's scheduler for podnet's runs: ``loadfile`` with the long modules in shards and
the longest work units first (harness.workers says what each means and why).

Apart from harness.workers because it needs pytest-xdist, which a run without
concurrent checks (``-n 0``, an installed podnet on a workstation) may not have: the
plugin imports it only when xdist asks for a scheduler.
"""

from __future__ import annotations

from typing import Any

from xdist.scheduler import LoadScopeScheduling

from harness.workers import expected_seconds, work_unit


class ModuleScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """xdist's ``loadfile`` with the long modules in shards (``work_unit``), the longest
    units first (see the module's docstring)."""

    def __init__(self, config: Any, log: Any = None, timed: dict[str, float] | None = None
                 ) -> None:
        super().__init__(config, log)
        self.timed = timed or {}

    def _split_scope(self, nodeid: str) -> str:
        return work_unit(nodeid)

    def _assign_work_unit(self, node: Any) -> None:
        if self.workqueue:
            longest = max(self.workqueue, key=self._seconds)
            self.workqueue.move_to_end(longest, last=False)
        super()._assign_work_unit(node)

    def _seconds(self, unit: str) -> float:
        return sum(expected_seconds(nodeid, self.timed) for nodeid in self.workqueue[unit])
