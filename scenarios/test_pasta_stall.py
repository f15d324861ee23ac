"""pasta's container-to-remote TCP stall, beyond the guide: the experiments that tell its
causes apart (:mod:`harness.bench.stall`), recorded as ``summaries["pasta_stall"]`` for
``podnet findings --upstream`` (:mod:`harness.reports.upstream_stall`), and that report's
reproduction steps run as written: the peer's commands on host2, the podman machine's on
host1 as the rootless user, the stall judged with the native transfer to the same peer as
its positive control.
"""

from __future__ import annotations

import shlex
from typing import Any

import pytest

from harness import atomic
from harness.bench import stall
from harness.bench.servers import PREFIX
from harness.capabilities import Capabilities
from harness.clients.base import Client
from harness.reports import upstream_stall
from harness.results.recorder import Recorder
from harness.targets.base import Target
from harness.wait import poll

# Timed transfers: a benchmark, alone on the machine (harness.workers).
pytestmark = [pytest.mark.lab, pytest.mark.pasta, pytest.mark.pasta_stall]

#: The longest the peer's server may run (it is stopped as soon as the steps end).
PEER_SECONDS = 180


@pytest.fixture(scope="module")
def experiments(target: Target, client: Client, capabilities: Capabilities,
                recorder: Recorder, environment: dict[str, Any],
                pytestconfig: pytest.Config) -> stall.StallRecord:
    if why := capabilities.first_missing(["pasta"]):
        pytest.skip(why)
    # --quick: one pass of each experiment, of one-second transfers (the record says how
    # many passes of how long it has; an outcome changes only where every pass is beyond
    # every baseline pass)
    quick = pytestconfig.getoption("--quick")
    record = stall.run_experiments(target, client, recorder.directory,
                                   passes=1 if quick else stall.PASSES,
                                   seconds=1 if quick else stall.SECONDS)
    for found in stall.measurements(record):
        recorder.measure(found)
    recorder.run.summaries[stall.SUMMARY] = record.to_dict()
    return record


def test_experiments_recorded(experiments: stall.StallRecord) -> None:
    """Every experiment ran (or says why not) and the baseline measured both transfers."""
    baseline = experiments.trial("baseline")
    assert baseline is not None and stall.rate(baseline.native) and \
        stall.rate(baseline.pasta) is not None, f"baseline not measured: {baseline}"
    unknown = [t.id for t in experiments.trials if not t.not_run and
               stall.outcome(baseline, t).ratio is None]
    assert not unknown, f"experiments without a figure: {unknown}"


def _run_peer(client: Client, block: str) -> str:
    """The peer's commands, in the background on the client host; its pid."""
    log = f"/tmp/{PREFIX}stall-peer.log"
    done = client.run(["sh", "-c", f'setsid timeout {PEER_SECONDS} sh -c "$1" >{log} 2>&1 '
                       '</dev/null & echo $!', "sh", block])
    return done.stdout.strip()


def test_report_steps_reproduce(target: Target, client: Client, recorder: Recorder,
                                experiments: stall.StallRecord) -> None:
    """The upstream report's commands, as written: the container's transfer stalls, and
    the native one to the same peer runs at full speed (the control)."""
    text = upstream_stall.report([recorder.run])
    atomic.write_text(recorder.directory / upstream_stall.FILE, text)
    peer_block, podman_block = upstream_stall.steps(text)
    pid = _run_peer(client, peer_block)
    try:
        poll(lambda: client.tcp_connect(experiments.peer, experiments.port).get("connected"),
             what=f"the report's peer server ({shlex.quote(peer_block)})")
        done = target.run(["sh", "-ec", podman_block], check=False, timeout=120)
    finally:
        client.run(["kill", "--", pid], check=False)
    found = stall.judge_reproduction(done.stdout)
    experiments.reproduction = {**found.to_dict(), "exit_status": done.returncode}
    recorder.run.summaries[stall.SUMMARY] = experiments.to_dict()
    assert found.control, found.words + f"\n{done.stdout[-1500:]}{done.stderr[-500:]}"
    assert found.reproduced, found.words
