"""Two outbound statements that need a setup of their own.

``-T`` versus ``--map-gw`` ("for better performance and security"): an iperf3 server on
host1's 127.0.0.1 is measured from a ``pasta:--map-gw`` container (through the
gateway address) and from a ``pasta:-T,PORT`` container (through its own 127.0.0.1),
in interleaved rounds; the ratio -T / --map-gw per round gets a bootstrap interval.
What each exposes: a second server on host1's 127.0.0.1, on a port -T does not list,
is tried from both containers. "Better" holds when the ratio's interval lies at or
above 1.05 and -T exposes less of the host than --map-gw; an interval straddling 1.05
is inconclusive (recorded so, with the numbers).

Web server Alternative 2: the guide's socket-activated nginx (``ListenStream=`` on
host1's main address, ``Network=none``, nginx listening on that address); a pasta
container fetches its page through host.containers.internal.
"""

from __future__ import annotations

import contextlib
import json
import random
import secrets
import shlex
from collections.abc import Iterator
from typing import Any

import pytest

from harness import containers
from harness.bench import stats, verdict
from harness.claims import Claim
from harness.methods import get_method
from harness.probes import hostserver, iperf3, outbound
from harness.results.recorder import Recorder
from harness.services import PREFIX, user_socket_service
from harness.targets.base import Target
from harness.wait import poll

pytestmark = [pytest.mark.lab, pytest.mark.outbound]

IPERF_PORT, OTHER_PORT, ALT2_PORT = 18091, 18092, 18093
ROUNDS, SECONDS = 3, 2
GATEWAY = "ip -4 route show default | awk '/^default/ {print $3; exit}'"


@contextlib.contextmanager
def _loopback_iperf3(target: Target) -> Iterator[None]:
    pidfile = f"/tmp/{PREFIX}tcpns-{secrets.token_hex(3)}-iperf3.pid"
    target.record_file(pidfile)
    try:
        target.run(["iperf3", "-s", "-D", "-B", "127.0.0.1", "-p", str(IPERF_PORT),
                    "--pidfile", pidfile])
        poll(lambda: f":{IPERF_PORT} " in target.run(
            ["ss", "-Hltn", f"sport = :{IPERF_PORT}"], check=False).stdout,
            what="iperf3 server on host1's 127.0.0.1")
        yield
    finally:
        target.run(["sh", "-c", 'test -f "$1" && kill "$(cat "$1")"', "sh", pidfile],
                   check=False)
        target.remove_files(pidfile)


def _container(target: Target, network: str) -> contextlib.AbstractContextManager[str]:
    return containers.running(target, [f"--network={network}"], ["sleep", "600"],
                              name=containers.unique("tcpns"))


def _exec(target: Target, name: str, script: str, timeout: float = 60) -> str:
    return target.podman("exec", name, "sh", "-c", script, check=False,
                         timeout=timeout).stdout.strip()


def _throughput(target: Target, name: str, address: str) -> float:
    text = _exec(target, name, shlex.join(["iperf3", "-J", "-c", address, "-p",
                                           str(IPERF_PORT), "-t", str(SECONDS)]))
    return iperf3.parse(text).bits_per_second


def _exposes(target: Target, name: str, address: str, server: hostserver.HostServer) -> bool:
    body = _exec(target, name, shlex.join(["curl", "-s", "-4", "-m", "2",
                                           server.url(address)]))
    return body == server.token


def tcp_ns_judgment(perf: verdict.Verdict, exposure: dict[str, bool]) -> bool | None:
    """True: -T faster and exposing less; False: either contradicted; None: the speed
    is inconclusive while -T exposes less."""
    less_exposed = exposure["--map-gw"] and not exposure["-T"]
    if not less_exposed or perf.observed is False:
        return False
    return None if perf.observed is None else bool(perf.observed)


@pytest.mark.claims("outbound.localhost.tcp-ns-better-than-map-gw")
def test_tcp_ns_against_map_gw(claim: Claim, target: Target, recorder: Recorder, applicable: Any) -> None:
    applicable(claim, get_method(claim.method or ""))
    with contextlib.ExitStack() as stack:
        stack.enter_context(_loopback_iperf3(target))
        other = stack.enter_context(hostserver.http_server(
            target.run, "127.0.0.1", OTHER_PORT, record=target.record_file))
        map_gw = stack.enter_context(_container(target, "pasta:--map-gw"))
        tcp_ns = stack.enter_context(_container(target, f"pasta:-T,{IPERF_PORT}"))
        gateway = _exec(target, map_gw, GATEWAY)
        ends = {"--map-gw": (map_gw, gateway), "-T": (tcp_ns, "127.0.0.1")}
        rates: dict[str, dict[int, float]] = {"--map-gw": {}, "-T": {}}
        order = list(ends)
        for round_no in range(ROUNDS):
            random.shuffle(order)
            for option in order:
                rates[option][round_no] = _throughput(target, *ends[option])
        exposure = {option: _exposes(target, name, address, other)
                    for option, (name, address) in ends.items()}
    summary = stats.summarize(rates["-T"], rates["--map-gw"])
    assert summary is not None, "no round measured both"
    perf = verdict.improves({"-T / --map-gw": summary}, min_rounds=ROUNDS)
    evidence = {
        "ratio -T / --map-gw": json.dumps(summary.as_dict()),
        "Gbit/s --map-gw": [round(v / 1e9, 2) for v in rates["--map-gw"].values()],
        "Gbit/s -T": [round(v / 1e9, 2) for v in rates["-T"].values()],
        "performance verdict": perf.reason,
        f"127.0.0.1:{OTHER_PORT} (not listed by -T) reached with --map-gw": exposure["--map-gw"],
        f"127.0.0.1:{OTHER_PORT} (not listed by -T) reached with -T": exposure["-T"],
        "gateway": gateway}
    judged = tcp_ns_judgment(perf, exposure)
    if judged is None:
        reason = f"{perf.reason}; ratio {summary.median:.3g} [{summary.low:.3g}, {summary.high:.3g}]"
        recorder.inconclusive(claim, reason, evidence=evidence)
        pytest.skip(reason)
    recorder.check(claim, judged, evidence=evidence)


def alternative2_conf(address: str, port: int, token: str) -> str:
    """The guide's default.conf: nginx listening on the main address only."""
    return (f"server {{\n    listen {address}:{port};\n    server_name example.com;\n"
            f"    location / {{ return 200 \"{token}\\n\"; }}\n}}\n")


@pytest.mark.claims("outbound.main-interface.socket-activated-server")
def test_alternative2_web_server(claim: Claim, target: Target, recorder: Recorder, applicable: Any) -> None:
    applicable(claim, get_method(claim.method or ""))
    token = hostserver.new_token()
    unit = f"{PREFIX}alt2-{secrets.token_hex(3)}"
    conf_dir = f"{target.home}/.cache/podnet/{unit}"
    listen = f"{target.main_address}:{ALT2_PORT}"
    target.record_file(conf_dir)
    try:
        target.write_file(f"{conf_dir}/default.conf",
                          alternative2_conf(target.main_address, ALT2_PORT, token))
        undo = user_socket_service(
            target, unit,
            ['Environment="NGINX=3;"', "Network=none", f"Volume={conf_dir}:/etc/nginx/conf.d:Z"],
            "podnet web server Alternative 2", listen)
        try:
            result = outbound.container_fetch(
                target, "pasta", [f"http://host.containers.internal:{ALT2_PORT}/{token}"],
                timeout=20)
            network = target.podman("inspect", "-f", "{{.HostConfig.NetworkMode}}", unit,
                                    check=False).stdout.strip()
        finally:
            undo()
    finally:
        target.remove_files(conf_dir)
    recorder.check(claim, result.reached(token) and network == "none",
                   evidence={**result.evidence(), "ListenStream": listen,
                             "container network": network})
