"""The slirp4netns removal judge fed wrong worlds (podman 6.1.1's message, recorded on
experimental)."""

from __future__ import annotations

import pytest

from harness.results.recorder import NoObservation
from scenarios.test_removals import removed

MESSAGE = "Error: slirp4netns support has been removed, use --network=pasta instead"


def test_refused_as_removed() -> None:
    assert removed(125, MESSAGE, 0, "", "slirp4netns") is True


def test_still_running_is_not_removed() -> None:
    assert removed(0, "", 0, "", "slirp4netns") is False


@pytest.mark.parametrize(("status", "text", "control"), [
    (125, "Error: localhost/podnet/web: image not known", 0),
    (125, MESSAGE, 125),
])
def test_other_refusals_or_a_failed_control_are_no_observation(status: int, text: str,
                                                               control: int) -> None:
    with pytest.raises(NoObservation):
        removed(status, text, control, "Error", "slirp4netns")
