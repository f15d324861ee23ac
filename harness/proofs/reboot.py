"""Reboot host1 with its network coming up late.

host1's systemd is asked to reboot; when its init has stopped, the lab boots host1
again over the same writable layer (everything written to host1's disk stays: enabled
units, the user's ~/.config, lingering; /run starts empty, as after a real reboot). Just
before the new boot, the lab removes the configuration of host1's main interface
(eth0's addresses and the default routes) and puts it back only when the caller says:
a reboot where the network comes up late.

Inside host1, a system unit of the lab (:data:`WAIT_UNIT`) plays the network manager's
wait-online service: it is ordered before ``network-online.target`` and waits until
eth0 has its address and host1 its default route, so ``network-online.target`` becomes
active only once the lab has configured the network, as on a machine whose DHCP answer
comes late.

Only within a test session (which holds the lab): the session's ``LabTarget`` gets the
new init's state. On every exit host1's network is configured again and host1 has
finished booting; a crash in between leaves routes the next session finds missing, and
it restarts the lab (see lab.reset_to_baseline).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Callable, Iterator
from pathlib import Path

from harness.errors import PodnetError
from harness.lab import cgroup, identity, lab, namespaces
from harness.lab import state as lab_state
from harness.lab.releases import get_release
from harness.lab.rootfs import CachedRelease
from harness.lab.target import LabTarget
from harness.lab.topology import DEFAULT_VIA
from harness.run import run
from harness.targets.base import SYSTEM_UNIT_DIR
from harness.wait import poll

WAIT_UNIT = "podnet-late-network.service"
WAIT_UNIT_PATH = f"{SYSTEM_UNIT_DIR}/{WAIT_UNIT}"
#: network-online.target wants the lab's wait unit (a drop-in, not an [Install] link, so
#: the session's manifest holds every file written).
ONLINE_DROP_IN = f"{SYSTEM_UNIT_DIR}/network-online.target.d/podnet-late-network.conf"
MAIN = DEFAULT_VIA
WAIT_SCRIPT = (f"until ip -4 -o addr show dev {MAIN.host1_if} | grep -q ' {MAIN.host1_addr}/' "
               "&& ip -4 route show default | grep -q via; do sleep 0.2; done")
WAIT_UNIT_TEXT = f"""\
[Unit]
Description=podnet lab: wait until host1's main interface is configured
Before=network-online.target

[Service]
Type=oneshot
RemainAfterExit=yes
TimeoutStartSec=300
ExecStart=/bin/sh -c "{WAIT_SCRIPT}"
"""
ONLINE_DROP_IN_TEXT = f"[Unit]\nWants={WAIT_UNIT}\nAfter={WAIT_UNIT}\n"
SHUTDOWN_TIMEOUT = 60.0
#: The user manager of host1's rootless user is up at most this long after the boot.
USER_MANAGER_TIMEOUT = 90.0


@contextlib.contextmanager
def late_network_units(target: LabTarget) -> Iterator[None]:
    """host1's system unit that holds network-online.target until eth0 is configured;
    removed on exit."""
    target.require_isolated("install the lab's wait-online unit")
    try:
        target.write_file(WAIT_UNIT_PATH, WAIT_UNIT_TEXT, root=True)
        target.write_file(ONLINE_DROP_IN, ONLINE_DROP_IN_TEXT, root=True)
        target.systemctl("daemon-reload")
        yield
    finally:
        target.remove_files(WAIT_UNIT_PATH, ONLINE_DROP_IN, root=True)
        target.run(["rmdir", "--ignore-fail-on-non-empty", ONLINE_DROP_IN.rsplit("/", 1)[0]],
                   root=True, check=False)
        target.systemctl("daemon-reload", check=False)


@contextlib.contextmanager
def reboot_with_late_network(target: LabTarget) -> Iterator[Callable[[], None]]:
    """Reboot host1 with its main interface unconfigured; yield, once the rootless
    user's systemd manager runs, the function that configures the interface (its
    addresses and default routes; idempotent). On exit the interface is configured and
    host1 has finished booting."""
    target.require_isolated("reboot host1")
    namespace = target.state.netns["host1"]
    stop_host1(target)
    try:
        unconfigure_main_interface(namespace)
        boot_host1(target)
        poll(lambda: target.run(["test", "-S", f"{target.runtime_dir}/bus"], root=True,
                                check=False).ok,
             what=f"the systemd user manager of '{target.user}' after the reboot",
             timeout=USER_MANAGER_TIMEOUT)
        yield functools.partial(configure_main_interface, namespace)
    finally:
        configure_main_interface(namespace)
    if identity.lab_init(target.state) is not None:
        lab.wait_booted(target.state.init_pid, lab_state.root("DATA_ROOT") / target.lab_name)


def stop_host1(target: LabTarget) -> None:
    """Ask host1's systemd to reboot and wait until its init has gone (killed when it
    does not go within :data:`SHUTDOWN_TIMEOUT`); everything it ran is gone too."""
    st = target.state
    target.systemctl("reboot", "--no-block", check=False)
    try:
        poll(lambda: identity.lab_init(st) is None, what="host1's init to stop",
             timeout=SHUTDOWN_TIMEOUT)
    except PodnetError:
        identity.kill(st)
    cgroup.kill_all(Path(st.cgroup))


def boot_host1(target: LabTarget) -> None:
    """Boot host1 again over its writable layer; ``target`` gets the new init's state."""
    st = target.state
    group = cgroup.create(st.name)
    cached = CachedRelease(get_release(st.release), Path(st.cache_dir))
    init = lab.start_init(st.netns["host1"], group, cached, lab_state.root("DATA_ROOT") / st.name,
                          st.name)
    new = dataclasses.replace(st, init_pid=init.pid, init_start=init.start, cgroup=str(group))
    lab_state.save(new)
    target.state = new


def unconfigure_main_interface(namespace: str) -> None:
    for family in ("-4", "-6"):
        run(["ip", "-n", namespace, family, "route", "del", "default"], check=False)
    run(["ip", "-n", namespace, "addr", "flush", "dev", MAIN.host1_if, "scope", "global"])


def configure_main_interface(namespace: str) -> None:
    namespaces.configure(namespace, MAIN.host1_if, f"{MAIN.host1_addr}/{MAIN.prefix}",
                         MAIN.host1_addr6)
    namespaces.default_routes(namespace)
