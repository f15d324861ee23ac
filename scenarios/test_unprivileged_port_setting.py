"""The guide's "Configure ip_unprivileged_port_start" procedure and what the setting
affects.

The procedure: the file /etc/sysctl.d/99-mysettings.conf with
``net.ipv4.ip_unprivileged_port_start=443``, loaded with ``sysctl --system``; then the
setting reads 443 and a pasta container publishes port 443. ``sysctl --system`` loads
every file of the sysctl directories, also keys that are not per network namespace
(``kernel.pid_max`` ...): it runs in a mount namespace where /proc/sys is read-only
except /proc/sys/net, so only host1's own namespace changes. The file is removed and
the setting restored afterwards.

The scope: with the setting lowered in host1's namespace, can another user of host1
(``nobody``) bind a port below the old value, and does another network namespace
(``unshare -n``, and a container's) read the lowered value?
"""

from __future__ import annotations

import shlex
from typing import Any

import pytest

from harness.claims import Claim
from harness.clients.base import Client
from harness.methods import get_method
from harness.probes.netconf import sysctl_set
from harness.probes.reach import BIND_SCRIPT, publishes
from harness.results.recorder import Recorder
from harness.services import IMAGE
from harness.targets.base import Target

pytestmark = [pytest.mark.lab, pytest.mark.unprivileged_port]

KEY = "net.ipv4.ip_unprivileged_port_start"
PROC_PATH = "/proc/sys/" + KEY.replace(".", "/")
DEFAULT = "1024"
GUIDE_FILE = "/etc/sysctl.d/99-mysettings.conf"
GUIDE_VALUE = 443
LOWERED = 80
OTHER_USER = "nobody"
#: ``sysctl --system`` with every /proc/sys key read-only except the network
#: namespace's own (/proc/sys/net).
GUARDED_SYSTEM = ("mount --bind /proc/sys /proc/sys && mount --bind /proc/sys/net /proc/sys/net"
                  " && mount -o remount,bind,ro /proc/sys && exec sysctl --system")


def procedure_result(value: str, published: bool, said: str) -> int | str:
    """The setting's value when the low port was also published, else what failed."""
    if published and value.isdigit():
        return int(value)
    return f"{value}, but port {GUIDE_VALUE} not published: {said}"


@pytest.mark.claims("ports.unprivileged.sysctl-d")
def test_sysctl_d_procedure(claim: Claim, target: Target, client: Client, recorder: Recorder,
                            applicable: Any) -> None:
    method = get_method("pasta")
    applicable(claim, method)
    with sysctl_set(target, KEY, DEFAULT):
        try:
            target.write_file(GUIDE_FILE, f"{KEY}={GUIDE_VALUE}\n", root=True)
            loaded = target.run(["unshare", "-m", "--propagation", "private",
                                 "sh", "-c", GUARDED_SYSTEM], root=True, check=False)
        finally:
            target.remove_files(GUIDE_FILE, root=True)
        value = target.sysctl(KEY)
        published = publishes(target, method, client, GUIDE_VALUE)
    said = published.describe()
    applied = [line for line in loaded.stdout.splitlines() if "unprivileged" in line]
    recorder.check(claim, procedure_result(value, published.served, said), evidence={
        "file": f"{GUIDE_FILE}: {KEY}={GUIDE_VALUE}", "sysctl --system": "; ".join(applied),
        f"{KEY} before": DEFAULT, f"{KEY} after": value, f"port {GUIDE_VALUE}": said})


def scope(user_before: bool, user_after: bool, other_netns: dict[str, str]) -> str:
    """What a lowered setting affects, from another user's bind below the old value
    (refused before, allowed after) and the value other network namespaces read."""
    users = not user_before and user_after
    namespaces = bool(other_netns) and all(v == str(LOWERED) for v in other_netns.values())
    if users and namespaces:
        return "system-wide"
    if users:
        return "per network namespace: every user of it, not other network namespaces"
    return "not every user: another user's bind did not follow the setting"


def _bind_as_other_user(target: Target, port: int) -> str:
    done = target.run(["runuser", "-u", OTHER_USER, "--", "python3", "-c", BIND_SCRIPT,
                       "127.0.0.1", str(port)], root=True, check=False)
    return (done.stdout.strip() or done.stderr.strip())[:200]


def _other_namespaces(target: Target) -> dict[str, str]:
    """The setting as a new network namespace of host1 and a pasta container read it."""
    fresh = target.run(["unshare", "-n", "cat", PROC_PATH], root=True, check=False)
    container = target.podman("run", "--rm", "--network=pasta", IMAGE, "cat", PROC_PATH,
                              check=False)
    return {"unshare -n": fresh.stdout.strip() or fresh.stderr.strip()[:120],
            "pasta container": container.stdout.strip() or container.stderr.strip()[:120]}


@pytest.mark.claims("ports.unprivileged.system-wide")
def test_setting_scope(claim: Claim, target: Target, recorder: Recorder, applicable: Any) -> None:
    applicable(claim)
    with sysctl_set(target, KEY, DEFAULT):
        before = _bind_as_other_user(target, LOWERED)
        with sysctl_set(target, KEY, str(LOWERED)):
            after = _bind_as_other_user(target, LOWERED)
            elsewhere = _other_namespaces(target)
    observed = scope(before == "bound", after == "bound", elsewhere)
    recorder.check(claim, observed, evidence={
        f"{OTHER_USER} binds {LOWERED} with {KEY}={DEFAULT}": before,
        f"{OTHER_USER} binds {LOWERED} with {KEY}={LOWERED}": after,
        **{f"{KEY} in {name}": value for name, value in elsewhere.items()},
        "command": shlex.join(["runuser", "-u", OTHER_USER, "--", "python3", "-c", "bind",
                               str(LOWERED)])})
