"""The guide's "Connecting to Unix socket on the host": a bind-mounted directory, and the
systemd directive OpenFile= handing the container an already opened file or socket.

A socat server on host1 answers a random token on a Unix socket; the container (with
--network=none, so nothing but the socket can answer) prints what it reads.
"""

from __future__ import annotations

import secrets
import shlex
from collections.abc import Iterator
from typing import Any

import pytest

from harness.claims import Claim, load_default
from harness.outbound_params import params
from harness.probes import hostserver
from harness.results.recorder import Recorder
from harness.services import IMAGE, PREFIX
from harness.targets.base import USER_UNIT_DIR, Target

pytestmark = [pytest.mark.lab, pytest.mark.unix_socket]

REGISTRY = load_default()


def _parent(target: Target) -> str:
    return f"{target.home}/.cache/podnet"


@pytest.mark.claims("unix-socket.bind-mount")
def test_bind_mount(claim: Claim, target: Target, recorder: Recorder) -> None:
    with hostserver.unix_socket_server(target.run, abstract=False, parent=_parent(target),
                                         record=target.record_file) as server:
        argv = target.marked(["podman", "run", "--rm", "--network=none",
                              "-v", f"{server.workdir}:/podnet-dir:Z",
                              IMAGE, "socat", "-T2", "-", "UNIX-CONNECT:/podnet-dir/sock"])
        done = target.run(argv, check=False, input="")
    recorder.check(claim, done.ok and done.stdout.strip() == server.token, evidence={
        "command": shlex.join(argv), "stdout": done.stdout.strip()[:100],
        "stderr": done.stderr.strip()[-200:]})


@pytest.fixture
def file_source(target: Target) -> Iterator[tuple[str, str]]:
    """A token in a file: (path, token)."""
    token = hostserver.new_token()
    path = f"{_parent(target)}/openfile-{secrets.token_hex(3)}"
    target.write_file(path, token + "\n", mode="0600")
    try:
        yield path, token
    finally:
        target.remove_files(path)


@pytest.fixture
def socket_source(target: Target) -> Iterator[tuple[str, str]]:
    with hostserver.unix_socket_server(target.run, abstract=False, parent=_parent(target),
                                         record=target.record_file) as server:
        yield server.socket, server.token


@pytest.mark.parametrize("claim", params(REGISTRY.select("openfile_inherited")))
def test_openfile(claim: Claim, target: Target, recorder: Recorder, applicable: Any,
                  request: pytest.FixtureRequest) -> None:
    """A user service with OpenFile=PATH:podnet runs podman run --preserve-fds=1; the
    container reads file descriptor 3."""
    applicable(claim)
    path, token = request.getfixturevalue(f"{claim.extra['kind']}_source")
    unit = f"{PREFIX}openfile-{secrets.token_hex(3)}"
    unit_file = f"{target.home}/{USER_UNIT_DIR}/{unit}.service"
    out = f"{_parent(target)}/{unit}.out"
    podman = shlex.join(target.marked(["/usr/bin/podman", "run", "--rm", "--preserve-fds=1",
                                       "--network=none", "--name", unit, IMAGE,
                                       "sh", "-c", "cat <&3"]))
    text = (f"[Unit]\nDescription=podnet OpenFile= check\n\n[Service]\nType=oneshot\n"
            f"OpenFile={path}:podnet\nStandardOutput=truncate:{out}\nStandardError=journal\nExecStart={podman}\n")
    try:
        target.record_file(out)
        target.write_file(unit_file, text)
        target.systemctl_user("daemon-reload")
        started = target.systemctl_user("start", f"{unit}.service", check=False, timeout=90)
        seen = target.run(["cat", out], check=False).stdout.strip()
    finally:
        target.undo_units(unit_file)
        target.remove_files(out)
        target.remove_own("containers", unit)
    recorder.check(claim, started.ok and seen == token, evidence={
        "unit": text, "container_read": seen[:100], "systemctl": started.stderr.strip()[-200:]})
