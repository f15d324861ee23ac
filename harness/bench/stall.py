"""pasta's container-to-remote TCP stall: the experiments that tell its causes apart.

A container sending to a remote host through ``--network=pasta`` (outbound TCP) runs at
a small fraction of the same transfer sent natively from the container's host. Each
experiment changes one thing and measures, in the same pass, the native transfer (host1
to an ``iperf3 -s`` on host2) and the container's (``podman run --network=pasta ...
iperf3 -c``):

- ``baseline``: the lab as it is;
- ``sack-timestamps-off``: SACK and timestamps off in host1's network namespace, the
  native client's (pasta's SYN-ACK to the container offers neither: does a native
  transfer without them stall too?); pasta's own socket to the peer is in the same
  namespace;
- ``reno-container``, ``reno-host1``: another congestion control (reno) in the
  container's namespace (its TCP sender, facing pasta's tap), and in host1's (pasta's
  socket to the peer, and the native client);
- ``mtu-65520``: pasta's MTU 65520 (``--network=pasta:--mtu,65520``);
- ``netem-rtt``: the peer's RTT raised with ``tc netem`` on host2, where the kernel
  has the netem qdisc (otherwise "not run" with the kernel's answer).

Passes interleave the experiments. The record (``summaries["pasta_stall"]``,
:meth:`StallRecord.to_dict`) keeps every transfer's figures, the load, one capture of
the baseline's stalled transfer (:func:`harness.bench.evidence.capture`) and what
:func:`outcome` makes of each experiment. ``podnet findings --upstream`` writes the
report for passt's bug tracker from it (:mod:`harness.reports.upstream_stall`).
"""

from __future__ import annotations

import contextlib
import re
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.bench import evidence
from harness.bench.findings import SLOW
from harness.bench.servers import PREFIX, Endpoints, peer_server
from harness.bench.stats import median_of
from harness.bench.throughput import Probe, Sample, iperf3_figures
from harness.clients.base import Client
from harness.errors import PodnetError
from harness.probes import iperf3
from harness.probes.netconf import sysctl_set
from harness.results.schema import Measurement
from harness.services import IMAGE
from harness.targets.base import Target

SUMMARY = "pasta_stall"
#: The peer's iperf3 port on host2 (below the throughput bench's 5299 range).
PEER_PORT = 5399
SECONDS = 3
PASSES = 3
#: The RTT the netem experiment adds on the peer's interface.
NETEM_DELAY = "20ms"
#: A native transfer at or above this many bit/s is "at full speed" for the positive
#: control of a reproduction (far above every stalled rate recorded, 0.01 to 0.1 Gbit/s).
FULL_SPEED = 500e6
#: An experiment that moves pasta's rate by this factor or more (either way) against the
#: baseline's changed the outcome, even where pasta stays below :data:`SLOW` of native.
FACTOR = 5.0
KIND = "pasta_stall"


@dataclass(frozen=True)
class Experiment:
    id: str
    #: What it changes, in words.
    title: str
    host1_sysctls: tuple[tuple[str, str], ...] = ()
    container_options: tuple[str, ...] = ()
    network: str = "pasta"
    #: Whether the native transfer is measured under it (it is not changed by pasta's
    #: options).
    native: bool = True
    #: ``tc qdisc`` arguments for the peer's interface (``netem`` needs sch_netem).
    peer_qdisc: tuple[str, ...] = ()


EXPERIMENTS = (
    Experiment("baseline", "the lab as it is"),
    Experiment("sack-timestamps-off",
               "SACK and timestamps off in host1's network namespace (the native client's, "
               "where pasta's socket to the peer is too)",
               host1_sysctls=(("net.ipv4.tcp_sack", "0"), ("net.ipv4.tcp_timestamps", "0"))),
    Experiment("reno-container", "congestion control reno in the container's namespace "
               "(the container's TCP sender; pasta's socket keeps host1's)",
               container_options=("--sysctl", "net.ipv4.tcp_congestion_control=reno")),
    Experiment("reno-host1", "congestion control reno in host1's namespace (pasta's socket "
               "to the peer and the native client; the container keeps its own)",
               host1_sysctls=(("net.ipv4.tcp_congestion_control", "reno"),)),
    Experiment("mtu-65520", "pasta's MTU 65520 (--network=pasta:--mtu,65520)",
               network="pasta:--mtu,65520", native=False),
    Experiment("netem-rtt", f"the peer's RTT raised by {NETEM_DELAY} (tc netem on host2's "
               "interface)", peer_qdisc=("netem", "delay", NETEM_DELAY)),
)


@dataclass
class Trial:
    """One experiment's transfers over the passes."""

    id: str
    title: str
    native: list[dict[str, Any]] = field(default_factory=list)
    pasta: list[dict[str, Any]] = field(default_factory=list)
    #: Why the experiment did not run ("" when it ran).
    not_run: str = ""
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Trial:
        return cls(str(raw["id"]), str(raw.get("title", "")), list(raw.get("native") or []),
                   list(raw.get("pasta") or []), str(raw.get("not_run") or ""),
                   [str(e) for e in raw.get("errors") or []])


def rates(transfers: Sequence[dict[str, Any]]) -> list[float]:
    """The received rate of each of ``transfers`` that has one (bit/s)."""
    return [float(t["bits_per_second"]) for t in transfers
            if isinstance(t.get("bits_per_second"), int | float)]


def rate(transfers: Sequence[dict[str, Any]]) -> float | None:
    """The median received rate of ``transfers`` (bit/s); None without one."""
    return median_of(rates(transfers))


@dataclass(frozen=True)
class Outcome:
    #: pasta over native (the experiment's own native, or the baseline's).
    ratio: float | None
    stalled: bool | None
    #: Whether the experiment changed the outcome against the baseline; None: not known.
    changed: bool | None
    words: str


def outcome(baseline: Trial, trial: Trial) -> Outcome:
    """What ``trial`` shows against ``baseline``. The stalled state comes and goes, so a
    change counts only where every pass of the experiment is beyond every pass of the
    baseline: the stall gone (every pass at :data:`SLOW` of native or more, where the
    baseline's median stalled), pasta's rate moved by :data:`FACTOR` or more, or the
    native transfer stalling too (below :data:`SLOW` of the baseline's native)."""
    if trial.not_run:
        return Outcome(None, None, None, f"not run: {trial.not_run}")
    base_native, base_pasta = rate(baseline.native), rates(baseline.pasta)
    native, pasta = rate(trial.native), rates(trial.pasta)
    reference = native if native is not None else base_native
    if not pasta or not reference:
        return Outcome(None, None, None, "not measured: " + (
            "; ".join(trial.errors) or "no transfer completed"))
    ratio = statistics.median(pasta) / reference
    stalled = ratio < SLOW
    if trial.id == baseline.id:
        return Outcome(ratio, stalled, None,
                       f"pasta at {ratio:.3g} of native" + ("" if stalled else
                                                            " (no stall in this run)"))
    if native is not None and base_native and native < SLOW * base_native:
        return Outcome(ratio, stalled, True, f"yes: the native transfer stalls too "
                       f"({native / base_native:.3g} of the baseline's native)")
    base_stalled = bool(base_pasta and base_native
                        and statistics.median(base_pasta) / base_native < SLOW)
    if base_stalled and min(pasta) >= SLOW * reference:
        return Outcome(ratio, False, True, f"yes: no stall, pasta at {ratio:.3g} of native")
    if base_pasta and (min(pasta) >= FACTOR * max(base_pasta)
                       or max(pasta) * FACTOR <= min(base_pasta)):
        moved = statistics.median(pasta) / statistics.median(base_pasta)
        how = f"{moved:.3g} times" if moved >= 1 else f"1/{1 / moved:.3g} of"
        return Outcome(ratio, stalled, True,
                       f"partly: pasta at {how} its baseline rate in every pass, {ratio:.3g} "
                       "of native" + (f" (still below {SLOW:g})" if stalled else ""))
    if stalled != base_stalled:
        return Outcome(ratio, stalled, None,
                       f"undecided: pasta at {ratio:.3g} of native, but not in every pass "
                       f"(passes {min(pasta) / reference:.3g} to {max(pasta) / reference:.3g})")
    return Outcome(ratio, stalled, False, f"no: pasta at {ratio:.3g} of native")


def pass_ratios(trial: Trial) -> list[float]:
    """pasta over native, pass by pass (where both completed)."""
    return [p["bits_per_second"] / n["bits_per_second"]
            for n, p in zip(trial.native, trial.pasta, strict=False)
            if isinstance(n.get("bits_per_second"), int | float) and n["bits_per_second"]
            and isinstance(p.get("bits_per_second"), int | float)]


@dataclass
class StallRecord:
    trials: list[Trial]
    peer: str
    port: int
    image: str
    seconds: int
    passes: int
    load: list[str] = field(default_factory=list)
    capture: dict[str, Any] = field(default_factory=dict)
    #: The report's reproduction steps run as written (``run_steps``), when they were.
    reproduction: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Any) -> StallRecord | None:
        try:
            return cls([Trial.from_dict(t) for t in raw["trials"]], str(raw["peer"]),
                       int(raw["port"]), str(raw["image"]), int(raw["seconds"]),
                       int(raw["passes"]), [str(x) for x in raw.get("load") or []],
                       dict(raw.get("capture") or {}), dict(raw.get("reproduction") or {}))
        except (AttributeError, KeyError, TypeError, ValueError):
            return None

    def trial(self, tid: str) -> Trial | None:
        return next((t for t in self.trials if t.id == tid), None)


def measurements(record: StallRecord) -> list[Measurement]:
    """Every transfer as a measurement of the run record (kind :data:`KIND`, method
    ``native`` or ``pasta``, the pass as its round, the experiment in ``extra``)."""
    found = []
    for trial in record.trials:
        for method, transfers in (("native", trial.native), ("pasta", trial.pasta)):
            for n, t in enumerate(transfers, 1):
                value = t.get("bits_per_second")
                found.append(Measurement(
                    KIND, method, float(value) if isinstance(value, int | float)
                    else float("nan"), "bit/s", "outbound", "tcp", n,
                    {**t, "experiment": trial.id}))
    return found


def load_average(target: Target) -> str:
    return " ".join(target.run(["cat", "/proc/loadavg"]).stdout.split()[:3])


def _peer_device(client: Client) -> str:
    done = client.run(["ip", "-o", "-4", "addr", "show"])
    for line in done.stdout.splitlines():
        if f" {client.address}/" in line:
            return line.split()[1]
    raise PodnetError(f"no interface with {client.address} on {client.name}")


@contextlib.contextmanager
def _peer_qdisc(client: Client, qdisc: Sequence[str]) -> Iterator[str]:
    """``qdisc`` on the peer's interface; yields "" or why it could not be added."""
    if not qdisc:
        yield ""
        return
    device = _peer_device(client)
    done = client.run(["tc", "qdisc", "add", "dev", device, "root", *qdisc], check=False)
    if not done.ok:
        said = (done.stderr or done.stdout).strip().splitlines()
        yield f"tc qdisc add ... {qdisc[0]}: {said[0] if said else 'failed'}"
        return
    try:
        yield ""
    finally:
        client.run(["tc", "qdisc", "del", "dev", device, "root"], check=False)


def _transfer(run: Callable[..., Any], argv: list[str], seconds: int) -> dict[str, Any]:
    found = iperf3_figures(run(argv, check=False, timeout=seconds + 60).stdout)
    return found if "error" in found else {**found, "at": round(time.time(), 1)}


def _pass(target: Target, client: Client, experiment: Experiment, trial: Trial,
          seconds: int) -> None:
    argv = iperf3.client_argv(client.address, PEER_PORT, seconds)
    with _peer_qdisc(client, experiment.peer_qdisc) as refused, \
            contextlib.ExitStack() as host1:
        if refused:
            trial.not_run = refused
            return
        for key, value in experiment.host1_sysctls:
            host1.enter_context(sysctl_set(target, key, value))
        if experiment.native:
            trial.native.append(_transfer(target.run, argv, seconds))
        trial.pasta.append(_transfer(
            lambda a, **kw: target.podman(*a, **kw),
            ["run", "--rm", f"--network={experiment.network}",
             *experiment.container_options, IMAGE, *argv], seconds))
    for found in (*trial.native[-1:], *trial.pasta[-1:]):
        if "error" in found:
            trial.errors.append(found["error"])


def run_experiments(target: Target, client: Client, directory: Path, *,
                    passes: int = PASSES, seconds: int = SECONDS) -> StallRecord:
    """Every experiment ``passes`` times, interleaved, each transfer ``seconds`` long,
    then one capture of the baseline's container transfer (pasta --pcap)."""
    record = StallRecord([Trial(e.id, e.title) for e in EXPERIMENTS], client.address,
                         PEER_PORT, IMAGE, seconds, passes, [load_average(target)])
    with peer_server(client, PEER_PORT, f"/tmp/{PREFIX}stall-{PEER_PORT}.pid"):
        for _ in range(passes):
            for experiment, trial in zip(EXPERIMENTS, record.trials, strict=True):
                if not trial.not_run:
                    _pass(target, client, experiment, trial, seconds)
        probe = Probe("pasta", "outbound", "tcp", "iperf3", "native",
                      lambda seconds: Sample(0.0, 0))
        try:
            record.capture = evidence.capture(target, client, Endpoints(host2_port=PEER_PORT),
                                              probe, directory)
        except PodnetError as exc:
            record.capture = {"error": str(exc).splitlines()[0][:300]}
    record.load.append(load_average(target))
    return record


#: iperf3's text summary line of the receiving end: "... 38.6 Mbits/sec ... receiver".
_RECEIVER = re.compile(r"([\d.]+)\s+([KMG]?)bits/sec.*\breceiver\s*$", re.MULTILINE)
_SCALE = {"": 1.0, "K": 1e3, "M": 1e6, "G": 1e9}


def receiver_rates(text: str) -> list[float]:
    """The received rate (bit/s) of each iperf3 client run in ``text`` (its human
    output), in order."""
    return [float(number) * _SCALE[prefix] for number, prefix in _RECEIVER.findall(text)]


@dataclass(frozen=True)
class Reproduction:
    native: float | None
    pasta: float | None
    reproduced: bool
    control: bool
    words: str

    def to_dict(self) -> dict[str, Any]:
        return {"native_bits_per_second": self.native, "pasta_bits_per_second": self.pasta,
                "reproduced": self.reproduced, "control": self.control, "words": self.words}


def judge_reproduction(output: str) -> Reproduction:
    """The podman machine's output of the report's steps: the native transfer first (the
    positive control: at :data:`FULL_SPEED` or more), then the container's (the stall:
    below :data:`SLOW` of the native one)."""
    rates = receiver_rates(output)
    if len(rates) != 2:
        return Reproduction(None, None, False, False,
                            f"expected two iperf3 results (native, container), found "
                            f"{len(rates)}")
    native, pasta = rates
    control = native >= FULL_SPEED
    ratio = pasta / native if native else float("inf")
    reproduced = control and ratio < SLOW
    words = (f"{'' if reproduced else 'not '}reproduced: the container ran at {ratio:.3g} "
             f"of native ({pasta / 1e6:.3g} against {native / 1e6:.3g} Mbit/s)")
    if not control:
        words = (f"the control failed: the native transfer ran at {native / 1e6:.3g} Mbit/s, "
                 f"below {FULL_SPEED / 1e6:.0f} Mbit/s")
    return Reproduction(native, pasta, reproduced, control, words)
