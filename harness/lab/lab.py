"""Bring the lab up and down: cache, namespaces, host1's systemd, images.

The lab is idempotent and crash-safe. ``up`` on a running lab does nothing; ``up``
after a crash first removes whatever the dead lab left (namespaces, cgroup, overlay
state) and then starts fresh. Every mount lives in host1's own mount namespace, so
the machine's mount table never changes.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from harness.errors import PodnetError
from harness.lab import cgroup, netns
from harness.lab import state as lab_state
from harness.lab.images import ensure_images
from harness.lab.mirror import debian_mirror
from harness.lab.releases import DEFAULT_RELEASE, get_release
from harness.lab.rootfs import UID, USER, cache_key, cached_release, ensure_built
from harness.run import require_tool, run, spawn
from harness.targets.lab import LabTarget, host1_argv
from harness.wait import GiveUp, poll

log = logging.getLogger("podnet.lab")
Step = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class LabStatus:
    name: str
    up: bool
    state: lab_state.LabState | None
    leftovers: list[str]


def require_root() -> None:
    if os.geteuid() != 0:
        raise PodnetError(
            "the lab needs root (namespaces, mounts, cgroups): run as root, "
            "or use --target local against your own podman"
        )


def status(name: str = "podnet") -> LabStatus:
    st = lab_state.load(name)
    up = st is not None and _init_alive(st.init_pid)
    leftovers = [] if up else netns.existing(name) + (
        [str(cgroup.lab_cgroup(name))] if cgroup.lab_cgroup(name).exists() else [])
    return LabStatus(name, up, st if up else None, leftovers)


def up(name: str = "podnet", release: str = DEFAULT_RELEASE, step: Step = _quiet) -> LabTarget:
    require_root()
    rel = get_release(release)
    current = status(name)
    if current.up and current.state is not None:
        if current.state.release != rel.name:
            raise PodnetError(
                f"lab '{name}' is up with {current.state.release}, not {rel.name}: "
                "run 'podnet lab down' first"
            )
        step("lab is already up")
        return LabTarget(name)
    if current.leftovers or lab_state.load(name):
        step("cleaning what a previous lab left behind")
        down(name)
    for tool, hint in (("ip", "apt-get install iproute2"), ("nsenter", "apt-get install util-linux"),
                       ("unshare", "apt-get install util-linux")):
        require_tool(tool, hint)
    mirror = debian_mirror()
    step(f"root file system for {rel.name} (cached under {lab_state.CACHE_ROOT})")
    in_use = frozenset(Path(s.cache_dir) for s in lab_state.all_states() if _init_alive(s.init_pid))
    cached = ensure_built(lab_state.CACHE_ROOT, rel, mirror, in_use)
    step("network namespaces host1, host2, host3")
    names = netns.create(name)
    group = cgroup.create(name)
    data_dir = lab_state.DATA_ROOT / name
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    step("booting host1 (systemd)")
    init_pid = _boot(names["host1"], group, cached.rootfs, data_dir, cached.storage(name))
    st = lab_state.LabState(name, rel.name, init_pid, str(cached.directory), names,
                            str(group), time.time())
    lab_state.save(st)
    try:
        _wait_booted(init_pid, data_dir)
        target = LabTarget(name)
        step("cleaning container state kept in the image store")
        _reset_containers(target)
        step("test images")
        ensure_images(target, cached.image_tar, cache_key(rel, mirror))
    except BaseException:
        down(name)
        raise
    step("lab is up")
    return target


def down(name: str = "podnet", step: Step = _quiet) -> None:
    """Stop everything the lab started. Safe to call twice or on a half-made lab."""
    require_root()
    st = lab_state.load(name)
    cgroup.kill_all(Path(st.cgroup) if st else cgroup.lab_cgroup(name))
    if st is not None and _init_alive(st.init_pid):
        os.kill(st.init_pid, 9)
    netns.delete(netns.existing(name))
    shutil.rmtree(lab_state.DATA_ROOT / name, ignore_errors=True)
    lab_state.remove(name)
    step("lab is down")


def destroy(name: str = "podnet", step: Step = _quiet) -> None:
    others = [s.name for s in lab_state.all_states() if s.name != name and _init_alive(s.init_pid)]
    if others:
        raise PodnetError(f"other labs use the cache ({', '.join(others)}): "
                          "take them down first with 'podnet --name NAME lab down'")
    down(name, step)
    shutil.rmtree(lab_state.CACHE_ROOT, ignore_errors=True)
    step(f"cache {lab_state.CACHE_ROOT} removed")


def cached_directory(release: str) -> Path:
    return cached_release(lab_state.CACHE_ROOT, get_release(release), debian_mirror()).directory


def _boot(host1_ns: str, group: Path, rootfs: Path, data_dir: Path, storage: Path) -> int:
    script = resources.files("harness.lab") / "files" / "boot-host.sh"
    boot = data_dir / "boot-host.sh"
    boot.write_text(script.read_text())
    console = (data_dir / "console.log").open("wb")
    inner = [
        "nsenter", f"--net=/run/netns/{host1_ns}", "--",
        "unshare", "--pid", "--mount", "--uts", "--ipc", "--cgroup", "--fork",
        "--propagation", "private", "--",
        "env", "-i", "container=podnet", "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
        "sh", str(boot), str(rootfs), str(data_dir), "host1", str(storage), f"/home/{USER}",
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


def _wait_booted(init_pid: int, data_dir: Path) -> None:
    def system_state() -> str | None:
        if not _running(init_pid):
            tail = (data_dir / "console.log").read_text(errors="replace").strip()[-400:]
            raise GiveUp(f"host1 stopped while booting: {tail}")
        out = run(host1_argv(init_pid, ["systemctl", "is-system-running"],
                             env={"PATH": "/usr/bin:/bin"}, user=None), check=False).stdout
        return out.strip() if out.strip() in ("running", "degraded") else None

    poll(system_state, what="host1's systemd to finish booting", timeout=90)
    # systemd in host1 does not see udev's live events; re-executing makes it read
    # udev's database, so device units for eth0/eth1 exist (BindToDevice= needs them).
    root = {"PATH": "/usr/bin:/bin"}
    run(host1_argv(init_pid, ["udevadm", "settle", "--timeout=10"], env=root, user=None),
        check=False)
    run(host1_argv(init_pid, ["systemctl", "daemon-reexec"], env=root, user=None))
    poll(lambda: run(host1_argv(init_pid, ["systemctl", "is-active",
                                           "sys-subsystem-net-devices-eth0.device"],
                                env=root, user=None), check=False).ok,
         what="host1's device unit for eth0", timeout=30)
    poll(system_state, what="host1's systemd after re-executing", timeout=30)

    def user_manager() -> bool:
        out = run(host1_argv(init_pid, ["test", "-S", f"/run/user/{UID}/bus"],
                             env={"PATH": "/usr/bin:/bin"}, user=None), check=False)
        return out.ok

    poll(user_manager, what=f"the systemd user manager of '{USER}'", timeout=60)


def _reset_containers(target: LabTarget) -> None:
    target.podman("rm", "--all", "--force", "--time", "0", check=False)
    target.podman("pod", "rm", "--all", "--force", check=False)
    target.podman("network", "prune", "--force", check=False)
    target.podman("volume", "prune", "--force", check=False)


def _running(pid: int) -> bool:
    """The process exists and is not a zombie (host1's init may not be systemd yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _init_alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == "systemd"
    except OSError:
        return False
