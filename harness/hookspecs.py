"""podnet's own pytest hooks (registered by :mod:`harness.pytest_plugin`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.bench.progress import BenchProgress


def pytest_podnet_bench_progress(progress: BenchProgress) -> None:
    """The throughput benchmark is at ``progress`` (called before each measurement and
    evidence step, and once with phase ``done``); for progress displays."""
