"""The guide's own examples, run as written in the lab (see harness/examples).

Each example runs as a fresh unprivileged user of host1, removed afterwards; what the
lab cannot have is substituted through the one table (`podnet examples
--substitutions`), and each result is recorded in run.json as a claim-like result
``guide-example:<id>``: ran as written, ran with substitutions, failed, output differs
(both errata of the guide until shown otherwise) or not run (why).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from harness.clients.base import Client
from harness.examples import shell
from harness.examples.assess import Status, assess_all
from harness.examples.parse import parse
from harness.examples.plan import plan
from harness.examples.report import ERRATA_RESULTS, PREFIX
from harness.examples.runner import (
    ExampleOutcome,
    run_example,
    share_images,
    tools_installed,
    unshare_images,
)
from harness.examples.structure import OUTCOME_OF_RESULT, Example
from harness.guide.revisions import selected
from harness.lab.target import LabTarget
from harness.proofs.workstation import VOLATILE_SYSCTLS
from harness.results.recorder import ClaimMismatch, Recorder
from harness.results.schema import ClaimResult
from harness.targets.base import Target
from harness.workers import SHARDED

pytestmark = [pytest.mark.lab, pytest.mark.guide_examples]

EXAMPLES = parse(selected().text)
#: The examples run in shards, in several workers at once (harness.workers.SHARDED); the
#: check that they left nothing behind runs last in each shard, in that shard's lab.
SHARDS = [f"shard{i}" for i in range(SHARDED["test_guide_examples.py"])]
ASSESSMENTS = {a.example: a for a in assess_all(EXAMPLES)}


#: What the examples must leave as they found it in host1: its users and their
#: subordinate ids, its lingering users, /etc/sysctl.d and /run's podnet-guide files.
HOST1_FILES = ("cut -d: -f1 /etc/passwd; cat /etc/subuid /etc/subgid; ls -A /etc/sysctl.d "
               "/var/lib/systemd/linger; ls -A /run | grep podnet-guide")
#: ... and every network setting of host1 (keys that come and go with kernel modules
#: loaded meanwhile, e.g. net.bridge.*, are not settings the examples changed).
HOST1_SYSCTLS = "sysctl -a -r '^net\\.' 2>/dev/null"


def _host1_state(host: LabTarget) -> tuple[str, dict[str, str]]:
    files = host.run(["sh", "-c", HOST1_FILES], root=True, check=False).stdout
    sysctls = host.run(["sh", "-c", HOST1_SYSCTLS], root=True, check=False).stdout
    pairs = (line.split(" = ", 1) for line in sysctls.splitlines() if " = " in line)
    return files, {key: value for key, value in pairs if key not in VOLATILE_SYSCTLS}


@pytest.fixture(scope="module")
def host(target: Target) -> Iterator[LabTarget]:
    if not isinstance(target, LabTarget):
        pytest.skip("the guide's examples run in the lab's host1")
    share_images(target)
    try:
        with tools_installed(target):
            yield target
    finally:
        unshare_images(target)


@pytest.fixture(scope="module")
def host1_before(host: LabTarget) -> tuple[str, dict[str, str]]:
    return _host1_state(host)


def _record(recorder: Recorder, example: Example, outcome: ExampleOutcome) -> None:
    recorder.add(ClaimResult(
        claim_id=f"{PREFIX}{example.id}", section=example.section,
        statement=f"the example at lines {example.line}-{example.end_line} of the guide "
                  "runs and prints what the guide shows",
        expected="ran as written", observed=outcome.result,
        outcome=OUTCOME_OF_RESULT[outcome.result], reason=outcome.detail,
        evidence={"lines": [example.line, example.end_line],
                  "substitutions": list(outcome.substitutions),
                  "prerequisites": list(outcome.prerequisites),
                  "actions": [dataclasses.asdict(a) for a in outcome.actions]},
    ))


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"L{e.line}-{e.id}" for e in EXAMPLES])
def test_guide_example(example: Example, recorder: Recorder,
                       request: pytest.FixtureRequest) -> None:
    assessment = ASSESSMENTS[example.id]
    runnable = plan(example, EXAMPLES)
    why = list(assessment.reasons) if assessment.status in (
        Status.CANNOT_RUN, Status.NOTHING_TO_RUN) else list(runnable.unsupported)
    if why:
        _record(recorder, example, ExampleOutcome(example.id, "not run", "; ".join(why),
                                                  assessment.substitutions))
        pytest.skip(f"not run: {'; '.join(why)}")
    request.getfixturevalue("host1_before")
    host: LabTarget = request.getfixturevalue("host")
    client: Client = request.getfixturevalue("client")
    outcome = run_example(host, client, runnable, assessment.substitutions)
    _record(recorder, example, outcome)
    if outcome.result in ERRATA_RESULTS:
        diffs = "\n".join(a.diff for a in outcome.actions if a.diff)
        raise ClaimMismatch(f"the guide's example {example.id} (lines {example.line}-"
                            f"{example.end_line}): {outcome.result}: {outcome.detail}"
                            + (f"\n{diffs}" if diffs else ""))


def test_root_commands_change_only_host1s_network_settings(host: LabTarget) -> None:
    """The guide's sudo commands run where only /proc/sys/net (host1's own network
    namespace) is real; a sandbox that left kernel.* or vm.* real fails here."""
    probe = 'for d in /proc/sys/*; do echo "${d##*/} $(findmnt -n -o FSTYPE -T "$d")"; done'
    done = host.run(shell.sh(shell.ROOT_SANDBOX, probe), root=True)
    kinds = dict(line.split() for line in done.stdout.splitlines())
    assert kinds.pop("net") == "proc", done.stdout
    assert {"kernel", "vm", "fs"} <= set(kinds) and set(kinds.values()) == {"tmpfs"}, kinds


def test_host2_commands_run_unprivileged_in_host2s_network(client: Client) -> None:
    """The guide's host2 commands run as an unprivileged user in a sandbox where the
    machine's file system is read-only, yet in host2's own network: a runner that ran
    them as root, or outside host2's namespace, fails here."""
    probe = ("id -u; touch /etc/podnet-client-probe 2>/dev/null || echo etc-refused; "
             "ip -o addr show")
    done = client.run(shell.sh(shell.CLIENT_SANDBOX, probe), check=False)
    assert done.ok, done.stderr
    uid, refused, *addresses = done.stdout.splitlines()
    assert (uid, refused) == (str(shell.CLIENT_UID), "etc-refused")
    assert any(f" {client.address}/" in line for line in addresses), addresses


@pytest.mark.parametrize("shard", SHARDS)
def test_the_examples_leave_nothing_behind(
        shard: str, host: LabTarget, host1_before: tuple[str, dict[str, str]]) -> None:
    """After every example of the shard: host1's users, lingering users, /etc/sysctl.d and
    network settings as before (a runner that kept a user, a file or a setting fails
    here)."""
    files, sysctls = _host1_state(host)
    assert files == host1_before[0]
    changed = {key: (value, sysctls[key]) for key, value in host1_before[1].items()
               if key in sysctls and sysctls[key] != value}
    assert not changed, changed
