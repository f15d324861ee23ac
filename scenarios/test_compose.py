"""The guide's compose example: ``extra_hosts: - "myhost.example.com=host-gateway"`` in a
compose file "is equivalent of providing --add-host=myhost.example.com:host-gateway".

podman-compose (the compose tool Debian ships for podman) is installed into host1 for this
module and purged after. A compose service of the lab's web image, on pasta (the
example's title), fetches a token from an HTTP server on host1's main network interface
by the name ``myhost.example.com``; the positive control is the same file with the name
mapped the way podman's ``--add-host`` writes it (``name:host-gateway``), which shows
that the tool, the image and host-gateway work, so that a failure of the guide's form is
the form's own. Without a pod (``--in-pod false``: podman-compose's pods would carry
no podnet label) and with ``run --rm``, nothing of the run stays.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from harness.claims import Claim
from harness.image_names import WEB_IMAGE
from harness.lab import packages
from harness.lab.target import LabTarget
from harness.probes import hostserver
from harness.results.recorder import Recorder, against_control
from harness.run import Completed
from harness.sessions.ownership import LABEL
from harness.targets.base import Target

pytestmark = [pytest.mark.lab, pytest.mark.outbound]

CLAIM_ID = "outbound.main-interface.compose-extra-hosts"
PORT = 18086
NAME = "myhost.example.com"
#: The guide's line of the compose file, and the form podman's --add-host takes.
GUIDE_FORM = f"{NAME}=host-gateway"
CONTROL_FORM = f"{NAME}:host-gateway"
#: Where podman-compose's packages wait while installed, and their ledger in host1.
DEBS_DIR = "/var/tmp/podnet-compose-debs"
LEDGER = "/var/tmp/podnet-compose-packages"


@pytest.fixture(scope="module")
def compose_tool(target: Target) -> Iterator[None]:
    if isinstance(target, LabTarget):
        with packages.installed(target, ["podman-compose"], DEBS_DIR, LEDGER):
            yield
    elif target.run(["sh", "-c", "command -v podman-compose"], check=False).ok:
        yield
    else:
        pytest.skip("podman-compose is not installed on the target")


def compose_file(extra_host: str, url: str, session: str | None) -> str:
    """A compose file of one service on pasta that fetches ``url`` once (its containers
    carry the session's label, like every container podnet makes)."""
    labels = f"    labels:\n      {LABEL}: \"{session}\"\n" if session else ""
    return (
        "services:\n"
        "  web:\n"
        f"    image: {WEB_IMAGE}\n"
        "    network_mode: pasta\n"
        f'    command: ["curl", "-s", "-4", "-m", "5", "{url}"]\n'
        f"{labels}"
        "    extra_hosts:\n"
        f'      - "{extra_host}"\n'
    )


@dataclass(frozen=True)
class ComposeRun:
    extra_host: str
    exit_status: int
    reached: bool
    said: str


def compose_equivalent(guide: ComposeRun, control: ComposeRun) -> bool:
    """The guide's form is equivalent to --add-host when it reaches the server as the
    control does; its failure counts only where the control reached it."""
    return against_control(guide.reached, control.reached,
                           f"the same compose file with {control.extra_host} "
                           f"(exit {control.exit_status}: {control.said})")


def _compose_run(target: Target, directory: str, extra_host: str,
                 server: hostserver.HostServer) -> ComposeRun:
    session = target.session.id if target.session else None
    url = f"http://{NAME}:{server.port}{server.path}"
    target.write_file(f"{directory}/compose.yaml", compose_file(extra_host, url, session))
    project = f"podnet-compose-{secrets.token_hex(3)}"
    done: Completed = target.run(
        ["sh", "-c", 'cd "$1" && podman-compose --in-pod false -p "$2" run --rm web', "sh",
         directory, project], check=False, timeout=180)
    said = (done.stderr.strip().splitlines() or ["(no stderr)"])[-1][:300]
    return ComposeRun(extra_host, done.returncode, server.token in done.stdout, said)


@pytest.mark.claims(CLAIM_ID)
def test_compose_extra_hosts_is_add_host(claim: Claim, target: Target, recorder: Recorder,
                                         applicable: Any, compose_tool: None) -> None:
    applicable(claim)
    version = target.run(["podman-compose", "--version"], check=False).stdout.strip()
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(hostserver.http_server(
            target.run, target.main_address, PORT, record=target.record_file))
        directory = target.fresh_dir(f"{target.home}/.cache/podnet", "compose")
        stack.callback(target.remove_files, directory)
        guide = _compose_run(target, directory, GUIDE_FORM, server)
        control = _compose_run(target, directory, CONTROL_FORM, server)
    evidence = {"podman-compose --version": version,
                "server": f"{server.address}:{server.port}",
                "runs": [vars(run) for run in (guide, control)]}
    recorder.check(claim, compose_equivalent(guide, control), evidence=evidence)
