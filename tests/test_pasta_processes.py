"""The pasta-process counts of "Number of Pasta processes", fed wrong worlds: pasta argv
recorded in the lab (tests/fixtures/pasta_processes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.claims import load_default
from harness.results.recorder import ClaimMismatch, NoObservation, Recorder
from harness.results.schema import Run
from scenarios.test_pasta_processes import (
    SITUATIONS,
    new_pastas,
    none_counted,
    serves_custom_networks,
)

FIXTURES = Path(__file__).parent / "fixtures" / "pasta_processes"


def recorded(name: str, first_pid: int = 100) -> dict[int, list[str]]:
    lines = (FIXTURES / f"{name}.txt").read_text().splitlines()
    return {first_pid + i: line.split() for i, line in enumerate(lines)}


def test_every_claim_names_a_situation_the_scenario_sets_up() -> None:
    claims = load_default().select("pasta_process_count")
    assert claims and {c.extra["situation"] for c in claims} <= set(SITUATIONS)


def test_only_processes_started_meanwhile_count() -> None:
    before = recorded("containers")
    after = {**before, **recorded("custom-networks", first_pid=200)}
    assert list(new_pastas(before, after)) == [200]
    assert new_pastas(after, before) == {}


def test_the_custom_network_pasta_is_told_apart_by_its_namespace() -> None:
    assert [serves_custom_networks(a) for a in recorded("custom-networks").values()] == [True]
    assert [serves_custom_networks(a) for a in recorded("containers").values()] == [False, False]


def test_one_pasta_per_container_on_custom_networks_fails_the_claim(tmp_path: Path) -> None:
    """The wrong world: podman starting a pasta for each container on a custom network."""
    claim = load_default().get("pasta.processes.custom-networks")
    recorder = Recorder(Run("r", 0.0), tmp_path)
    with pytest.raises(ClaimMismatch):
        recorder.check(claim, len(new_pastas({}, recorded("containers"))))
    assert recorder.run.results[0].outcome == "failed"


def test_no_pasta_is_believed_only_when_the_control_counted_one() -> None:
    assert none_counted(0, control=1) == 0
    assert none_counted(1, control=1) == 1  # a pasta for none/host: the claim fails
    with pytest.raises(NoObservation, match="does not see pasta"):
        none_counted(0, control=0)
