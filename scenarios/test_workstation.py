"""The workstation proof: `--target local` leaves a person's machine as it was.

In host1, a second rootless user that podnet did not prepare plays the workstation's
person, with state of their own: containers, networks, a volume, images, a running unit
and quadlet files, and, with exactly the names podnet uses or has used, unit, socket and
quadlet files, containers, networks, image names, files in the home's podnet paths and
in /tmp and /var/tmp (`workstation.seed`). podnet's suites then run inside
host1 with `--target local` against that person, as root (`--local-user`) and as the
person themself (no root at all), building the test image from a base tar (clients:
none, so checks that need one skip with the reason). Runs are killed with kill -9 at
several moments (`workstation.MOMENTS`: while the image is built, while a container of
the session runs, while a unit file podnet wrote exists), then complete runs follow.

A snapshot taken before and after must be identical: the person's podman objects,
units, unit and quadlet files, home directory and /tmp and /var/tmp (content hashes),
host1's routes and every sysctl. What podnet documents as staying (its session
directories and their lock files, docs/safety.md) is only that. The last complete run
must have recorded results, none of them an error caused by a missing image.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.lab.target import LabTarget
from harness.proofs import workstation as ws
from harness.targets.base import Target

pytestmark = [pytest.mark.lab, pytest.mark.workstation, pytest.mark.proof]

WORKDIR = "/opt/podnet-workstation"
PERSON = ws.Person()
#: Suites that need no client and write units, quadlets, containers, networks and
#: files in /tmp: the paths where a name collision would show.
SELECTION = ("-m", "unix_socket or security")
#: Where podnet's session records live as the person (kept: docs/safety.md), and the
#: directory above it, which podnet's first session as the person makes.
STATE = (".local/state/podnet", ".local/state")
#: What stays of a session record (docs/safety.md): the lock files.
LOCKS = ("active.lock", "lock")
#: podman's own cache of image blob metadata, which any podman import or build updates.
PODMAN_CACHE = ".local/share/containers/cache"


#: A run that must refuse, as the person: one of their images has podnet's image name.
REFUSED = ws.InnerRun(PERSON.user, f"{WORKDIR}/refused", SELECTION)
#: Who runs podnet, killed at each of :data:`ws.MOMENTS`: the person (no root at all),
#: root with --local-user, the person with sudo.
KILLED = (ws.InnerRun(PERSON.user, f"{WORKDIR}/killed-person", SELECTION),
          ws.InnerRun("root", f"{WORKDIR}/killed-root", SELECTION),
          ws.InnerRun(PERSON.user, f"{WORKDIR}/killed-sudo", SELECTION, sudo=True))
#: ... then complete runs, each cleaning what the killed run of its kind left; the
#: last one's results are checked.
COMPLETE = (ws.InnerRun(PERSON.user, f"{WORKDIR}/person", SELECTION),
            ws.InnerRun(PERSON.user, f"{WORKDIR}/sudo", SELECTION, sudo=True),
            ws.InnerRun("root", f"{WORKDIR}/root", SELECTION))


@pytest.fixture
def host(target: Target) -> Iterator[LabTarget]:
    if not isinstance(target, LabTarget):
        pytest.skip("the workstation proof plays a workstation inside the lab's host1")
    target.run(["rm", "-rf", "--", WORKDIR, ws.SEEDED], root=True)  # an interrupted proof's
    target.run(["mkdir", "-m", "0755", "-p", WORKDIR], root=True)
    yield target
    target.run(["rm", "-rf", "--", WORKDIR, ws.SEEDED], root=True, check=False)


@pytest.fixture
def person(host: LabTarget) -> Iterator[ws.HostUser]:
    with ws.sudo_package(host):
        yield from _person(host)


def _person(host: LabTarget) -> Iterator[ws.HostUser]:
    ws.remove(host, PERSON)  # what an interrupted proof left
    try:
        user = ws.create(host, PERSON)
        ws.seed(user, ws.lab_base_tar(host))
        host.run(["touch", ws.SEEDED], root=True)
        yield user
    finally:
        ws.remove(host, PERSON)


def _kept_state(snap: ws.Snapshot, home: str) -> tuple[ws.Snapshot, list[str]]:
    """The snapshot without podnet's documented session directories and podman's own
    blob cache, and what in the session directories is not a directory or a lock."""
    state, cache = f"{home}/{STATE[0]}", f"{home}/{PODMAN_CACHE}"
    kept = [row for row in snap["home"] if row[0] in (state, f"{home}/{STATE[1]}")
            or row[0].startswith(state + "/")]
    others = [row[0] for row in kept if row[1] != "d" and Path(row[0]).name not in LOCKS]
    dropped = kept + [row for row in snap["home"] if row[0].startswith(cache + "/")]
    return {**snap, "home": [row for row in snap["home"] if row not in dropped]}, others


def test_local_target_leaves_a_workstation_as_it_was(host: LabTarget, person: ws.HostUser,
                                                      tmp_path: Path) -> None:
    lab_user_before = ws.podman_state(host)
    ws.install_source(host, WORKDIR, ws.lab_base_tar(host))
    # The person's image holds a name podnet gives its test image: podnet stops before
    # its first check, naming it, and changes nothing.
    taken = ws.snapshot(host, person)
    refused = ws.run_suites(host, WORKDIR, PERSON, REFUSED)
    untouched = ws.differences(*(_kept_state(snap, PERSON.home)[0]
                                 for snap in (taken, ws.snapshot(host, person))))
    assert refused.returncode != 0 and all(
        f"the image {name} is not podnet's" in refused.stdout + refused.stderr
        for name in ws.TAKEN_IMAGE_NAMES), refused.stdout[-2000:] + refused.stderr[-2000:]
    assert not untouched, "\n".join(untouched)
    person.run(["podman", "untag", *ws.TAKEN_IMAGE_NAMES])  # the person renames theirs

    before = ws.snapshot(host, person)
    names = {name for c in before["containers"] for name in c["Names"]}
    assert {"podnet-mine", *ws.FIXED_OBJECTS[:5]} <= names, names

    started = time.monotonic()
    killed = [ws.run_until_killed(host, WORKDIR, PERSON, inner, moment)
              for inner, moment in zip(KILLED, ws.MOMENTS, strict=True)]
    complete = [(inner.label, ws.run_suites(host, WORKDIR, PERSON, inner))
                for inner in COMPLETE]
    seconds = time.monotonic() - started
    log = "\n".join(f"== {runner}\n{done.stdout}{done.stderr}" for runner, done in complete)
    (tmp_path / "inner.log").write_text(log)

    after = ws.snapshot(host, person)
    results = ws.inner_results(host, COMPLETE[-1].directory)
    counts = ws.outcome_counts(results)
    before_kept, _ = _kept_state(before, PERSON.home)
    after_kept, strays = _kept_state(after, PERSON.home)
    print(f"\nworkstation proof: {seconds:.0f} s of podnet runs; killed at: "
          f"{'; '.join(killed)}; complete runs: "
          + ", ".join(f"{runner} exit {done.returncode}" for runner, done in complete)
          + f"; results {counts}; snapshot sizes {ws.sizes(before)}; "
          f"collisions: {len(ws.collision_files(person))} files, "
          f"{len(ws.FIXED_OBJECTS)} networks; log {tmp_path / 'inner.log'}")

    problems = [f"changed on the workstation: {line}"
                for line in ws.differences(before_kept, after_kept)]
    problems += [f"left in podnet's session directory (not a lock): {path}" for path in strays]
    problems += [f"changed for the lab's own user: {line}"
                 for line in ws.differences(lab_user_before, ws.podman_state(host))]
    if not results:
        problems.append("the inner run recorded no results")
    problems += [f"an error caused by a missing image: {e}"
                 for e in ws.missing_image_errors(results)]
    problems += [f"the complete run as {runner} exited {done.returncode}: "
                 f"{(done.stdout.strip().splitlines() or ['(no output)'])[-1]}"
                 for runner, done in complete if done.returncode != 0]
    assert not problems, "\n".join(problems)
