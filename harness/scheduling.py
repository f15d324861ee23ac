"""xdist's scheduler for podnet's runs: ``loadfile`` with the long modules in shards, the
benchmarks first in one worker while the others wait, then the longest work units first
(harness.workers says what each means and why).

Apart from harness.workers because it needs pytest-xdist, which a run without
concurrent checks (``-n 0``, an installed podnet on a workstation) may not have: the
plugin imports it only when xdist asks for a scheduler.
"""

from __future__ import annotations

from typing import Any

from xdist.scheduler import LoadScopeScheduling

from harness.workers import TestTimes, expected_seconds, work_unit


class ModuleScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """xdist's ``loadfile`` with the long modules in shards (``work_unit``); the units
    of the tests that ran alone in earlier runs (the benchmarks, ``TestTimes.alone``) go
    first, all of them to one worker, and no other worker gets work until they are done;
    then the longest units first (see the module's docstring)."""

    def __init__(self, config: Any, log: Any = None, timed: TestTimes | None = None) -> None:
        super().__init__(config, log)
        self.timed = timed or TestTimes({})
        #: The worker the benchmarks went to, once they went.
        self.bench_node: Any = None

    def _split_scope(self, nodeid: str) -> str:
        return work_unit(nodeid)

    def _alone(self, nodeids: dict[str, bool]) -> bool:
        return not self.timed.alone.isdisjoint(nodeids)

    def _benchmarks_running(self) -> bool:
        return any(self._alone(ids) and not all(ids.values())
                   for work in self.assigned_work.values() for ids in work.values())

    def _assign_work_unit(self, node: Any) -> None:
        if waiting := [unit for unit, ids in self.workqueue.items() if self._alone(ids)]:
            if self.bench_node not in (None, node) and self.bench_node in self.assigned_work:
                return  # the benchmarks are another worker's: wait for them
            self.bench_node = node
            for unit in sorted(waiting, key=self._seconds, reverse=True):
                self.workqueue.move_to_end(unit, last=False)
                super()._assign_work_unit(node)
            return
        if self._benchmarks_running() and node is not self.bench_node:
            return  # nothing runs beside a benchmark
        if self.workqueue:
            longest = max(self.workqueue, key=self._seconds)
            self.workqueue.move_to_end(longest, last=False)
        super()._assign_work_unit(node)

    def mark_test_complete(self, node: Any, item_index: int, duration: float = 0) -> None:
        super().mark_test_complete(node, item_index, duration)
        if node is self.bench_node and not self._benchmarks_running() and self.workqueue:
            for other in list(self.assigned_work):  # the benchmarks are done: all to work
                if other is not node:
                    self._reschedule(other)

    def remove_node(self, node: Any) -> str | None:
        if node is self.bench_node:
            self.bench_node = None  # a crashed worker's benchmarks go to the next that asks
        return super().remove_node(node)  # type: ignore[no-any-return]

    def _seconds(self, unit: str) -> float:
        return sum(expected_seconds(nodeid, self.timed.seconds)
                   for nodeid in self.workqueue[unit])
