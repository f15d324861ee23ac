"""The privileged-port judge (podman 6's pasta forwarder) fed wrong worlds."""

from __future__ import annotations

import pytest

from harness.results.recorder import NoObservation
from scenarios.test_pesto_privileged import Publish, refused

ROOTLESSPORT = Publish(126, "Error: rootlessport cannot expose privileged port 80, you can "
                       "add 'net.ipv4.ip_unprivileged_port_start=80' to /etc/sysctl.conf",
                       False)


def test_a_quiet_exit_0_is_not_refused() -> None:
    assert refused(Publish(0, "", False), ROOTLESSPORT) is False


def test_a_reported_failure_is_refused() -> None:
    assert refused(Publish(126, "Error: pasta failed to bind", False), ROOTLESSPORT) is True


def test_a_port_that_is_not_privileged_is_no_observation() -> None:
    with pytest.raises(NoObservation, match="not privileged"):
        refused(Publish(0, "", False), Publish(0, "", True))
    with pytest.raises(NoObservation, match="serves"):
        refused(Publish(0, "", True), ROOTLESSPORT)
