"""The reboot troubleshooting checks (scenarios/test_reboot.py) on recorded
observations, and fed the wrong worlds: each must fail or error, never pass.

``fixtures/reboot/late-network-trixie.json`` is the evidence of a lab run (podman 5.4.2,
passt 2025-05-03, systemd 257): host1 rebooted three times with its main interface
configured late. The wrong worlds are that recording with one thing changed.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from harness.claims import load_default
from harness.results.recorder import NoObservation
from harness.words import PROPERTY_WORDS, value_words
from scenarios.test_reboot import (
    AFTER_ONLINE,
    COMMANDS,
    EXAMPLE,
    GUIDE_EXAMPLE,
    STARTED,
    WorldSeen,
    activating_state,
    active_state_values,
    podman_error,
    reboot_failure,
    starts_after_late_network,
    waits_for_system_target,
)

FIXTURES = Path(__file__).parent / "fixtures" / "reboot"
RECORDED = json.loads((FIXTURES / "late-network-trixie.json").read_text())
REGISTRY = load_default()
WAIT, ONLINE = COMMANDS
#: The guide's journal lines for the failing example.
GUIDE_ERROR = "Error: pasta failed with exit code 1:\nExternal interface not usable"


def world(name: str) -> WorldSeen:
    return WorldSeen.from_evidence(RECORDED[name])


def expected(claim_id: str) -> Any:
    return REGISTRY.get(f"ports.troubleshooting.{claim_id}").expected


def with_unit(seen: WorldSeen, role: str, **changes: Any) -> WorldSeen:
    units = {**seen.units, role: dataclasses.replace(seen.units[role], **changes)}
    return dataclasses.replace(seen, units=units)


def network_from_the_start(seen: WorldSeen) -> WorldSeen:
    """The address present from the start: nothing fails, network-online.target active."""
    started = {role: dataclasses.replace(u, state="active", error="", final_state="active")
               for role, u in seen.units.items()}
    return dataclasses.replace(seen, units=started,
                               late={**seen.late, ONLINE: "active"})


CONTROL, FIRST, SECOND = world("without the fix"), world("Alternative 1"), world("Alternative 2")


def test_the_recording_is_a_late_network() -> None:
    """Without the fix the example failed because its address was missing."""
    assert "Cannot assign requested address" in CONTROL.units[EXAMPLE].error
    assert CONTROL.late[ONLINE] == "inactive" and SECOND.late[ONLINE] == "inactive"


@pytest.mark.parametrize("error", [
    # passt 2026-10-02 (sid), recorded in the lab
    "Error: pasta failed with exit code 1:\nListen failed for HOST TCP port 192.0.2.1/8080: "
    "Cannot assign requested address",
], ids=["sid"])
def test_other_passt_wording_of_the_control(error: str) -> None:
    seen = with_unit(CONTROL, EXAMPLE, error=error)
    assert reboot_failure(seen) == STARTED


def test_podman_error_of_a_journal() -> None:
    journal = (FIXTURES / "journal-bind-failure.txt").read_text()
    assert podman_error(journal) == (
        "Error: pasta failed with exit code 1:\nFailed to bind port 8091 (Cannot assign "
        "requested address) for option '-t 192.0.2.1/8091-8091:8080-8080'")
    assert podman_error("Starting x.service...\nStarted x.service.\n") == ""


# --- reboot-fails ---------------------------------------------------------------------------

def matches_reboot_failure(observed: str) -> bool:
    return str(expected("reboot-fails")) in observed  # the suite's matches=


def test_reboot_fails_recorded_differs() -> None:
    """passt 2025-05-03 starts without an external interface: the guide's example starts."""
    observed = reboot_failure(CONTROL)
    assert observed == STARTED and not matches_reboot_failure(observed)
    words = value_words("fails_after_reboot_late_network", observed)
    assert words == "starts, no error"


def test_reboot_fails_passes_in_the_guides_world() -> None:
    seen = with_unit(CONTROL, GUIDE_EXAMPLE, state="failed", error=GUIDE_ERROR)
    assert matches_reboot_failure(reboot_failure(seen))


def test_reboot_fails_another_pasta_failure_differs() -> None:
    error = CONTROL.units[EXAMPLE].error  # pasta: Cannot assign requested address
    seen = with_unit(CONTROL, GUIDE_EXAMPLE, state="failed", error=error)
    assert not matches_reboot_failure(reboot_failure(seen))


@pytest.mark.parametrize("error", [
    "Error: cannot remove container 1c8c2ef7854b as it could not be stopped: container "
    "1c8c2ef7854b conmon exited prematurely, exit code could not be retrieved: internal "
    "libpod error",
    ""], ids=["conmon", "silent"])
def test_reboot_fails_unrelated_failures_are_no_observation(error: str) -> None:
    seen = with_unit(CONTROL, GUIDE_EXAMPLE, state="failed", error=error)
    with pytest.raises(NoObservation, match="another reason"):
        reboot_failure(seen)


def test_reboot_fails_network_from_the_start_is_no_observation() -> None:
    with pytest.raises(NoObservation, match="network was not late"):
        reboot_failure(network_from_the_start(CONTROL))


# --- no-system-target-dependency ------------------------------------------------------------

def test_user_service_does_not_wait_recorded() -> None:
    assert waits_for_system_target(CONTROL, SECOND) is expected("no-system-target-dependency")


def test_user_service_that_waits_fails_the_check() -> None:
    """If systemd honoured the dependency, the user service would start after the target."""
    seen = with_unit(CONTROL, AFTER_ONLINE, started_at=CONTROL.online_at + 1000)
    assert waits_for_system_target(seen, SECOND) is True


def test_system_target_dependency_without_control_is_no_observation() -> None:
    early = with_unit(SECOND, EXAMPLE, started_at=SECOND.online_at - 1000)
    with pytest.raises(NoObservation, match="cannot tell"):
        waits_for_system_target(CONTROL, early)
    with pytest.raises(NoObservation, match="network was not late"):
        waits_for_system_target(network_from_the_start(CONTROL), SECOND)


# --- wait-online-remedy, until-loop-remedy --------------------------------------------------

@pytest.mark.parametrize("remedied", [FIRST, SECOND], ids=["alternative-1", "alternative-2"])
def test_remedies_recorded(remedied: WorldSeen) -> None:
    assert starts_after_late_network(CONTROL, remedied) is True
    assert expected("wait-online-remedy") is True and expected("until-loop-remedy") is True


@pytest.mark.parametrize("change", [
    {"final_state": "failed", "served": None},      # the remedy does not hold the start
    {"served": False},                              # started, but serves nothing
    {"started_at": 1},                              # started before network-online.target
], ids=["failed", "not-served", "started-early"])
@pytest.mark.parametrize("remedied", [FIRST, SECOND], ids=["alternative-1", "alternative-2"])
def test_remedy_wrong_worlds_fail(remedied: WorldSeen, change: dict[str, Any]) -> None:
    assert starts_after_late_network(CONTROL, with_unit(remedied, EXAMPLE, **change)) is False


def test_remedy_without_failing_control_is_no_observation() -> None:
    with pytest.raises(NoObservation, match="network was not late"):
        starts_after_late_network(network_from_the_start(CONTROL), SECOND)


# --- activating-state, active-state-commands ------------------------------------------------

def test_activating_recorded() -> None:
    assert activating_state(SECOND) == expected("activating-state")


@pytest.mark.parametrize("late, after", [
    ("inactive", "active"),        # the wait service not pulled in (Wants= missing)
    ("activating", "activating"),  # never leaves activating
    ("failed", "failed"),          # the until loop gave up
])
def test_activating_wrong_worlds_fail(late: str, after: str) -> None:
    seen = dataclasses.replace(SECOND, late={**SECOND.late, WAIT: late},
                               after={**SECOND.after, WAIT: after})
    assert activating_state(seen) != expected("activating-state")


def test_activating_with_network_from_the_start_is_no_observation() -> None:
    with pytest.raises(NoObservation):
        activating_state(network_from_the_start(SECOND))


def matches_active_states(observed: list[str]) -> bool:
    return set(observed) <= set(expected("active-state-commands"))  # the suite's matches=


def test_active_states_recorded_differ() -> None:
    """A target has no activating state: network-online.target prints inactive while late."""
    observed = active_state_values(SECOND)
    assert observed == ["activating", "active", "inactive"]
    assert not matches_active_states(observed)


def test_active_states_pass_when_only_active_or_activating() -> None:
    seen = dataclasses.replace(SECOND, late={WAIT: "activating", ONLINE: "activating"})
    assert matches_active_states(active_state_values(seen))


def test_active_states_failed_unit_fails() -> None:
    seen = dataclasses.replace(SECOND, late={WAIT: "failed", ONLINE: "activating"})
    assert not matches_active_states(active_state_values(seen))


def test_active_states_network_from_the_start_is_no_observation() -> None:
    with pytest.raises(NoObservation):
        active_state_values(network_from_the_start(SECOND))


def test_words_for_every_reboot_property() -> None:
    for claim_id in ("reboot-fails", "no-system-target-dependency", "wait-online-remedy",
                     "until-loop-remedy", "activating-state", "active-state-commands"):
        claim = REGISTRY.get(f"ports.troubleshooting.{claim_id}")
        assert claim.property in PROPERTY_WORDS
        assert not claim.unchecked
    assert value_words("fails_after_reboot_late_network", GUIDE_ERROR) == (
        f"fails, saying “{GUIDE_ERROR}”")


def test_podmans_internal_error_after_a_reboot_observes_the_world_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """podman's own failure after the reboot ("conmon exited prematurely ... internal
    libpod error") says nothing about the network: the world is observed once more, and
    the first reboot's error stays in the notes. Any other failure is kept as observed."""
    from scenarios import test_reboot

    internal = ("Error: cannot remove container f4b8 as it could not be stopped: container "
                "f4b8 conmon exited prematurely, exit code could not be retrieved: "
                "internal libpod error")
    seen = [with_unit(CONTROL, GUIDE_EXAMPLE, state="failed", error=internal),
            dataclasses.replace(CONTROL, notes=dict(CONTROL.notes))]
    monkeypatch.setattr(test_reboot, "observe", lambda *args: seen.pop(0))
    again = test_reboot.observe_whole(None, None, None, True)  # type: ignore[arg-type]
    assert again.units == CONTROL.units and not seen
    assert again.notes["observed_again_after"] == {GUIDE_EXAMPLE: internal}
    with pytest.raises(NoObservation):  # without the second look it would be an error
        reboot_failure(with_unit(CONTROL, GUIDE_EXAMPLE, state="failed", error=internal))
    other = with_unit(CONTROL, GUIDE_EXAMPLE, state="failed", error="Error: something else")
    monkeypatch.setattr(test_reboot, "observe", lambda *args: other)
    assert test_reboot.observe_whole(None, None, None, True) is other  # type: ignore[arg-type]
