"""The guide's restricted socket-activated web servers ("Restricting network access"):
``Network=none`` (socket-activated sockets are not affected by it), and
``RestrictAddressFamilies=AF_UNIX AF_NETLINK`` with ``NoNewPrivileges=yes`` for the
container, podman, conmon and the OCI runtime, whose example works with runc and with
crun 1.23 or later, while crun 1.17 to 1.22 have a regression.

The guide's caddy.socket and caddy.container, with podnet's nginx image taking the
inherited socket (``NGINX=3;``) instead of caddy, and ``ListenStream=0.0.0.0:8080``
instead of ``[::]:8080`` (nginx keeps an inherited socket only when a listen directive
matches it). host2 requests a page; a unit that does not serve counts as "not serving"
only when the same units without the restriction serve (the control).
"""

from __future__ import annotations

import secrets
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest

from harness.claims import Claim, load_default
from harness.clients.base import Client
from harness.outbound_params import params
from harness.results.recorder import Recorder, against_control
from harness.services import ACTIVATION_WAIT, IMAGE, PREFIX
from harness.targets.base import QUADLET_DIR, USER_UNIT_DIR, Target
from scenarios.test_same_port import PORT, installed

pytestmark = [pytest.mark.lab, pytest.mark.socket_activation]

REGISTRY = load_default()
RESTRICTION = ["RestrictAddressFamilies=AF_UNIX AF_NETLINK", "NoNewPrivileges=yes",
               "SystemCallArchitectures=native"]
NAMESPACE_SERVICE = "podnet-usernamespace"


@dataclass(frozen=True)
class Served:
    served: bool
    evidence: dict[str, Any]


def unit_files(target: Target, stem: str, *, restrict: bool, runtime: str | None,
               network: str | None = "none") -> dict[str, str]:
    """caddy.socket, caddy.container and (restricted) podman-usernamespace.service."""
    home = target.home
    files = {f"{home}/{USER_UNIT_DIR}/{stem}.socket":
             f"[Socket]\n\nListenStream=0.0.0.0:{PORT}\n\n[Install]\nWantedBy=sockets.target\n"}
    unit, service = [], []
    if restrict:
        namespace = f"{NAMESPACE_SERVICE}-{stem}.service"
        unit = ["[Unit]", f"After={namespace}", f"Requires={namespace}", ""]
        service = ["[Service]", *RESTRICTION, ""]
        files[f"{home}/{USER_UNIT_DIR}/{namespace}"] = (
            f"[Unit]\nDescription={namespace}\n\n[Service]\nType=oneshot\nRestart=on-failure\n"
            "TimeoutStopSec=70\nExecStart=/usr/bin/podman unshare /bin/true\n"
            "RemainAfterExit=yes\n")
    container = ["[Container]", *([f"GlobalArgs=--runtime={runtime}"] if runtime else []),
                 f"ContainerName={stem}", 'Environment="NGINX=3;"', f"Image={IMAGE}",
                 *([f"Network={network}"] if network else []),
                 *(["Pull=never"] if restrict else [])]
    files[f"{home}/{QUADLET_DIR}/{stem}.container"] = "\n".join([*unit, *service, *container, ""])
    return files


def serve(target: Target, client: Client, *, restrict: bool, runtime: str | None,
          network: str | None = "none") -> Served:
    stem = f"{PREFIX}caddy-{secrets.token_hex(3)}"
    files = unit_files(target, stem, restrict=restrict, runtime=runtime, network=network)
    url = f"http://{target.main_address}:{PORT}/?probe={stem}"
    with ExitStack() as stack:
        stack.enter_context(installed(target, files))
        target.systemctl_user("start", f"{stem}.socket")
        reply = client.http_get(url, timeout=ACTIVATION_WAIT)
        journal = target.run(["journalctl", "--user", "-u", f"{stem}.service", "--no-pager",
                              "-n", "40"], check=False).stdout
    errors = [ln for ln in journal.splitlines() if "OCI runtime" in ln or "rror" in ln]
    return Served(reply.ok, {"container_unit": files[f"{target.home}/{QUADLET_DIR}/{stem}.container"],
                             "reply": reply.error or f"HTTP {reply.status}",
                             "journal_errors": " | ".join(errors[-4:])})


def restricted_serves(guide: Served, control: Served | None) -> bool:
    """The guide's units served; when not, the control (the same units without the
    restriction, or without Network=none) must have, or nothing is observed."""
    return against_control(guide.served, control is not None and control.served,
                           "the units without the restriction or without Network=none")


def _runtime_missing(target: Target, runtime: str | None) -> str:
    if runtime is None:
        return ""
    found = target.run(["sh", "-c", f"command -v {runtime}"], check=False)
    return "" if found.ok else f"{runtime} is not installed on the target"


@pytest.mark.parametrize("claim", params(REGISTRY.select("restricted_socket_serves")))
def test_restricted_socket(claim: Claim, target: Target, client: Client, recorder: Recorder,
                           applicable: Any) -> None:
    applicable(claim)
    runtime = claim.extra.get("runtime")
    if missing := _runtime_missing(target, runtime):
        recorder.skip(claim, missing)
        pytest.skip(missing)
    restrict = bool(claim.extra.get("restrict", False))
    guide = serve(target, client, restrict=restrict, runtime=runtime)
    # the control: without the restriction, or (Network=none alone) without Network=
    control = None if guide.served else serve(target, client, restrict=False, runtime=runtime,
                                              network="none" if restrict else None)
    evidence = dict(guide.evidence)
    if control is not None:
        evidence["control"] = "served" if control.served else control.evidence["journal_errors"]
    recorder.check(claim, restricted_serves(guide, control), evidence=evidence)
