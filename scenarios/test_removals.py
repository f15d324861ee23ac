"""The newest guide's removal note: "Support for Slirp4nets will be removed in Podman 6.0"
(section Slirp4netns). On podman 6.0 and later, ``--network=slirp4netns`` is refused
with podman's own removal message while ``--network=pasta`` runs (the control)."""

from __future__ import annotations

from typing import Any

import pytest

from harness import containers
from harness.capabilities import REMOVED
from harness.claims import Claim, load_default
from harness.outbound_params import params
from harness.results.recorder import NoObservation, Recorder
from harness.targets.base import Target

pytestmark = [pytest.mark.lab]

REGISTRY = load_default()


def removed(status: int, text: str, control: int, control_text: str, tool: str) -> bool:
    """Whether podman refused ``tool`` as removed; believed only while the control ran."""
    if control != 0:
        raise NoObservation(f"the control (--network=pasta) did not run: {control_text[-200:]}")
    if status == 0:
        return False
    if REMOVED[tool].search(text):
        return True
    raise NoObservation(f"refused for another reason: exit {status}: {text[-200:]}")


@pytest.mark.parametrize("claim", params(REGISTRY.select("network_tool_removed")))
def test_removed(claim: Claim, target: Target, recorder: Recorder, applicable: Any) -> None:
    applicable(claim)
    tool = claim.extra["tool"]
    status, text = containers.refusal(target, [f"--network={tool}"])
    control, control_text = containers.refusal(target, ["--network=pasta"])
    recorder.check(claim, removed(status, text, control, control_text, tool), evidence={
        "exit": status, "podman": text[-300:], "control_exit": control})
