"""The guide's "Number of Pasta processes": one pasta process for everything on custom
networks, one per running pod infra container, one per container outside a pod, none
for ``--network=none`` and ``--network=host``.

Each situation is set up while none of its own kind runs; the rootless user's pasta
processes that appear meanwhile are counted (their argv, whose ``--netns`` names the
namespace each one serves, is the evidence). A count of none has a positive control:
the same probe counts the pasta of a container started with ``--network=pasta``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import ExitStack
from typing import Any

import pytest

from harness import containers
from harness.claims import Claim, load_default
from harness.outbound_params import params
from harness.probes import procs
from harness.results.recorder import NoObservation, Recorder
from harness.targets.base import Target
from harness.wait import NotReady, poll

pytestmark = [pytest.mark.lab, pytest.mark.pasta]

REGISTRY = load_default()
SLEEP = ["sleep", "300"]
#: What the --netns of the pasta serving every custom network ends with (podman's
#: rootless network namespace, $XDG_RUNTIME_DIR/containers/networks/rootless-netns/).
ROOTLESS_NETNS = "rootless-netns"
#: How long a pasta process of an earlier situation may take to end.
SETTLE = 15.0

Pastas = dict[int, list[str]]


def pastas(target: Target) -> Pastas:
    """The rootless user's pasta processes: pid -> argv."""
    return {pid: procs.argv(target, pid) for pid in sorted(procs.pids(target, "pasta"))}


def new_pastas(before: Mapping[int, list[str]], after: Mapping[int, list[str]]) -> Pastas:
    """The pasta processes of ``after`` that were not running ``before``."""
    return {pid: list(args) for pid, args in after.items() if pid not in before}


def serves_custom_networks(args: list[str]) -> bool:
    return any(v.rstrip("/").endswith(ROOTLESS_NETNS) for v in procs.option_values(args, "--netns"))


def none_counted(count: int, control: int) -> int:
    """A count of no pasta process, believed only when the same probe counted the
    control container's own pasta."""
    if control != 1:
        raise NoObservation(f"the control (a --network=pasta container) counted {control} new "
                            "pasta processes, not 1: the probe does not see pasta")
    return count


def _custom_networks(target: Target, stack: ExitStack) -> None:
    """Containers on two custom networks and a pod on one of them, with a container."""
    first = stack.enter_context(containers.network(target))
    second = stack.enter_context(containers.network(target))
    for net in (first, second):
        stack.enter_context(containers.running(target, [f"--network={net}"], SLEEP))
    pod = stack.enter_context(containers.pod(target, [f"--network={first}"]))
    stack.enter_context(containers.running(target, [f"--pod={pod}"], SLEEP))


def _pod_with_containers(target: Target, stack: ExitStack) -> None:
    pod = stack.enter_context(containers.pod(target, ["--network=pasta"]))
    for _ in range(2):
        stack.enter_context(containers.running(target, [f"--pod={pod}"], SLEEP))


def _pod_started(target: Target, stack: ExitStack) -> None:
    """``podman pod start`` of a pod without containers: only its infra container runs."""
    pod = stack.enter_context(containers.pod(target, ["--network=pasta"]))
    target.podman("pod", "start", pod)


def _pod_containers_stopped(target: Target, stack: ExitStack) -> None:
    """A pod whose only container was started and stopped again."""
    pod = stack.enter_context(containers.pod(target, ["--network=pasta"]))
    name = stack.enter_context(containers.running(target, [f"--pod={pod}"], SLEEP))
    target.podman("stop", "--time", "0", name)


def _containers(target: Target, stack: ExitStack) -> None:
    for _ in range(2):
        stack.enter_context(containers.running(target, ["--network=pasta"], SLEEP))


def _none_and_host(target: Target, stack: ExitStack) -> None:
    for network in ("none", "host"):
        stack.enter_context(containers.running(target, [f"--network={network}"], SLEEP))


#: The claim's ``situation`` -> how it is set up (every object is removed by ``stack``).
SITUATIONS: dict[str, Callable[[Target, ExitStack], None]] = {
    "custom-networks": _custom_networks,
    "pod-with-containers": _pod_with_containers,
    "pod-started": _pod_started,
    "pod-containers-stopped": _pod_containers_stopped,
    "containers": _containers,
    "none-and-host": _none_and_host,
}


def _quiet_start(target: Target) -> Pastas:
    """The pasta processes running before a situation, once none serves custom networks
    (that one would be shared with the situation's, and not counted)."""
    try:
        return poll(lambda: (found if not any(map(serves_custom_networks, (found := pastas(
            target)).values())) else None), what="no pasta serving custom networks",
            timeout=SETTLE)
    except NotReady as exc:
        raise NoObservation(f"a pasta process serving custom networks runs already: {exc}"
                            ) from exc


def _evidence(found: Pastas) -> dict[str, Any]:
    return {f"pasta {pid}": " ".join(args) for pid, args in found.items()}


@pytest.mark.parametrize("claim", params(REGISTRY.select("pasta_process_count")))
def test_pasta_process_count(claim: Claim, target: Target, recorder: Recorder,
                             applicable: Any) -> None:
    applicable(claim)
    situation = claim.extra["situation"]
    before = _quiet_start(target)
    with ExitStack() as stack:
        SITUATIONS[situation](target, stack)
        found = new_pastas(before, pastas(target))
        evidence = {"situation": situation, "new_pasta_processes": len(found),
                    **_evidence(found)}
        if claim.expected == 0:
            with containers.running(target, ["--network=pasta"], SLEEP):
                control = new_pastas(before, pastas(target))
            evidence["control_new_pasta_processes"] = len(control)
            count = none_counted(len(found), len(control) - len(found))
        else:
            count = len(found)
    recorder.check(claim, count, evidence=evidence)
