"""Evidence for each finding, gathered right after the rounds while the receivers that
showed it still run, within a time budget (slowest finding first; what the budget
does not allow is named in the evidence, never silently left out).

For each finding:

- ``rounds``: the figures of its own measurements (rate, iperf3's retransmits, the
  sender's congestion window and round-trip time where iperf3 reports them);
- ``interface``: the container's interface counters (drops, errors, queue) before
  and after one more measurement of the same probe;
- ``mtu``: the MTU of every interface on the path (container, host1, host2);
- ``congestion_control``: the TCP congestion control of each end;
- ``capture`` (``--network=pasta`` only): a short transfer in the same direction in a
  fresh container started with ``pasta --pcap``, summarised by
  :mod:`harness.probes.tcp_health`; its headers are kept in the run directory.
"""

from __future__ import annotations

import base64
import secrets
import shlex
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import atomic
from harness.bench.findings import Finding
from harness.bench.progress import BenchProgress, Report, silent
from harness.bench.servers import Endpoints
from harness.bench.stats import median_of
from harness.bench.throughput import Probe, iperf3_figures
from harness.clients.base import Client
from harness.errors import PodnetError
from harness.methods import all_methods
from harness.probes import ifstats, tcp_health
from harness.results.schema import Measurement
from harness.run import Completed
from harness.services import IMAGE
from harness.targets.base import Target
from harness.wait import poll

#: Seconds of evidence gathering after the rounds (default runs; --quick: QUICK_BUDGET).
BUDGET = 60.0
QUICK_BUDGET = 30.0
#: The most one finding may take, so that it cannot starve the findings after it; the
#: findings come slowest first, and each takes what it needs up to this.
FINDING_SECONDS = 20.0
#: A --quick run gathers evidence for this many findings (the slowest) only.
QUICK_FINDINGS = 2
#: Seconds a step is expected to take at most; it starts only if that much is left.
STEP_COST = {"interface": 4.0, "mtu": 2.0, "congestion_control": 2.0, "capture": 6.0}
#: The slow state comes and goes: a capture that shows no retransmission is repeated,
#: up to this many attempts in all, while the budget allows.
CAPTURE_ATTEMPTS = 3
#: Data moved by the captured transfer: enough for a few round trips of a stalling
#: connection, small enough to keep (headers only) with the run.
CAPTURE_BYTES = "4M"
#: The captured transfer gives up after this many seconds.
CAPTURE_SECONDS = 6
#: The port of the captured container's server (inbound directions).
CAPTURE_PORT = 5298
EVIDENCE_DIR = "evidence"
CONGESTION_FILE = "/proc/sys/net/ipv4/tcp_congestion_control"
#: A UDP probe's measurement: the fixed-rate test and a short capacity search.
UDP_MEASURE_SECONDS = 5.0


def round_figures(samples: Iterable[Measurement], key: tuple[str, str, str]
                  ) -> dict[str, Any]:
    """Per measurement of ``key`` (method, direction, protocol): the rate and what iperf3
    said about the sending socket."""
    chosen = [m for m in samples if (m.method, m.direction, m.protocol) == key
              and m.round > 0 and "error" not in m.extra]
    figures: dict[str, Any] = {"measurements": len(chosen),
                               "bits_per_second": [m.value for m in chosen]}
    for name in ("retransmits", "max_snd_cwnd", "mean_rtt_us"):
        values = [m.extra[name] for m in chosen if m.extra.get(name) is not None]
        if values:
            figures[name] = values
    per_second = [r / s for m in chosen if isinstance(r := m.extra.get("retransmits"), int)
                  and isinstance(s := m.extra.get("seconds"), int | float) and s > 0]
    if per_second:
        figures["retransmits_per_second"] = statistics.median(per_second)
    congestion = {m.extra["congestion"] for m in chosen if m.extra.get("congestion")}
    if congestion:
        figures["congestion"] = sorted(congestion)
    return figures


def gather(target: Target, client: Client, ends: Endpoints, probes: Sequence[Probe],
           findings: Sequence[Finding], samples: Sequence[Measurement], *, seconds: int,
           budget: float, directory: Path, clock: Callable[[], float] = time.monotonic,
           report: Report = silent, most: int | None = None) -> list[Finding]:
    """``findings`` with their evidence, within ``budget`` seconds; with ``most``, the
    steps on the lab for the first ``most`` findings only."""
    end = clock() + budget
    by_key = {p.key: p for p in probes}
    gathered = []
    for done, finding in enumerate(findings):
        def step(name: str, finding: Finding = finding, done: int = done) -> None:
            report(BenchProgress("evidence", 0, 0, finding.method,
                                 f"{finding.combo}{f' ({name})' if name else ''}", done,
                                 len(findings), max(0.0, end - clock())))

        step("")
        evidence: dict[str, Any] = {"rounds": round_figures(samples, finding.key)}
        reference = round_figures(samples, finding.key_for(finding.reference))
        if (native := median_of(reference["bits_per_second"])) is not None:
            evidence["reference_bits_per_second"] = native
        probe = by_key.get(finding.key)
        if most is not None and done >= most:
            evidence["not_gathered"] = [f"all steps: this run gathers evidence for its "
                                        f"{most} slowest findings only (--quick)"]
        elif probe is not None:
            started = clock()
            share = started + min(max(0.0, end - started), FINDING_SECONDS)
            evidence.update(_steps(_Context(target, client, ends, probe, seconds, directory,
                                            share, clock), budget, step))
            evidence["seconds"] = round(clock() - started, 1)
        gathered.append(finding.with_evidence(evidence))
    return gathered


@dataclass(frozen=True)
class _Context:
    target: Target
    client: Client
    ends: Endpoints
    probe: Probe
    seconds: int
    directory: Path
    #: When this finding's share of the evidence budget ends (on ``clock``).
    end: float
    clock: Callable[[], float] = time.monotonic

    def left(self) -> float:
        return self.end - self.clock()

    @property
    def container(self) -> str | None:
        return self.ends.containers.get(self.probe.method)



def _steps(ctx: _Context, budget: float, starting: Callable[[str], None]) -> dict[str, Any]:
    steps: dict[str, Callable[[_Context], Any]] = {
        "interface": _interface, "mtu": _mtu, "congestion_control": _congestion,
        "capture": _capture}
    found: dict[str, Any] = {}
    for name, step in steps.items():
        if name == "capture" and (why := _not_capturable(ctx)):
            found[name] = {"note": why}
            continue
        cost = STEP_COST[name]
        if name == "interface":  # it measures once more (UDP: a capacity search)
            cost += ctx.seconds if ctx.probe.protocol == "tcp" else UDP_MEASURE_SECONDS
        if ctx.left() < cost:
            found.setdefault("not_gathered", []).append(
                f"{name}: this finding's share of the evidence budget ({budget:g} s) "
                "was spent")
            continue
        starting(name.replace("_", " "))
        try:
            found[name] = step(ctx)
        except PodnetError as exc:
            found.setdefault("errors", {})[name] = str(exc).splitlines()[0][:300]
    return found


def _container_counters(ctx: _Context) -> dict[str, ifstats.Counters]:
    assert ctx.container is not None
    done = ctx.target.podman("exec", ctx.container, "sh", "-c", ifstats.SCRIPT, timeout=20)
    return ifstats.parse(done.stdout)


def _interface(ctx: _Context) -> dict[str, Any]:
    """Counters of the container's interfaces around one more measurement of the probe."""
    if ctx.container is None:
        return {"note": "no long-running container of its own to read counters in"}
    before = _container_counters(ctx)
    sample = ctx.probe.measure(ctx.seconds)
    after = _container_counters(ctx)
    return {"container": ctx.container,
            "measurement": {"bits_per_second": sample.bits_per_second, **sample.extra},
            "before": {n: c.as_dict() for n, c in before.items()},
            "after": {n: c.as_dict() for n, c in after.items()},
            "delta": ifstats.delta(before, after)}


def _each_end(ctx: _Context, argv: list[str]) -> dict[str, Completed]:
    """``argv`` run in the probe's container (where it has one), on host1 and on the
    client host."""
    found = {}
    if (container := ctx.container) is not None:
        found["container"] = ctx.target.podman("exec", container, *argv, check=False,
                                               timeout=20)
    found["host1"] = ctx.target.run(argv, check=False, timeout=20)
    found[ctx.client.name] = ctx.client.run(argv, check=False, timeout=20)
    return found


def _mtu(ctx: _Context) -> dict[str, dict[str, int]]:
    """The MTU of every interface on the path, by host."""
    return {where: ifstats.mtus(ifstats.parse(done.stdout)) if done.ok else {}
            for where, done in _each_end(ctx, ["ip", "-j", "link"]).items()}


def _congestion(ctx: _Context) -> dict[str, str]:
    return {where: done.stdout.strip()
            for where, done in _each_end(ctx, ["cat", CONGESTION_FILE]).items()}


def capture(target: Target, client: Client, ends: Endpoints, probe: Probe, directory: Path,
            budget: float = FINDING_SECONDS) -> dict[str, Any]:
    """The capture step on its own: transfers like ``probe``'s in fresh
    ``--network=pasta:--pcap`` containers, within ``budget`` seconds."""
    return _capture(_Context(target, client, ends, probe, 0, directory,
                             time.monotonic() + budget))


def _not_capturable(ctx: _Context) -> str:
    """Why the probe's traffic cannot be captured with pasta --pcap ("" when it can)."""
    if (method := all_methods().get(ctx.probe.method)) is None or method.network != "pasta":
        return ("pasta --pcap captures only the pasta of a container run with "
                f"--network=pasta, not {ctx.probe.method}'s network")
    if ctx.probe.tool != "iperf3" or ctx.probe.protocol != "tcp":
        return "the capture repeats iperf3 TCP transfers only"
    return ""


def _capture(ctx: _Context) -> dict[str, Any]:
    """Captured transfers until one shows a retransmission (at most
    :data:`CAPTURE_ATTEMPTS`): the last one's summary, and each attempt's figures."""
    attempts: list[dict[str, Any]] = []
    found: dict[str, Any] = {}
    while len(attempts) < CAPTURE_ATTEMPTS:
        if attempts and ctx.left() < STEP_COST["capture"]:
            found["not_repeated"] = "this finding's share of the evidence budget was spent"
            break
        found = _capture_once(ctx)
        tcp = found.get("tcp") or {}
        attempts.append({k: tcp.get(k) for k in (
            "bits_per_second", "retransmissions", "duplicate_acks", "stalled_seconds")})
        if tcp.get("retransmissions"):
            break
    return {**found, "attempts": attempts}


def _capture_once(ctx: _Context) -> dict[str, Any]:
    """A short transfer like the probe's in a fresh ``--network=pasta:--pcap`` container."""
    target, token = ctx.target, secrets.token_hex(3)
    remote = f"{target.home}/.cache/podnet/evidence-{token}.pcap"
    network = f"--network=pasta:--pcap,{remote}"
    reverse = ctx.probe.direction.endswith("-reverse")
    limit = ["timeout", str(CAPTURE_SECONDS)]
    target.run(["mkdir", "-p", str(Path(remote).parent)])
    target.record_file(remote)
    try:
        if ctx.probe.direction.startswith("outbound"):
            argv = ["run", "--rm", network, IMAGE, *limit, *_iperf3_client(
                ctx.client.address, ctx.ends.host2_port, reverse)]
            command = ["podman", *argv]
            peer = shlex.join(["iperf3", "-s", "-p", str(ctx.ends.host2_port)])
            output = target.podman(*argv, check=False, timeout=CAPTURE_SECONDS + 30).stdout
        else:
            command, peer, output = _capture_inbound(ctx, network, token, reverse)
        local = _fetch(target, remote, ctx.directory, ctx.probe)
    finally:
        target.remove_files(remote)
    flow = tcp_health.bulk_flow(local)
    return {"command": shlex.join(command), "file": str(local.relative_to(ctx.directory)),
            "tcp": flow.as_dict() if flow else None, "peer_command": peer,
            "iperf3": iperf3_figures(output)}


def _iperf3_client(host: str, port: int, reverse: bool) -> list[str]:
    return ["iperf3", "-c", host, "-p", str(port), "-J", "-n", CAPTURE_BYTES,
            "--connect-timeout", "5000", *(["-R"] if reverse else [])]


def _capture_inbound(ctx: _Context, network: str, token: str, reverse: bool
                     ) -> tuple[list[str], str, str]:
    target, name, port = ctx.target, f"podnet-evidence-{token}", CAPTURE_PORT
    argv = ["run", "-d", "--name", name, network, "-p", f"{port}:{port}", IMAGE,
            "timeout", str(CAPTURE_SECONDS + 20), "iperf3", "-s", "-1", "--forceflush", "-p", str(port)]
    try:
        target.podman(*argv)
        poll(lambda: "Server listening" in target.podman("logs", name, check=False).stdout,
             what=f"iperf3 server in {name}", timeout=15)
        client_argv = _iperf3_client(target.main_address, port, reverse)
        done = ctx.client.run(["timeout", str(CAPTURE_SECONDS), *client_argv], check=False,
                              timeout=CAPTURE_SECONDS + 30)
    finally:
        target.remove_own("containers", name)
    return ["podman", *argv], shlex.join(client_argv), done.stdout


def _fetch(target: Target, remote: str, directory: Path, probe: Probe) -> Path:
    """The capture, headers only (:func:`tcp_health.truncate`), in the run directory."""
    done = target.run(["base64", remote], timeout=60)
    local = directory / EVIDENCE_DIR / f"{probe.method}-{probe.direction}-{probe.protocol}.pcap"
    with tempfile.TemporaryDirectory(prefix="podnet-capture-") as scratch:
        full = Path(scratch) / "full.pcap"
        full.write_bytes(base64.b64decode(done.stdout))
        short = Path(scratch) / "short.pcap"
        try:
            tcp_health.truncate(full, short)
        except ValueError as exc:
            raise PodnetError(f"the capture {remote}: {exc}") from None
        atomic.write_bytes(local, short.read_bytes())
    return local
