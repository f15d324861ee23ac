"""Bring the lab up and down: cache, namespaces, host1's systemd, images.

The lab is idempotent and crash-safe. ``up`` on a running lab does nothing; ``up``
after a crash first removes whatever the dead lab left (namespaces, cgroup, overlay
state) and then starts fresh. Every mount lives in host1's own mount namespace, so
the machine's mount table never changes. ``up``, ``down`` and ``destroy`` hold the
lab's lock exclusively (lock.py): a command that finds it held waits, then gives up
naming the holder. host1's init is signalled or entered only when it is still the
process ``up`` started (identity.py).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from harness.errors import PodnetError
from harness.fsguard import remove_tree
from harness.lab import baseline, cgroup, identity, lock, namespaces
from harness.lab import state as lab_state
from harness.lab.mirror import debian_mirror
from harness.lab.releases import DEFAULT_RELEASE, RELEASES, Release, get_release
from harness.lab.rootfs import UID, USER, CachedRelease, cache_key, cached_release, ensure_built
from harness.lab.target import LabTarget, host1_argv
from harness.lab.web_image import ensure_images
from harness.results.timings import phase
from harness.run import Completed, require_tool, run, spawn
from harness.wait import GiveUp, poll

log = logging.getLogger("podnet.lab")
Step = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class LabStatus:
    name: str
    up: bool
    #: The saved state: the running lab's, or the one a lab that stopped left (stale).
    state: lab_state.LabState | None
    leftovers: list[str]


@dataclass(frozen=True)
class Running:
    """A lab that is up, and whether the command that asked for it booted it."""

    target: LabTarget
    booted: bool


def require_root() -> None:
    if os.geteuid() != 0:
        raise PodnetError("the lab needs root (namespaces, mounts, cgroups): run as root, "
                          "or use --target local against your own podman")


def status(name: str = "podnet") -> LabStatus:
    st = lab_state.load(name)
    up = st is not None and identity.is_up(st)
    group = cgroup.lab_cgroup(name)
    leftovers = [] if up else namespaces.existing(name) + ([str(group)] if group.exists() else [])
    return LabStatus(name, up, st, leftovers)


def up(name: str = "podnet", release: str = DEFAULT_RELEASE, step: Step = _quiet, *,
       replace: bool = False) -> Running:
    """Lab ``name`` up with ``release``, holding its lock: one read of its status, one
    decision, one action (see :func:`_up`)."""
    require_root()
    rel = get_release(release)
    with lock.lab_lock(name, exclusive=True):
        return _up(name, rel, step, replace=replace)


def _up(name: str, rel: Release, step: Step, *, replace: bool = False) -> Running:
    """Up already with ``rel``: nothing to do. Up with another release: refused (``lab
    up``), or with ``replace`` (``verify``'s matrix) taken down first. Not up: what a
    lab that stopped, crashed or did not finish its ``up`` left is removed, then host1
    boots."""
    current = status(name)
    running = current.state if current.up else None
    if running is not None and running.release == rel.name:
        step("lab is already up")
        return Running(LabTarget(name, running), booted=False)
    if running is not None and not replace:
        raise PodnetError(f"lab '{name}' is up with {running.release}, not {rel.name}: "
                          "run 'podnet lab down' first")
    if running is not None:
        step(f"lab is up with {running.release}: taking it down for {rel.name}")
    elif current.leftovers or current.state is not None:
        step("cleaning what a previous lab left behind (a lab that stopped, or whose "
             "'up' did not finish)")
    with phase("lab up"):
        if running is not None or current.leftovers or current.state is not None:
            with phase("teardown: lab down"):
                _stop(name, current.state)
        return Running(_boot(name, rel, step), booted=True)


def _boot(name: str, rel: Release, step: Step) -> LabTarget:
    """Build (cached) and boot a lab where none is."""
    for tool, hint in (("ip", "apt-get install iproute2"), ("nsenter", "apt-get install util-linux"),
                       ("unshare", "apt-get install util-linux")):
        require_tool(tool, hint)
    mirror = debian_mirror()
    cache, data_root = lab_state.owned("CACHE_ROOT"), lab_state.owned("DATA_ROOT")
    step(f"root file system for {rel.name} (cached under {cache})")
    in_use = frozenset(Path(s.cache_dir) for s in lab_state.all_states()
                       if identity.lab_init(s) is not None)
    cached = ensure_built(cache, rel, mirror, in_use)
    try:
        step("network namespaces host1, host2, host3")
        names = namespaces.create(name)
        group = cgroup.create(name)
        data_dir = data_root / name
        remove_tree(data_dir, data_root)
        data_dir.mkdir(parents=True)
        step("booting host1 (systemd)")
        init = start_init(names["host1"], group, cached, data_dir, name)
        st = lab_state.LabState(name, rel.name, init.pid, str(cached.directory), names,
                                str(group), time.time(), init.start, init.netns)
        wait_booted(init.pid, data_dir)
        target = LabTarget(name, st)
        baseline.save(name, baseline.capture(target))
        step("cleaning container state kept in the image store")
        _reset_containers(target)
        step("test images")
        ensure_images(target, cached.image_tar, cache_key(rel, mirror))
        # Last: a lab is up only once it is complete. An ``up`` killed before this line
        # leaves namespaces and a cgroup but no state: the next ``up`` cleans them.
        lab_state.save(st)
    except BaseException:
        _stop(name, None)  # its state was never saved
        raise
    step("lab is up")
    return target


def down(name: str = "podnet", step: Step = _quiet, *, workers: bool = True) -> None:
    """Stop everything the lab started, and (``workers``) the labs its concurrent checks'
    workers kept up beside it (``<name>-gw<N>``, harness.workers). Safe to call twice or
    on a half-made lab."""
    require_root()
    for each in [name, *(worker_labs(name) if workers else [])]:
        with lock.lab_lock(each, exclusive=True), phase("teardown: lab down"):
            _stop(each, lab_state.load(each))
    step("lab is down")


def worker_labs(name: str) -> list[str]:
    """The labs of ``name``'s concurrent checks' workers that are up or were."""
    pattern = re.compile(rf"{re.escape(name)}-gw[0-9]+")
    return [each for each in lock.lab_names() if pattern.fullmatch(each)]


def _stop(name: str, st: lab_state.LabState | None) -> None:
    """:func:`down`'s work, under the lab's lock, given the state read under it."""
    # The lab's own cgroup holds host1's init and everything it started.
    cgroup.kill_all(cgroup.lab_cgroup(name))
    if st is not None:
        identity.kill(st)
    namespaces.delete(namespaces.existing(name))
    data_root = lab_state.owned("DATA_ROOT")
    remove_tree(data_root / name, data_root)
    lab_state.remove(name)


def destroy(name: str = "podnet", step: Step = _quiet) -> None:
    """Take lab ``name`` down and empty the cache, holding every lab's lock meanwhile
    (in one order): a lab that is booting from the cache holds its own, and has no
    state file yet to be seen by."""
    require_root()
    cache = lab_state.owned("CACHE_ROOT")
    with contextlib.ExitStack() as labs:
        for each in sorted({*lock.lab_names(), name}):
            labs.enter_context(lock.lab_lock(each, exclusive=True))
        others = [s.name for s in lab_state.all_states()
                  if s.name != name and identity.lab_init(s) is not None]
        if others:
            raise PodnetError(f"other labs use the cache ({', '.join(others)}): "
                              "take them down first with 'podnet --name NAME lab down'")
        down(name, step)
        with contextlib.ExitStack() as builds:  # no build of any release is running
            for release in RELEASES:
                builds.enter_context(lock.cache_lock(release, wait=lock.LAB_WAIT))
            for entry in sorted(cache.iterdir()) if cache.is_dir() else []:
                remove_tree(entry, cache)
    step(f"cache {cache} emptied")


@contextlib.contextmanager
def session(name: str, release: str, *, keep: bool, say: Step) -> Iterator[LabTarget]:
    """A test session's hold on lab ``name``, for as long as it lasts: no other session
    and no ``up``, ``down`` or ``destroy`` meanwhile. Brings the lab up if needed (and
    down at the end unless ``keep``; a lab up with another release is used as it is),
    and resets host1 to its baseline first. The lab's status is read once while it is
    up (the session's shared hold keeps it so); ``up`` reads it again under its own
    exclusive hold when it has to boot."""
    with lock.session_lock(name, note=say):
        running: Running | None = None
        try:
            current = status(name)
            running = (Running(LabTarget(name, current.state), booted=False)
                       if current.up and current.state is not None else up(name, release))
            with phase("setup: host1 reset to its baseline"):
                reset = reset_to_baseline(running.target, say)
            yield reset
        finally:
            if running is not None and running.booted and not keep:
                down(name, workers=False)  # the other workers' labs may be in use


def reset_to_baseline(target: LabTarget, say: Step) -> LabTarget:
    """host1 as ``up`` left it, before a session's first check: routes and kernel
    settings a killed session changed are put back, or, when they cannot be, host1 is
    restarted (down and up). Says in one line what it found and did."""
    name = target.lab_name
    recorded = baseline.load(name)
    if recorded is None:
        say(f"lab '{name}' has no recorded baseline (started by an older podnet): "
            "host1's routes and settings are not compared; 'podnet lab down' and up record one")
        return target
    try:
        fixed = baseline.restore(target, recorded)
    except baseline.NotRestored as exc:
        say(f"host1 differs from its baseline and could not be restored ({exc}): "
            "restarting the lab")
        down(name, workers=False)
        return up(name, target.state.release).target
    if fixed:
        say(f"host1 differed from its baseline ({fixed.describe()}): restored")
    return target


def cached_directory(release: str) -> Path:
    return cached_release(lab_state.root("CACHE_ROOT"), get_release(release),
                          debian_mirror()).directory


def start_init(host1_ns: str, group: Path, cached: CachedRelease, data_dir: Path,
               name: str) -> identity.ProcessIdentity:
    """Boot lab ``name``'s host1 from ``cached`` (:func:`boot`); its init, checked to be
    in the namespace ``host1_ns``."""
    init_pid = boot(host1_ns, group, cached.rootfs, data_dir, cached.storage(name))
    init = identity.read(init_pid)
    if init is None or init.netns != namespaces.namespace_id(namespaces.NETNS_DIR / host1_ns):
        raise PodnetError(f"host1's init (pid {init_pid}) is not in {host1_ns}: "
                          f"see {data_dir / 'console.log'}")
    return init


def boot(host1_ns: str, group: Path, rootfs: Path, data_dir: Path, storage: Path) -> int:
    """Start host1's init over ``rootfs`` with its writable layer in ``data_dir`` (kept
    as it is: a reboot boots over the same layer); return the init's PID."""
    script = resources.files("harness.lab") / "files" / "boot-host.sh"
    boot_script = data_dir / "boot-host.sh"
    boot_script.write_text(script.read_text())
    console = (data_dir / "console.log").open("wb")
    inner = [
        "nsenter", f"--net=/run/netns/{host1_ns}", "--",
        "unshare", "--pid", "--mount", "--uts", "--ipc", "--cgroup", "--fork",
        "--propagation", "private", "--",
        "env", "-i", "container=podnet", "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
        "sh", str(boot_script), str(rootfs), str(data_dir), "host1", str(storage), f"/home/{USER}",
    ]
    # Join the lab's cgroup first, so the new cgroup namespace is rooted there.
    argv = ["sh", "-c", f'echo $$ > {group}/cgroup.procs && exec "$@"', "podnet-lab", *inner]
    proc = spawn(argv, stdout=console, stderr=subprocess.STDOUT)
    return poll(lambda: _child_of(proc), what="host1's init process", timeout=10)


def _child_of(proc: subprocess.Popen[bytes]) -> int | None:
    if proc.poll() is not None:
        raise PodnetError(f"host1 exited during boot (status {proc.returncode})")
    try:
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    except OSError:
        return None
    return int(children[0]) if children else None


def wait_booted(init_pid: int, data_dir: Path) -> None:
    def as_root(*argv: str, check: bool = False) -> Completed:
        return run(host1_argv(init_pid, list(argv), env={"PATH": "/usr/bin:/bin"}, user=None),
                   check=check)

    def system_state() -> str | None:
        if identity.read(init_pid) is None:  # gone, or a zombie
            tail = (data_dir / "console.log").read_text(errors="replace").strip()[-400:]
            raise GiveUp(f"host1 stopped while booting: {tail}")
        out = as_root("systemctl", "is-system-running").stdout.strip()
        return out if out in ("running", "degraded") else None

    poll(system_state, what="host1's systemd to finish booting", timeout=90)
    # systemd in host1 does not see udev's live events; re-executing makes it read
    # udev's database, so device units for eth0/eth1 exist (BindToDevice= needs them).
    as_root("udevadm", "settle", "--timeout=10")
    as_root("systemctl", "daemon-reexec", check=True)
    poll(lambda: as_root("systemctl", "is-active", "sys-subsystem-net-devices-eth0.device").ok,
         what="host1's device unit for eth0", timeout=30)
    poll(system_state, what="host1's systemd after re-executing", timeout=30)
    poll(lambda: as_root("test", "-S", f"/run/user/{UID}/bus").ok,
         what=f"the systemd user manager of '{USER}'", timeout=60)


def _reset_containers(target: LabTarget) -> None:
    target.podman("rm", "--all", "--force", "--time", "0", check=False)
    target.podman("pod", "rm", "--all", "--force", check=False)
    target.podman("network", "prune", "--force", check=False)
    target.podman("volume", "prune", "--force", check=False)
