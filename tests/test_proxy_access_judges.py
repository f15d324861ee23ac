"""The proxy-access checks (AddHost= host-gateway, NetworkAlias=) fed wrong worlds: curl's
output and the proxy service's states recorded in the lab (podman 5.4.2, trixie)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.results.recorder import ClaimMismatch, NoObservation
from scenarios.test_proxy_access import Fetch, on_demand, reached
from tests.claim_check import check

SERVED = Fetch(0, "200")
REFUSED = Fetch(7, "000curl: (7) Failed to connect to whoami.example.com port 8080 after 1 ms")
NO_NAME = Fetch(28, "000curl: (28) Resolving timed out after 3000 milliseconds")


def test_an_internal_network_reaching_the_proxy_fails(tmp_path: Path) -> None:
    with pytest.raises(ClaimMismatch):
        check("reverse-proxy.custom-network.addhost-internal-true", reached(SERVED, None),
               tmp_path)


def test_an_alias_resolving_before_the_proxy_runs_fails(tmp_path: Path) -> None:
    with pytest.raises(ClaimMismatch):
        check("reverse-proxy.custom-network.alias-not-on-demand", reached(SERVED, None),
               tmp_path)
    check("reverse-proxy.custom-network.alias-not-on-demand", reached(NO_NAME, SERVED),
           tmp_path)


def test_a_proxy_already_running_is_not_started_on_demand(tmp_path: Path) -> None:
    running = {"service_before": "active", "service_after": "active"}
    with pytest.raises(ClaimMismatch):
        check("reverse-proxy.custom-network.addhost-internal-false",
               on_demand(SERVED, running), tmp_path)
    check("reverse-proxy.custom-network.addhost-internal-false",
           on_demand(SERVED, {"service_before": "inactive", "service_after": "active"}),
           tmp_path)


@pytest.mark.parametrize(("fetch", "control"), [
    (REFUSED, REFUSED), (REFUSED, None), (Fetch(1, "curl: (1) unsupported protocol"), SERVED)])
def test_no_control_or_another_failure_is_no_observation(fetch: Fetch,
                                                         control: Fetch | None) -> None:
    with pytest.raises(NoObservation):
        reached(fetch, control)
