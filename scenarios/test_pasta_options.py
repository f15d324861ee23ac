"""pasta's port options (-p becoming -t, --network pasta:-t, -t auto) and the default
rootlessNetworkCmd. pasta's argv is read from /proc/PID/cmdline inside host1."""

from __future__ import annotations

import time
from typing import Any

import pytest

from harness import containers
from harness.claims import Claim, load_default
from harness.clients.base import Client
from harness.probes import procs, reach
from harness.results.recorder import NoObservation, Recorder
from harness.services import UDP_PEER
from harness.targets.base import Target
from harness.wait import NotReady, poll

pytestmark = [pytest.mark.lab, pytest.mark.pasta_options, pytest.mark.pasta]

REGISTRY = load_default()
#: The container listens on port 80 as in the guide (its unprivileged user may bind it).
LOW_PORTS = ["--sysctl", "net.ipv4.ip_unprivileged_port_start=0"]


def _nginx(listen: str, *, wait_for: str | None = None) -> list[str]:
    """nginx with another listen directive (the image's conf.d is read-only for its user),
    optionally started only once the file ``wait_for`` exists."""
    script = (
        "mkdir -p /tmp/conf.d"
        " && sed 's|/etc/nginx/conf.d/|/tmp/conf.d/|' /etc/nginx/nginx.conf > /tmp/nginx.conf"
        f" && sed 's/listen 8080;/{listen}/' /etc/nginx/conf.d/default.conf"
        " > /tmp/conf.d/default.conf"
    )
    if wait_for:
        script += f" && until [ -e {wait_for} ]; do sleep 0.1; done"
    return ["sh", "-c", script + " && exec nginx -c /tmp/nginx.conf -g 'daemon off;'"]


NGINX_80 = _nginx("listen 80;")
#: nginx listening on 8080 and 80, started only once /tmp/go exists.
NGINX_LATER = _nginx("listen 8080; listen 80;", wait_for="/tmp/go")


def _pasta_argv(target: Target, container: str) -> list[str]:
    netns = procs.container_netns(target, container)
    args = procs.pasta_of(target, netns)
    assert args is not None, f"no pasta process for {container}'s network namespace {netns}"
    return args


@pytest.mark.claims("ports.pasta.publish-p")
def test_publish_p(claim: Claim, target: Target, client: Client, recorder: Recorder, applicable: Any) -> None:
    applicable(claim)
    with containers.running(target, ["-p", "8080:80", *LOW_PORTS], NGINX_80) as name:
        served = reach.wait_served(client, target.main_address, 8080)
        args = _pasta_argv(target, name)
    recorder.check(claim, publish_observation(args, served), matches=publish_holds,
                   evidence={"pasta_argv": " ".join(args)})


def publish_observation(args: list[str], served: bool) -> dict[str, Any]:
    """pasta's -t value, and whether the published port served the client: the guide's
    -p example is a working web server, so the argument alone does not make it hold."""
    values = procs.option_values(args, "-t", "--tcp-ports")
    return {"tcp_ports": next((v for v in values if v != "none"), None), "served": served}


def publish_holds(expected: Any, observed: dict[str, Any]) -> bool:
    return bool(observed["tcp_ports"] == expected and observed["served"])


@pytest.mark.parametrize("claim", [pytest.param(c, id=c.extra["option"])
                                   for c in REGISTRY.select("pasta_argument")])
def test_pasta_argument(claim: Claim, target: Target, client: Client, recorder: Recorder,
                        applicable: Any) -> None:
    """The guide's pgrep output for podman run -p 8080:80: one argument of pasta's argv."""
    applicable(claim)
    with containers.running(target, ["-p", "8080:80", *LOW_PORTS], NGINX_80) as name:
        args = _pasta_argv(target, name)
    recorder.check(claim, pasta_argument(args, claim.extra["option"], claim.expected),
                   evidence={"pasta_argv": " ".join(args)})


def pasta_argument(args: list[str], option: str, expected: Any) -> Any:
    """A flag's presence (the claim expects true/false), else the option's first value
    (None when pasta was started without it)."""
    if isinstance(expected, bool):
        return option in args
    return next(iter(procs.option_values(args, option)), None)


CONTAINERS_CONF = "/usr/share/containers/containers.conf"


@pytest.mark.claims("older.containers-conf-pasta-options-default")
def test_containers_conf_pasta_options(claim: Claim, target: Target, recorder: Recorder,
                                       applicable: Any) -> None:
    """The guide's step 3: grep pasta_options in the containers.conf it copies."""
    applicable(claim)
    done = target.run(["grep", "pasta_options", CONTAINERS_CONF], check=False)
    if done.returncode > 1:
        raise NoObservation(f"grep could not read {CONTAINERS_CONF}: {done.stderr.strip()[:200]}")
    lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    recorder.check(claim, lines, evidence={"command": f"grep pasta_options {CONTAINERS_CONF}",
                                           "exit": done.returncode})


@pytest.mark.claims("ports.pasta.option-t")
def test_option_t(claim: Claim, target: Target, client: Client, recorder: Recorder, applicable: Any) -> None:
    applicable(claim)
    with containers.running(target, ["--network=pasta:-t,8080:80", *LOW_PORTS],
                            NGINX_80) as name:
        served = reach.wait_served(client, target.main_address, 8080)
        args = _pasta_argv(target, name)
    recorder.check(claim, served, evidence={
        "pasta_argv": " ".join(args), "tcp_ports": procs.option_values(args, "-t", "--tcp-ports")})


@pytest.mark.claims("ports.pasta.t-auto", "ports.pasta.below-unprivileged")
def test_t_auto(target: Target, client: Client, recorder: Recorder, applicable: Any) -> None:
    """-t auto publishes a port the container listens on later; never one below
    ip_unprivileged_port_start (here the container also listens on 80)."""
    claim = REGISTRY.get("ports.pasta.t-auto")
    below = REGISTRY.get("ports.pasta.below-unprivileged")
    applicable(claim)
    start = int(target.sysctl("net.ipv4.ip_unprivileged_port_start"))
    with containers.running(target, ["--network=pasta:-t,auto", *LOW_PORTS],
                            NGINX_LATER) as name:
        before, before_said = reach.served(client, target.main_address, 8080)
        target.podman("exec", name, "touch", "/tmp/go")
        listening = time.monotonic()
        try:
            poll(lambda: reach.served(client, target.main_address, 8080, timeout=1)[0],
                 what="pasta -t auto to publish 8080", timeout=10, interval=0.1)
            delay: float | None = round(time.monotonic() - listening, 2)
        except NotReady:
            delay = None
        inside = target.podman("exec", name, "cat", "/proc/net/tcp").stdout
        low_ok, low_said = reach.served(client, target.main_address, 80)
    recorder.check(claim, delay is not None and not before, evidence={
        "before_listening": before_said, "published_after_seconds": delay})
    assert ":0050 " in inside, "the container did not listen on port 80"
    applicable(below)
    recorder.check(below, low_ok, evidence={
        "ip_unprivileged_port_start": start, "port 80 from client": low_said})


UDP_AUTO_PORT = 8080


def _udp_auto(target: Target, client: Client, option: str) -> dict[str, Any]:
    """A container on --network=pasta:OPTION,auto binds a UDP socket only once /tmp/go
    exists: does host2's datagram get an answer before, and within 10 s after?"""
    later = ["sh", "-c", "until [ -e /tmp/go ]; do sleep 0.1; done && exec "
             + " ".join([*UDP_PEER, str(UDP_AUTO_PORT)])]
    with containers.running(target, [f"--network=pasta:{option},auto"], later) as name:
        before = client.udp_exchange(target.main_address, UDP_AUTO_PORT, timeout=1)
        target.podman("exec", name, "touch", "/tmp/go")
        poll(lambda: "podnet-udp listening" in target.logs(name),
             what="the container's UDP server", timeout=10)
        try:
            after = poll(lambda: (r := client.udp_exchange(target.main_address, UDP_AUTO_PORT,
                                                           timeout=1)).get("reply") and r,
                         what=f"pasta {option} auto to publish udp/{UDP_AUTO_PORT}", timeout=10)
        except NotReady as exc:
            after = {"error": str(exc)}
    return {"before": before, "after": after}


def auto_udp_observed(tried: dict[str, Any], control: dict[str, Any]) -> bool:
    """-t auto published the later UDP socket: no answer before it was bound, an answer
    after. "Not published" needs the -u auto control answered (after, not before)."""
    def published(seen: dict[str, Any]) -> bool:
        return "reply" not in seen["before"] and "reply" in seen["after"]
    if not published(control):
        raise NoObservation(f"the control failed: -u auto did not publish the later UDP "
                            f"socket either: {control}")
    return published(tried)


@pytest.mark.claims("ports.pasta.t-auto-udp")
def test_t_auto_udp(claim: Claim, target: Target, client: Client, recorder: Recorder,
                    applicable: Any) -> None:
    applicable(claim)
    tried = _udp_auto(target, client, "-t")
    control = _udp_auto(target, client, "-u")
    recorder.check(claim, auto_udp_observed(tried, control), protocol="udp", evidence={
        "-t auto before": str(tried["before"]), "-t auto after": str(tried["after"]),
        "control -u auto before": str(control["before"]),
        "control -u auto after": str(control["after"])})


@pytest.mark.claims("ports.rootless-cmd.info")
def test_rootless_network_cmd_info(claim: Claim, target: Target, recorder: Recorder, applicable: Any) -> None:
    applicable(claim)
    value = target.podman("info", "-f", "{{.Host.RootlessNetworkCmd}}").stdout.strip()
    recorder.check(claim, value, evidence={"podman info -f {{.Host.RootlessNetworkCmd}}": value})


@pytest.mark.claims("ports.rootless-cmd.no-network-option")
def test_no_network_option_means_pasta(claim: Claim, target: Target, recorder: Recorder,
                                       applicable: Any) -> None:
    """A container run without --network: podman inspect names its network mode. A
    target whose containers.conf makes slirp4netns the default says slirp4netns."""
    applicable(claim)
    with containers.running(target, [], ["sleep", "300"]) as name:
        mode = target.podman("inspect", "-f", "{{.HostConfig.NetworkMode}}", name).stdout.strip()
    recorder.check(claim, mode, evidence={"podman inspect -f {{.HostConfig.NetworkMode}}": mode})


@pytest.mark.claims("ports.rootless-cmd.process")
def test_rootless_network_cmd_process(claim: Claim, target: Target, recorder: Recorder,
                                      applicable: Any) -> None:
    applicable(claim)
    helpers = ("pasta", "slirp4netns")
    before = {h: procs.pids(target, h) for h in helpers}
    with containers.running(target, ["-p", "12345"], ["sleep", "300"]):
        new = {h: sorted(procs.pids(target, h) - before[h]) for h in helpers}
    started = [h for h in helpers if new[h]]
    observed = started[0] if len(started) == 1 else ",".join(started) or None
    recorder.check(claim, observed, evidence={f"new {h} processes": new[h] for h in helpers})
