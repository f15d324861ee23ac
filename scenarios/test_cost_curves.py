"""Cost curves: how each inbound method's cost grows with the work
(:mod:`harness.bench.curves`).

One module fixture measures, in rounds interleaved across methods and points (order
shuffled each round): inbound TCP with 1, 2 and 4 parallel streams to an iperf3 server per
podman-run method and to the native reference (each method's rate over native's at the
same stream count in the same round, and the forwarders' CPU per GB), then a container's
start time with 1, 10, 100 and 1000 published ports (one ``-p`` range) per method that
publishes ports (``--quick`` measures fewer points of each curve: ``curves.QUICK``). The
tests then check that every point of the plan was measured. Results:
``summaries["cost_curves"]`` (points with their intervals) and one chart per curve.
"""

from __future__ import annotations

import contextlib
import random
import secrets
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from harness.bench import curves, holdconns, httpget, procstat, reference, verdict
from harness.bench.servers import PREFIX, bench_servers
from harness.bench.stats import RatioSummary
from harness.bench.summary import PerfRatio
from harness.bench.throughput import Probe, Sample, measure_once
from harness.capabilities import Capabilities
from harness.claims import load_default
from harness.clients.base import Client
from harness.errors import PodnetError
from harness.methods import Method, all_methods
from harness.probes import iperf3
from harness.results.recorder import Recorder
from harness.results.schema import Measurement
from harness.services import IMAGE, ServeOptions, serve
from harness.targets.base import Target
from harness.wait import poll

pytestmark = [pytest.mark.lab, pytest.mark.cost_curves]

SUMMARY = "cost_curves"
#: Rounds (--quick: 1).
ROUNDS = 3
#: How long a container with published ports may take to serve its first port.
READY_TIMEOUT = 60.0
#: HTTP GETs per client per connection-rate measurement; the first nginx port.
REQUESTS, HTTP_PORT = 40, 8180
#: How long the memory curve's connections stay open at most (they are closed as soon
#: as the forwarders' memory is read).
HOLD_SECONDS = 120
#: How long opening the connections may take (through slirp4netns's port forwarder 100
#: connections took 35 to 42 s in the lab; the other methods well under a second).
OPEN_TIMEOUT = 90.0
HTTPGET, HOLDCONNS = Path(httpget.__file__), Path(holdconns.__file__)


def _methods(capabilities: Capabilities, *, podman_run: bool = True) -> list[Method]:
    """The methods of the guide's inbound overview the target has (the podman-run ones
    only, with ``podman_run``)."""
    found = []
    for claim in load_default().select("native_performance", table="inbound-overview"):
        method = all_methods()[claim.method or ""]
        if (method.kind == "run" or not podman_run) and \
                not capabilities.first_missing(method.requires):
            found.append(method)
    return found


@dataclass
class Curves:
    samples: list[Measurement]
    streams: list[curves.Point]
    ports: list[curves.Point]
    methods: list[str]
    port_methods: list[str]
    connections: list[curves.Point]
    memory: list[curves.Point]
    http_methods: list[str]
    plan: curves.Plan


def _streams_probe(client: Client, host: str, method: str, port: int, streams: int) -> Probe:
    def measure(seconds: int) -> Sample:
        argv = [*iperf3.client_argv(host, port, seconds), "-P", str(streams)]
        result = iperf3.parse(client.run(argv, check=False, timeout=seconds + 30).stdout)
        return Sample(result.bits_per_second, result.bytes_received, result.extra())
    return Probe(method, "inbound", "tcp", "iperf3", curves.NATIVE, measure)


def _start_to_ready(target: Target, client: Client, method: Method, network: str,
                    ports: int, token: str) -> Measurement:
    """``podman run -d`` with ``ports`` published ports, timed until it returns and until
    a client on another host connects to the first one."""
    name = f"{PREFIX}curve-{method.id}-{ports}-{token}"
    last = curves.FIRST_PORT + ports - 1
    publish = f"{curves.FIRST_PORT}:{curves.FIRST_PORT}" if ports == 1 else \
        f"{curves.FIRST_PORT}-{last}:{curves.FIRST_PORT}-{last}"
    host = target.main_address
    extra: dict[str, Any] = {"x": ports, "publish": publish}
    started = time.monotonic()
    try:
        target.podman("run", "-d", "--name", name, f"--network={network}", "-p", publish,
                      IMAGE, "iperf3", "-s", "-p", str(curves.FIRST_PORT), timeout=300)
        extra["run_seconds"] = time.monotonic() - started
        poll(lambda: client.tcp_connect(host, curves.FIRST_PORT).get("connected"),
             what=f"port {curves.FIRST_PORT} of {name}", timeout=READY_TIMEOUT)
        ready = time.monotonic() - started
    except PodnetError as exc:
        extra["error"] = f"{type(exc).__name__}: {str(exc)[:300]}"
        ready = float("nan")
    finally:
        target.remove_own("containers", name)
    return Measurement(curves.PORTS_KIND, method.id, ready, "s", "inbound", "tcp", 0, extra)


def _measure(target: Target, client: Client, recorder: Recorder, methods: list[Method],
             rounds: int, http_methods: list[Method], plan: curves.Plan) -> Curves:
    samples: list[Measurement] = []
    rng = random.Random()
    token = secrets.token_hex(3)

    def record(found: Measurement) -> None:
        samples.append(found)
        recorder.measure(found)

    with bench_servers(target, client, methods, mtu_variant=False) as ends:
        host = target.main_address
        probes = [(streams, _streams_probe(client, host, mid, port, streams))
                  for mid, port in ends.iperf3.items() for streams in plan.streams]
        for probe in {p.method: p for _, p in probes}.values():   # warm-up, not recorded
            measure_once(target, probe, 1, 0)
        for round_no in range(1, rounds + 1):
            for streams, probe in rng.sample(probes, len(probes)):
                for found in measure_once(target, probe, plan.seconds, round_no):
                    record(replace(found, kind=curves.STREAMS_KIND,
                                   extra={**found.extra, "x": streams}))
    port_methods = [m for m in methods if m.network != "host"]
    networks: dict[str, str] = {}
    try:
        for m in port_methods:
            networks[m.id] = m.network or "pasta"
            if m.network == "custom":
                networks[m.id] = f"{PREFIX}curve-net-{m.id}-{token}"
                target.podman("network", "create", networks[m.id])
        points = [(m, n) for m in port_methods for n in plan.ports]
        for round_no in range(1, rounds + 1):
            for method, ports in rng.sample(points, len(points)):
                found = _start_to_ready(target, client, method, networks[method.id], ports,
                                        token)
                record(replace(found, round=round_no))
    finally:
        custom = [n for mid, n in networks.items() if n.startswith(PREFIX)]
        if custom:
            target.remove_own("networks", *custom)
    _http_curves(target, client, record, http_methods, rounds, token, plan)
    return Curves(samples, curves.points(samples, curves.STREAMS_KIND, "streams", "bit/s"),
                  curves.points(samples, curves.PORTS_KIND, "ports", "s"),
                  [curves.NATIVE, *ends.iperf3.keys() - {curves.NATIVE}],
                  [m.id for m in port_methods],
                  curves.points(samples, curves.CONNECTIONS_KIND, "connections", "conn/s",
                                reference=curves.HOST),
                  curves.points(samples, curves.MEMORY_KIND, "memory", "MB"),
                  [m.id for m in http_methods], plan)


def _connection_rate(client: Client, host: str, method: str, port: int, clients: int,
                     round_no: int) -> Measurement:
    """New connections per second from ``clients`` parallel httpget clients; a run whose
    clients printed nothing at all (seen once in CI, pasta with 4 clients) is run once
    more, the first run's exit status and error output kept in ``no_output``."""
    script = 'n=$1; shift; for i in $(seq "$n"); do "$@" & done; wait'
    argv = ["sh", "-c", script, "sh", str(clients), client.python, str(HTTPGET),
            host, str(port), str(REQUESTS)]
    silent: list[str] = []
    for _ in range(2):
        done = client.run(argv, check=False, timeout=120 + REQUESTS)
        rate, extra = curves.connection_rate(done.stdout)
        if extra["clients"]:
            break
        silent.append(f"exit {done.returncode}: {done.stderr.strip()[-300:]}")
    if silent:
        extra["no_output"] = silent
        if not extra["clients"]:
            extra["error"] = f"no client output ({'; '.join(silent)})"
    return Measurement(curves.CONNECTIONS_KIND, method, rate, "conn/s", "inbound", "tcp",
                       round_no, {**extra, "x": clients})


def _rss(target: Target) -> dict[str, int]:
    return procstat.parse_rss(target.run(["sh", "-c", procstat.RSS_SCRIPT]).stdout)


def _memory(target: Target, client: Client, host: str, method: str, port: int, count: int,
            round_no: int, token: str) -> Measurement:
    """The forwarders' resident memory with ``count`` connections held open to ``port``,
    over the same reading just before they opened."""
    log = f"/tmp/{PREFIX}hold-{token}.log"
    before = _rss(target)
    pid = client.run(["sh", "-c", f'setsid "$@" >{log} 2>&1 </dev/null & echo $!', "sh",
                      client.python, str(HOLDCONNS), host, str(port), str(count),
                      str(HOLD_SECONDS)]).stdout.strip()
    extra: dict[str, Any] = {"x": count}
    held: dict[str, Any] = {}
    after: dict[str, int] = {}
    try:
        poll(lambda: '"open"' in client.run(["cat", log], check=False).stdout,
             what=f"{count} connections to {method}", timeout=OPEN_TIMEOUT)
        held = Client._parse(client.run(["cat", log], check=False))
        after = _rss(target)
    except PodnetError as exc:
        extra["error"] = str(exc).splitlines()[0][:300]
    finally:
        client.run(["kill", "--", pid], check=False)
        client.run(["rm", "-f", "--", log], check=False)
    extra.update({"open": held.get("open"), "open_seconds": held.get("seconds"),
                  "rss_before": before, "rss_after": after})
    if "error" not in extra and held.get("open") != count:
        extra["error"] = f"{held.get('open')} of {count} connections opened: " \
                         f"{held.get('error', '')}"
    grown = float("nan") if "error" in extra else \
        (sum(after.values()) - sum(before.values())) / 1e6
    return Measurement(curves.MEMORY_KIND, method, grown, "MB", "inbound", "tcp", round_no,
                       extra)


def _http_curves(target: Target, client: Client, record: Any, methods: list[Method],
                 rounds: int, token: str, plan: curves.Plan) -> None:
    """New connections per second and the forwarders' memory as connections grow, with
    every method's nginx up at once (each on its own port)."""
    rng, host = random.Random(), target.main_address
    with contextlib.ExitStack() as stack:
        ports = {m.id: stack.enter_context(serve(
            target, m, client, ServeOptions(port=HTTP_PORT + n))).port
            for n, m in enumerate(methods)}
        rate_points = [(mid, k) for mid in ports for k in plan.clients]
        memory_points = [(mid, k) for mid in ports if mid != curves.HOST
                         for k in plan.connections]
        for round_no in range(1, rounds + 1):
            for mid, k in rng.sample(rate_points, len(rate_points)):
                record(_connection_rate(client, host, mid, ports[mid], k, round_no))
            for mid, k in rng.sample(memory_points, len(memory_points)):
                record(_memory(target, client, host, mid, ports[mid], k, round_no, token))


def _reference(found: Curves) -> dict[str, Any]:
    """The native reference's check (harness/bench/reference.py) at each stream count:
    its retransmissions and iperf3's CPU figures, and the methods above it."""
    native = [replace(m, kind="throughput", direction=f"inbound-{m.extra['x']}-streams")
              for m in found.samples if m.kind == curves.STREAMS_KIND
              and m.method == curves.NATIVE]
    above = [PerfRatio.of(p.method, f"inbound-{p.x}-streams", "tcp", curves.NATIVE,
                          RatioSummary(p.ratio[0], p.ratio[1], p.ratio[2], p.rounds, ()))
             for p in found.streams if p.ratio is not None]
    return reference.check(native, above, margin=verdict.NATIVE_TOLERANCE).to_dict()


def _publish(recorder: Recorder, found: Curves, rounds: int) -> None:
    """The curves in the run record; the reports draw one chart per curve from it
    (:func:`harness.reports.charts.curve_charts`)."""
    recorder.run.summaries[SUMMARY] = {
        "reference": _reference(found), "rounds": rounds, "seconds_per_measurement": found.plan.seconds,
        "plan": found.plan.to_dict(),
        "points": [p.to_dict() for p in
                   found.streams + found.ports + found.connections + found.memory],
        "errors": [{"kind": m.kind, "method": m.method, "x": m.extra.get("x"),
                    "round": m.round, "error": m.extra["error"]}
                   for m in found.samples if "error" in m.extra]}


@pytest.fixture(scope="module")
def cost_curves(target: Target, client: Client, capabilities: Capabilities,
                recorder: Recorder, pytestconfig: pytest.Config,
                environment: dict[str, Any]) -> Curves:
    quick = bool(pytestconfig.getoption("--quick"))
    rounds = 1 if quick else ROUNDS
    found = _measure(target, client, recorder, _methods(capabilities), rounds,
                     _methods(capabilities, podman_run=False),
                     curves.QUICK if quick else curves.FULL)
    _publish(recorder, found, rounds)
    return found


def _missing(points: list[curves.Point], methods: list[str], xs: tuple[int, ...]
             ) -> list[tuple[str, int]]:
    have = {(p.method, p.x) for p in points}
    return sorted((m, x) for m in methods for x in xs if (m, x) not in have)


def test_streams_curve(cost_curves: Curves) -> None:
    """Every method and the native reference at each stream count of the plan (1, 2 and
    4), each method with its ratio to native at the same stream count."""
    missing = _missing(cost_curves.streams, cost_curves.methods, cost_curves.plan.streams)
    assert not missing, f"no throughput for {missing}"
    assert all(p.ratio is not None for p in cost_curves.streams if p.method != curves.NATIVE)


def test_ports_curve(cost_curves: Curves) -> None:
    """Every method that publishes ports started and served its first port with each
    number of published ports of the plan (1, 10, 100 and 1000)."""
    missing = _missing(cost_curves.ports, cost_curves.port_methods, cost_curves.plan.ports)
    errors = [m.extra["error"] for m in cost_curves.samples if "error" in m.extra][:3]
    assert not missing, f"never served: {missing}; {errors}"


def _errors(found: Curves, kind: str) -> list[str]:
    return [f"{m.method} x{m.extra.get('x')}: {m.extra['error']}" for m in found.samples
            if m.kind == kind and "error" in m.extra][:3]


def test_connections_curve(cost_curves: Curves) -> None:
    """Every inbound method answered short HTTP GETs (200, one connection each) from each
    number of parallel clients of the plan (1 and 4), each with its rate over
    --network=host's."""
    missing = _missing(cost_curves.connections, cost_curves.http_methods,
                       cost_curves.plan.clients)
    assert not missing, f"no connection rate for {missing}; " \
        f"{_errors(cost_curves, curves.CONNECTIONS_KIND)}"
    assert all(p.ratio is not None for p in cost_curves.connections if p.method != curves.HOST)


def test_memory_curve(cost_curves: Curves) -> None:
    """The forwarders' memory was read with each number of connections of the plan (1, 10
    and 100) held open to every inbound method (each held connection opened: the
    control that they reached it)."""
    methods = [m for m in cost_curves.http_methods if m != curves.HOST]
    missing = _missing(cost_curves.memory, methods, cost_curves.plan.connections)
    assert not missing, f"no memory reading for {missing}; " \
        f"{_errors(cost_curves, curves.MEMORY_KIND)}"
