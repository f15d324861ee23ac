"""The guide's two ways of showing the default rootlessNetworkCmd: ``podman info``'s
template field and the same field of its JSON output (the guide reads it with jq)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.claims import Claim
from harness.results.recorder import Recorder
from harness.targets.base import Target

pytestmark = [pytest.mark.lab, pytest.mark.pasta_options]



@pytest.mark.claims("ports.rootless-cmd.json")
def test_rootless_network_cmd_json(claim: Claim, target: Target, recorder: Recorder, applicable: Any) -> None:
    """``.host.rootlessNetworkCmd`` of ``podman info -f json`` is the template's value,
    and neither is empty."""
    applicable(claim)
    template = target.podman("info", "-f", "{{.Host.RootlessNetworkCmd}}").stdout.strip()
    host = json.loads(target.podman("info", "-f", "json").stdout).get("host", {})
    from_json = host.get("rootlessNetworkCmd")
    recorder.check(claim, bool(template) and from_json == template, evidence={
        "podman info -f {{.Host.RootlessNetworkCmd}}": template,
        "podman info -f json | .host.rootlessNetworkCmd": repr(from_json)})
