"""ip_unprivileged_port_start: the minimum port per inbound method, and the guide's
"Configure ip_unprivileged_port_start" section.

The setting is per network namespace: it is only changed inside host1 and always
restored. A method's minimum port is measured by publishing one port below the setting
and one at it: "ip_unprivileged_port_start" means below fails and at works; 0 means a
port below the setting works too.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.claims import Claim, load_default
from harness.clients.base import Client
from harness.methods import get_method
from harness.probes.netconf import sysctl_set
from harness.probes.reach import publishes
from harness.pytest_plugin import method_params
from harness.results.recorder import Recorder
from harness.targets.base import Target

pytestmark = [pytest.mark.lab, pytest.mark.unprivileged_port]

REGISTRY = load_default()
KEY = "net.ipv4.ip_unprivileged_port_start"
START = 1024
BELOW = 80


def minimum_port(below_ok: bool, at_ok: bool) -> str | int:
    if at_ok and not below_ok:
        return "ip_unprivileged_port_start"
    if at_ok and below_ok:
        return 0
    return f"cannot publish at ip_unprivileged_port_start either (below: {below_ok})"


@pytest.mark.parametrize(("claim", "protocol"), method_params(REGISTRY.select("minimum_port")))
def test_minimum_port(claim: Claim, protocol: str | None, target: Target, client: Client,
                      recorder: Recorder, applicable: Any) -> None:
    method = get_method(claim.method or "")
    applicable(claim, method)
    with sysctl_set(target, KEY, str(START)):
        below_ok, below_said = publishes(target, method, client, BELOW)
        at_ok, at_said = publishes(target, method, client, START)
    recorder.check(claim, minimum_port(below_ok, at_ok), evidence={
        KEY: START, f"port {BELOW}": below_said, f"port {START}": at_said})


@pytest.mark.claims("ports.unprivileged.read")
def test_read_setting(target: Target, recorder: Recorder, applicable: Any) -> None:
    claim = REGISTRY.get("ports.unprivileged.read")
    applicable(claim)
    value = target.sysctl(KEY)
    recorder.check(claim, int(value), evidence={"/proc/sys/net/ipv4/ip_unprivileged_port_start": value})


@pytest.mark.claims("ports.unprivileged.lowered")
def test_lowered_setting(target: Target, client: Client, recorder: Recorder,
                         applicable: Any) -> None:
    claim = REGISTRY.get("ports.unprivileged.lowered")
    method = get_method(claim.method or "")
    applicable(claim, method)
    with sysctl_set(target, KEY, str(START)):
        refused_ok, refused_said = publishes(target, method, client, BELOW)
    with sysctl_set(target, KEY, str(BELOW)):
        lowered_ok, lowered_said = publishes(target, method, client, BELOW)
    recorder.check(claim, lowered_ok and not refused_ok, evidence={
        f"port {BELOW} with {KEY}={START}": refused_said,
        f"port {BELOW} with {KEY}={BELOW}": lowered_said})


@pytest.mark.claims("ports.unprivileged.system-service")
def test_system_service_alternative(target: Target, client: Client, recorder: Recorder,
                                    applicable: Any) -> None:
    claim = REGISTRY.get("ports.unprivileged.system-service")
    method = get_method(claim.method or "")
    applicable(claim, method)
    with sysctl_set(target, KEY, str(START)):
        ok, said = publishes(target, method, client, BELOW)
        setting = target.sysctl(KEY)
    recorder.check(claim, ok, evidence={f"port {BELOW}": said, KEY: setting})
