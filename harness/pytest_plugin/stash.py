"""What the parts of podnet's pytest plugin keep on pytest's config and items."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pytest

from harness import workers
from harness.results.recorder import Recorder
from harness.targets import factory

RECORDER = pytest.StashKey[Recorder]()
#: Where this session's results start in the run record (a --run-id run may hold others).
FIRST_RESULT = pytest.StashKey[int]()
#: How a test ended when it did not pass: (outcome for its missing claims, reason, the
#: evidence of a NoObservation).
ENDING = pytest.StashKey[tuple[str, str, dict[str, Any]]]()
#: The tests this process started (a worker runs only some of the session's items).
STARTED = pytest.StashKey[set[str]]()
#: In an xdist worker: benchmarks alone (harness.workers).
SCHEDULE = pytest.StashKey[workers.Schedule]()
#: In the controller: was the named lab up when the run began (its workers' labs then
#: stay up beside it, harness.workers).
NAMED_LAB_UP = pytest.StashKey[bool]()


def target_settings(config: pytest.Config) -> factory.Settings:
    """The target's settings from the plugin's options (resolved in pytest_configure)."""
    options = {f.name: getattr(config.option, f.name) for f in fields(factory.Settings)
               if f.name != "run_id"}
    return factory.Settings(run_id=config.stash[RECORDER].run.run_id, **options)
