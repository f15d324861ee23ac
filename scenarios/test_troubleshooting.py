"""The guide's troubleshooting section: "External interface not usable" without a usable
network, its solutions, and the quadlet dependency on podman-user-wait-network-online.

"No usable network" is made by removing every route of host1's main table (a laptop
without a network); the routes are always put back. Those checks need an isolated target
(the lab): on a workstation they are skipped, never run.
"""

from __future__ import annotations

import shlex
from typing import Any

import pytest

from harness import containers, quadlet
from harness.capabilities import Capabilities
from harness.claims import Claim, load_default
from harness.podman.info import PodmanInfo
from harness.probes.netconf import route_to, routes_removed, unusable_proof
from harness.results.recorder import NoObservation, Recorder
from harness.services import IMAGE, container_file
from harness.targets.base import Target

pytestmark = [pytest.mark.lab, pytest.mark.troubleshooting]

REGISTRY = load_default()
WAIT_SERVICE = "podman-user-wait-network-online.service"
WAIT_SERVICE_PATH = f"/usr/lib/systemd/user/{WAIT_SERVICE}"


def _echo(target: Target, *network: str) -> tuple[int, str]:
    options = [f"--network={n}" for n in network]
    done = target.podman("run", "--rm", *options, IMAGE, "echo", "hello world", check=False)
    return done.returncode, (done.stdout + done.stderr).strip()


@pytest.mark.claims("ports.troubleshooting.no-network-pasta-fails")
def test_pasta_without_network(claim: Claim, target: Target, info: PodmanInfo, recorder: Recorder,
                               capabilities: Capabilities) -> None:
    if missing := capabilities.missing("isolated"):
        recorder.skip(claim, missing)
        pytest.skip(missing)
    with routes_removed(target) as removed:
        status, said = _echo(target)
    evidence = {"removed_routes": [r.describe() for r in removed], "exit": status,
                "podman": said}
    # Run first, so a "not applicable" result still says what happened.
    ok, reason = claim.applies(info.components.as_conditions())
    if not ok:
        recorder.skip(claim, f"{reason}; observed: exit {status}: {said[:200]}",
                      outcome="not_applicable")
        pytest.skip(reason)
    recorder.check(claim, said, evidence=evidence,
                   matches=lambda expected, observed: status != 0 and expected in observed)


@pytest.mark.parametrize("claim", [
    pytest.param(c, id=c.extra["networks"][0])
    for c in REGISTRY.select("runs_without_network")])
def test_solutions(claim: Claim, target: Target, recorder: Recorder, applicable: Any) -> None:
    applicable(claim)
    before = route_to(target)
    with routes_removed(target) as removed:
        during = [route_to(target)]
        status, said = _echo(target, *claim.extra["networks"])
        during.append(route_to(target))
    recorder.check(claim, solution_works(status, said, before, during), evidence={
        "removed_routes": len(removed), "exit": status, "output": said[-300:],
        "ip route get before": before, "ip route get during": " | ".join(during)})


def solution_works(status: int, said: str, before: str, during: list[str]) -> bool:
    """A solution works without a usable network: only judged when the network was shown
    unusable before and after the container ran (else the check saw a usable network)."""
    if why := unusable_proof(before, during):
        raise NoObservation(why)
    return status == 0 and "hello world" in said


@pytest.mark.claims("ports.troubleshooting.wait-online-service")
def test_wait_online_service(claim: Claim, target: Target, recorder: Recorder, applicable: Any) -> None:
    applicable(claim)
    done = target.run(["cat", WAIT_SERVICE_PATH], check=False)
    lines = [ln.split("=", 1)[1] for ln in done.stdout.splitlines() if ln.startswith("ExecStart=")]
    script = shell_script(lines[0]) if lines else None
    recorder.check(claim, script, evidence={"file": WAIT_SERVICE_PATH, "found": done.ok,
                                            "ExecStart": lines[0] if lines else None})


def shell_script(command: str) -> str | None:
    """The script of ``[/bin/]sh -c 'SCRIPT'``, else None."""
    words = shlex.split(command)
    if len(words) == 3 and words[0] in ("sh", "/bin/sh", "/usr/bin/sh") and words[1] == "-c":
        return words[2]
    return None


@pytest.mark.claims("ports.troubleshooting.quadlet-dependency")
def test_quadlet_dependency(claim: Claim, target: Target, recorder: Recorder, applicable: Any) -> None:
    applicable(claim)
    name = containers.unique("wait")
    with quadlet.container_unit(target, name, container_file(name, []), start=False) as svc:
        unit = target.systemctl_user("cat", svc, check=False).stdout
        generated = quadlet.dryrun(target)
    deps = {key: any(ln.startswith(f"{key}=") and WAIT_SERVICE in ln for ln in unit.splitlines())
            for key in ("Wants", "After")}
    recorder.check(claim, all(deps.values()), evidence={
        **deps, "in_dryrun": WAIT_SERVICE in generated,
        "unit_lines": [ln for ln in unit.splitlines() if WAIT_SERVICE in ln]})
