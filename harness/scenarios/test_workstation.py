"""The workstation proof: `--target local` leaves a person's machine as it was.

In host1, a second rootless user that podnet did not prepare plays the workstation's
person, with containers (one named `podnet-mine`), a network, a volume, an image, a
user unit and a quadlet file of their own. podnet's suites run inside host1 as root
with `--target local --local-user` that person (clients: none, so checks that need one
skip with the reason), podnet building its test image from a base tar. Snapshots of
the person's state and of host1's routes and network sysctls, taken before and after,
must be identical; the inner run must have recorded results, none of them an error
caused by a missing image. The person is removed afterwards; the lab's own user is
unaffected.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.lab import workstation as ws
from harness.targets.base import Target
from harness.targets.lab import LabTarget

pytestmark = [pytest.mark.lab, pytest.mark.workstation, pytest.mark.proof]

WORKDIR = "/root/podnet-workstation"
PERSON = ws.Person()


@pytest.fixture
def host(target: Target) -> Iterator[LabTarget]:
    if not isinstance(target, LabTarget):
        pytest.skip("the workstation proof plays a workstation inside the lab's host1")
    target.run(["rm", "-rf", "--", WORKDIR], root=True)  # what an interrupted proof left
    yield target
    target.run(["rm", "-rf", "--", WORKDIR], root=True, check=False)


@pytest.fixture
def person(host: LabTarget) -> Iterator[ws.HostUser]:
    ws.remove(host, PERSON)  # what an interrupted proof left
    try:
        user = ws.create(host, PERSON)
        ws.seed(user, ws.lab_base_tar(host))
        yield user
    finally:
        ws.remove(host, PERSON)


def test_local_target_leaves_a_workstation_as_it_was(host: LabTarget, person: ws.HostUser,
                                                      tmp_path: Path) -> None:
    lab_user_before = ws.podman_state(host)
    before = ws.snapshot(host, person)
    assert any(c["Names"] == ["podnet-mine"] for c in before["containers"]), before["containers"]
    ws.install_source(host, WORKDIR, ws.lab_base_tar(host))

    started = time.monotonic()
    inner = ws.run_suites(host, WORKDIR, PERSON)
    seconds = time.monotonic() - started
    (tmp_path / "inner.log").write_text(inner.stdout + inner.stderr)
    summary = (inner.stdout.strip().splitlines() or ["(no output)"])[-1]

    after = ws.snapshot(host, person)
    results = ws.inner_results(host, WORKDIR)
    counts = ws.outcome_counts(results)
    failed = sorted(str(r.get("claim_id")) for r in results if r.get("outcome") == "failed")
    print(f"\ninner run: exit {inner.returncode} after {seconds:.0f} s: {summary}; "
          f"results {counts} (failed: {', '.join(failed) or 'none'}); "
          f"snapshot sizes {ws.sizes(before)}; log {tmp_path / 'inner.log'}")

    problems = [f"changed on the workstation: {line}" for line in ws.differences(before, after)]
    problems += [f"changed for the lab's own user: {line}"
                 for line in ws.differences(lab_user_before, ws.podman_state(host))]
    if not results:
        problems.append("the inner run recorded no results")
    problems += [f"an error caused by a missing image: {e}"
                 for e in ws.missing_image_errors(results)]
    if inner.returncode != 0:
        problems.append(f"the inner run exited {inner.returncode}: {summary}")
    assert not problems, "\n".join(problems)
