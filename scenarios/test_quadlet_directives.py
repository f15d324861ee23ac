"""The guide's "Quadlets" section: what the quadlet generator makes of ``Network=``,
``NetworkName=`` and ``[Quadlet] DefaultDependencies=false`` (read from its
``--dryrun`` output), several ``Network=`` lines with ``none`` or ``pasta``, ``-p``
with ``--network=host``, and ``ip_unprivileged_port_start`` in a container.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest

from harness import containers
from harness.claims import Claim, load_default
from harness.outbound_params import params
from harness.quadlet import dryrun
from harness.results.recorder import NoObservation, Recorder
from harness.services import IMAGE, PREFIX
from harness.targets.base import QUADLET_DIR, Target

pytestmark = [pytest.mark.lab]

REGISTRY = load_default()
WAIT_ONLINE = "podman-user-wait-network-online.service"
#: Placeholders of the claims' quadlet lines: the .network file's stem, a NetworkName=.
STEM, NAME = "{stem}", "{network_name}"


@contextmanager
def quadlet_files(target: Target, files: dict[str, str]) -> Iterator[None]:
    """Quadlet files (session-marked) in the user's quadlet directory, removed on exit."""
    paths = {f"{target.home}/{QUADLET_DIR}/{name}": text for name, text in files.items()}
    try:
        for path, text in paths.items():
            target.write_file(path, target.label_quadlet(path, text))
        yield
    finally:
        target.undo_units(*paths)


def generated_units(output: str) -> dict[str, str]:
    """The generator's ``--dryrun`` output: unit name -> its text."""
    units: dict[str, str] = {}
    name = None
    for line in output.splitlines():
        if match := re.fullmatch(r"---(.+)---", line.strip()):
            name = match.group(1)
            units[name] = ""
        elif name is not None:
            units[name] += line + "\n"
    return units


def dependencies(unit: str, network_service: str) -> dict[str, bool]:
    lines = {line.strip() for line in unit.splitlines()}
    return {"wait_online": f"After={WAIT_ONLINE}" in lines or f"Wants={WAIT_ONLINE}" in lines,
            "requires_network_service": f"Requires={network_service}" in lines,
            "after_network_service": f"After={network_service}" in lines}


def network_option(unit: str) -> str | None:
    """The --network value of the unit's podman run (ExecStart=)."""
    for line in unit.splitlines():
        if line.startswith("ExecStart=") and " run " in line:
            match = re.search(r"--network[= ](\S+)", line)
            return match.group(1) if match else None
    return None


def _generate(target: Target, claim: Claim) -> tuple[dict[str, str], str, str, str]:
    """Write the claim's .network and .container files; the generated units, the
    container unit's and network unit's names, and the NetworkName= chosen."""
    token = secrets.token_hex(3)
    stem, name, container = f"{PREFIX}qnet-{token}", f"{PREFIX}named-{token}", f"{PREFIX}q-{token}"
    files = {}
    if "network_file" in claim.extra:
        files[f"{stem}.network"] = claim.extra["network_file"].replace(NAME, name)
    files[f"{container}.container"] = "\n".join([
        *claim.extra.get("quadlet", []), "[Container]", f"Image={IMAGE}",
        *(line.replace(STEM, stem) for line in claim.extra.get("container", [])), ""])
    with quadlet_files(target, files):
        units = generated_units(dryrun(target))
    if f"{container}.service" not in units:
        raise NoObservation(f"the generator made no {container}.service: {sorted(units)}")
    return units, f"{container}.service", stem, name


@pytest.mark.parametrize("claim", params(REGISTRY.select("quadlet_dependencies")))
def test_dependencies(claim: Claim, target: Target, recorder: Recorder, applicable: Any) -> None:
    applicable(claim)
    units, service, stem, _ = _generate(target, claim)
    found = dependencies(units[service], f"{stem}-network.service")
    recorder.check(claim, {key: found[key] for key in claim.expected},
                   evidence={service: units[service]})


def generated_name(option: str | None, stem: str, name: str) -> str | None:
    """The network name quadlet gave, with the file's stem and the NetworkName= value
    written as the claims' placeholders."""
    return None if option is None else option.replace(name, NAME).replace(stem, STEM)


@pytest.mark.parametrize("claim", params(REGISTRY.select("quadlet_network_name")))
def test_network_name(claim: Claim, target: Target, recorder: Recorder, applicable: Any) -> None:
    applicable(claim)
    units, service, stem, name = _generate(target, claim)
    option = network_option(units[service])
    recorder.check(claim, generated_name(option, stem, name), evidence={
        "network_file_stem": stem, "podman_run_network": option or "",
        f"{stem}-network.service": units.get(f"{stem}-network.service", "")})


@pytest.mark.parametrize("claim", params(REGISTRY.select("several_network_lines_refused")))
def test_several_network_lines(claim: Claim, target: Target, recorder: Recorder,
                               applicable: Any) -> None:
    """The podman run options the generator makes of two Network= lines (one of them
    none or pasta), refused; two custom networks, accepted, are the control."""
    applicable(claim)
    with ExitStack() as stack:
        nets = [stack.enter_context(containers.network(target)) for _ in range(2)]
        control, control_text = containers.refusal(target, [f"--network={n}" for n in nets])
        status, text = containers.refusal(
            target, [f"--network={n.format(custom=nets[0])}" for n in claim.extra["networks"]])
    recorder.check(claim, several_refused(status, text, control, control_text), evidence={
        "networks": " ".join(claim.extra["networks"]), "exit": status, "podman": text[-300:],
        "control_two_custom_networks": f"exit {control}: {control_text[-200:]}"})


#: podman's words when a second network is given to a mode other than bridge.
MULTIPLE = "cannot set multiple networks"


def several_refused(status: int, text: str, control: int, control_text: str) -> bool:
    """Refused for the second network itself, while two custom networks are accepted."""
    if control != 0:
        raise NoObservation(f"two custom networks were refused too (the control): {control_text}")
    if status == 0:
        return False
    if MULTIPLE not in text:
        raise NoObservation(f"refused for another reason: exit {status}: {text[-200:]}")
    return True


@pytest.mark.parametrize("claim", params(REGISTRY.select("port_mappings_discarded")))
def test_port_mappings_discarded(claim: Claim, target: Target, recorder: Recorder,
                                 applicable: Any) -> None:
    """The guide's podman run -p 8080:8080 with the claim's --network (host, none): the
    container runs, and podman's warning, against the claim's expectation (a flag or the
    guide's words)."""
    applicable(claim)
    network = claim.extra["network"]
    status, text = containers.refusal(target, ["-p", "8080:8080", f"--network={network}"])
    if status != 0:
        raise NoObservation(f"the container did not run: exit {status}: {text[-200:]}")
    warning = next((ln.strip() for ln in text.splitlines() if "Port mappings" in ln), None)
    observed: Any = (warning is not None and "discarded" in warning
                     if isinstance(claim.expected, bool) else warning)
    recorder.check(claim, observed, evidence={"network": network, "podman_output": text[-300:],
                                              "exit": status})


@pytest.mark.parametrize("claim", params(REGISTRY.select("container_unprivileged_port_start")))
def test_unprivileged_port_start(claim: Claim, target: Target, recorder: Recorder,
                                 applicable: Any) -> None:
    applicable(claim)
    argv = ["run", "--rm", *claim.extra.get("run_args", []), IMAGE,
            "cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start"]
    done = target.podman(*argv, check=False)
    if not done.ok:
        raise NoObservation(f"podman run failed: {done.stderr.strip()[-200:]}")
    host = target.sysctl("net.ipv4.ip_unprivileged_port_start")
    recorder.check(claim, done.stdout.strip(), evidence={
        "command": "podman " + " ".join(argv), "host_value": host})


#: A UID/GID mapping of the container's own (the user's subordinate IDs from 1).
OWN_MAPPING = ["--uidmap", "0:1:1000", "--gidmap", "0:1:1000"]
#: podman's words when a container with its own mapping would join a pod (5.4: "cannot
#: specify a new uid/gid map when entering a pod", 6.1: "cannot set user namespace mode
#: when joining pod").
POD_MAPPING = re.compile(r"uid/gid map|user namespace mode")


def own_mapping_refused(in_pod: tuple[int, str], alone: tuple[int, str]) -> bool:
    """Whether a container with its own mapping is refused in the pod; believed only
    while the same container outside a pod runs (the control), and only for podman's
    words about the mapping."""
    if alone[0] != 0:
        raise NoObservation(f"the container with its own mapping did not run outside a pod "
                            f"either: {alone[1][-200:]}")
    if in_pod[0] == 0:
        return False
    if not POD_MAPPING.search(in_pod[1]):
        raise NoObservation(f"refused for another reason: {in_pod[1][-200:]}")
    return True


@pytest.mark.parametrize("claim", params(REGISTRY.select("pod_same_mapping")))
def test_pod_mapping(claim: Claim, target: Target, recorder: Recorder, applicable: Any) -> None:
    """A container with its own UID/GID mapping: in a pod (whose infra container has the
    default mapping), or next to a default one on a custom network (the guide's
    alternative to Pod=)."""
    applicable(claim)
    with ExitStack() as stack:
        if claim.extra["where"] == "pod":
            pod = stack.enter_context(containers.pod(target))
            target.podman("pod", "start", pod)
            tried = containers.refusal(target, [f"--pod={pod}", *OWN_MAPPING])
            alone = containers.refusal(target, OWN_MAPPING)
            observed: Any = own_mapping_refused(tried, alone)
            evidence = {"in_pod": f"exit {tried[0]}: {tried[1][-200:]}",
                        "outside_a_pod": f"exit {alone[0]}"}
        else:
            net = stack.enter_context(containers.network(target))
            first = stack.enter_context(containers.running(target, [f"--network={net}"],
                                                           ["sleep", "60"]))
            tried = containers.refusal(target, [f"--network={net}", *OWN_MAPPING])
            observed = tried[0] == 0
            evidence = {"default_container": first, "own_mapping": f"exit {tried[0]}: "
                        f"{tried[1][-200:]}"}
    recorder.check(claim, observed, evidence=evidence)


#: Binds TCP PORT in the container and exits 0, or prints Python's error and exits 1.
BIND = ("import socket,sys\ns=socket.socket()\ntry:\n    s.bind(('0.0.0.0', int(sys.argv[1])))\n"
        "except OSError as e:\n    print(e); sys.exit(1)\n")
#: The error of a bind below ip_unprivileged_port_start without privileges.
DENIED = "Permission denied"


def bind_allowed(tried: tuple[int, str], control: tuple[int, str]) -> bool:
    """Whether the container process bound the port; "denied" only with the kernel's
    permission error while the same user bound an unprivileged port (the control)."""
    if control[0] != 0:
        raise NoObservation(f"the same container could not bind an unprivileged port either: "
                            f"{control[1][-200:]}")
    if tried[0] == 0:
        return True
    if DENIED in tried[1]:
        return False
    raise NoObservation(f"the bind failed for another reason: {tried[1][-200:]}")


@pytest.mark.parametrize("claim", params(REGISTRY.select("container_user_binds_port")))
def test_container_user_binds(claim: Claim, target: Target, recorder: Recorder,
                              applicable: Any) -> None:
    """podman run --user USER [--sysctl ...] binding the claim's container port, and port
    8080 as the control."""
    applicable(claim)
    options = claim.extra.get("run_args", [])
    tried = containers.refusal(target, options, ["python3", "-c", BIND, str(claim.extra["port"])])
    control = containers.refusal(target, options, ["python3", "-c", BIND, "8080"])
    recorder.check(claim, bind_allowed(tried, control), evidence={
        "run_args": " ".join(options), "port": claim.extra["port"],
        "bind": f"exit {tried[0]}: {tried[1][-200:]}", "control_8080": f"exit {control[0]}"})
