"""The lab itself: what `podnet lab` promises (rootless podman with pasta in host1,
crash recovery, nothing left behind after `down`)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.lab import identity, namespaces, state
from harness.lab import lab as lab_ctl
from harness.lab.cgroup import lab_cgroup
from harness.lab.target import LabTarget
from harness.targets.base import Target
from harness.versions import Version
from harness.wait import poll

pytestmark = [pytest.mark.lab, pytest.mark.smoke, pytest.mark.proof]
SELFTEST = "podnet-selftest"


def test_lab_exec_reports_rootless_pasta(target: Target) -> None:
    """`podnet lab exec -- podman info --format json`: rootless, pasta by default."""
    if not isinstance(target, LabTarget):
        pytest.skip("only for the lab target")
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", "--name", target.lab_name, "lab", "exec", "--",
         "podman", "info", "--format", "json"],
        capture_output=True, text=True, timeout=60, check=True)
    info = json.loads(done.stdout)
    assert info["host"]["security"]["rootless"] is True
    if Version.parse(info["version"]["Version"]) < Version((5, 0, 0)):
        pytest.skip("pasta is the default rootless network command since podman 5.0")
    assert info["host"]["rootlessNetworkCmd"] == "pasta"


@pytest.fixture
def selftest_lab(target: Target) -> Iterator[str]:
    if not isinstance(target, LabTarget):
        pytest.skip("only for the lab target")
    yield SELFTEST
    lab_ctl.down(SELFTEST)


def _leftovers(name: str) -> list[str]:
    found = namespaces.existing(name)
    if lab_cgroup(name).exists():
        found.append(str(lab_cgroup(name)))
    mounts = Path("/proc/self/mounts").read_text()
    found += [line for line in mounts.splitlines() if name in line]
    if state.state_file(name).exists():
        found.append(str(state.state_file(name)))
    return found


def test_crash_recovery_and_clean_down(selftest_lab: str, target: LabTarget) -> None:
    release = target.state.release
    first = lab_ctl.up(selftest_lab, release).target
    assert first.podman("info", "--format", "{{.Host.Security.Rootless}}").stdout.strip() == "true"
    os.kill(first.state.init_pid, signal.SIGKILL)  # a crash of host1's init
    poll(lambda: not lab_ctl.status(selftest_lab).up, what="host1's init to die", timeout=10)
    assert lab_ctl.status(selftest_lab).leftovers, "a crashed lab leaves namespaces to clean"
    again = lab_ctl.up(selftest_lab, release).target
    assert again.state.init_pid != first.state.init_pid
    assert lab_ctl.up(selftest_lab, release).target.state.init_pid == again.state.init_pid  # idempotent
    # A server a client host started outside the lab's cgroup goes with the lab too.
    stray = subprocess.Popen(["ip", "netns", "exec", f"{selftest_lab}-host2", "sleep", "300"])
    poll(lambda: namespaces.processes_in(f"{selftest_lab}-host2"), what="a process in host2")
    lab_ctl.down(selftest_lab)
    lab_ctl.down(selftest_lab)  # twice is fine
    assert stray.wait(timeout=10) != 0
    assert _leftovers(selftest_lab) == []
    assert identity.read(again.state.init_pid) is None  # gone, not even a zombie

