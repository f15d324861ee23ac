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
from harness.probes.reach import Publication, publishes, served_or_refused
from harness.results.recorder import Recorder
from harness.targets.base import Target
from scenarios.params import method_params

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


@pytest.mark.parametrize(("claim", "protocol"),
                         method_params(REGISTRY.select("minimum_port"), protocols=True))
def test_minimum_port(claim: Claim, protocol: str | None, target: Target, client: Client,
                      recorder: Recorder, applicable: Any) -> None:
    method = get_method(claim.method or "")
    applicable(claim, method, protocol)
    proto = protocol or "tcp"
    with sysctl_set(target, KEY, str(START)):
        below = publishes(target, method, client, BELOW, proto)
        at = publishes(target, method, client, START, proto)
    # The port at the setting is the positive control: minimum_port fails the claim when
    # it is not served. Below it, only a refusal for being privileged is an observation.
    recorder.check(claim, minimum_port(served_or_refused(below, BELOW), at.served),
                   protocol=protocol, evidence={
                       KEY: START, f"port {BELOW}": below.describe(),
                       f"port {START}": at.describe()})


@pytest.mark.claims("ports.unprivileged.read")
def test_read_setting(claim: Claim, target: Target, recorder: Recorder, applicable: Any) -> None:
    applicable(claim)
    value = target.sysctl(KEY)
    recorder.check(claim, int(value), evidence={"/proc/sys/net/ipv4/ip_unprivileged_port_start": value})


@pytest.mark.claims("ports.unprivileged.lowered")
def test_lowered_setting(claim: Claim, target: Target, client: Client, recorder: Recorder,
                         applicable: Any) -> None:
    method = get_method(claim.method or "")
    applicable(claim, method)
    with sysctl_set(target, KEY, str(START)):
        refused = publishes(target, method, client, BELOW)
    with sysctl_set(target, KEY, str(BELOW)):
        lowered = publishes(target, method, client, BELOW)
    recorder.check(claim, lowering_works(refused, lowered, BELOW), evidence={
        f"port {BELOW} with {KEY}={START}": refused.describe(),
        f"port {BELOW} with {KEY}={BELOW}": lowered.describe()})


def lowering_works(before: Publication, after: Publication, port: int) -> bool:
    """The port is refused as privileged before the setting is lowered and served after;
    before, only that specific refusal (or serving) is an observation."""
    return after.served and not served_or_refused(before, port)


@pytest.mark.claims("ports.unprivileged.system-service")
def test_system_service_alternative(claim: Claim, target: Target, client: Client, recorder: Recorder,
                                    applicable: Any) -> None:
    method = get_method(claim.method or "")
    applicable(claim, method)
    with sysctl_set(target, KEY, str(START)):
        published = publishes(target, method, client, BELOW)
        setting = target.sysctl(KEY)
    recorder.check(claim, published.served, evidence={f"port {BELOW}": published.describe(),
                                                      KEY: setting})
