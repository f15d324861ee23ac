"""Build and cache the lab's root file systems with mmdebstrap.

Two artefacts per release, cached under ``<cache>/<release>-<key>/`` where the key
hashes the release, the mirror and the package lists, so a cache is rebuilt only when
what goes into it changes:

* ``rootfs/``: host1's root file system (systemd, rootless podman, pasta, ...);
* ``image.tar``: a minimal root file system that becomes the test image.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from harness.errors import PodnetError
from harness.fsguard import UnsafeDelete, remove_tree
from harness.lab import lock
from harness.lab.releases import Release
from harness.run import require_tool, run, spawn
from harness.wait import poll

log = logging.getLogger("podnet.lab")

RECIPE_VERSION = 5

HOST_PACKAGES = (
    "podman", "passt", "slirp4netns", "uidmap", "crun", "netavark", "aardvark-dns",
    "nftables", "systemd", "systemd-sysv", "dbus", "dbus-user-session", "libpam-systemd",
    "catatonit", "iproute2", "iperf3", "curl", "socat", "tshark", "python3", "procps",
    "nginx-light", "ca-certificates", "mount", "udev",
)
#: podnet's own dependencies from Debian, so podnet itself can run inside host1 against
#: a second rootless user there (the workstation proof: ``--target local`` in host1).
PODNET_PACKAGES = (
    "python3-pytest", "python3-pytest-benchmark", "python3-scapy", "python3-httpx",
    "python3-pandas", "python3-matplotlib", "python3-tabulate", "python3-rich",
)
IMAGE_PACKAGES = ("nginx-light", "iperf3", "curl", "socat", "python3", "iproute2", "procps")

USER = "test"
UID = 1000
SUBID_START = 100000
SUBID_COUNT = 65536


@dataclass(frozen=True)
class CachedRelease:
    release: Release
    directory: Path

    @property
    def rootfs(self) -> Path:
        return self.directory / "rootfs"

    @property
    def image_tar(self) -> Path:
        return self.directory / "image.tar"

    def storage(self, lab: str) -> Path:
        """A lab's container storage, kept so images are built once per lab name."""
        path = self.directory / "storage" / lab
        if not path.exists():
            path.mkdir(parents=True, mode=0o700)
            shutil.chown(path, UID, UID)
        return path

    @property
    def complete(self) -> bool:
        return (self.directory / "complete").is_file()


def cache_key(release: Release, mirror: str) -> str:
    blob = json.dumps(
        [RECIPE_VERSION, release.name, release.suite, release.extra_suites,
         release.preferred_from_extra, release.extra_packages, mirror, HOST_PACKAGES,
         PODNET_PACKAGES, IMAGE_PACKAGES, MASKED_UNITS, NET_DEVICES_UNIT, CONTAINERS_CONF, HOSTS, USER, UID],
    ).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def cached_release(cache_root: Path, release: Release, mirror: str) -> CachedRelease:
    return CachedRelease(release, cache_root / f"{release.name}-{cache_key(release, mirror)}")


#: A build that takes longer is stuck: its whole process tree is killed.
BUILD_TIMEOUT = 20 * 60.0
#: Builds run in ``<cache>/.build-<release>-*`` and are renamed into place when complete.
BUILD_PREFIX = ".build-"
#: mmdebstrap runs in a private mount namespace (its mounts of /proc, /sys and /dev in
#: the new root file system never reach the machine's mount table) and a private PID
#: namespace whose processes all die with it, and it dies with podnet, however podnet
#: ends (even by SIGKILL): no build outlives the command that started it.
ISOLATED = ("setpriv", "--pdeathsig", "KILL", "--",
            "unshare", "--mount", "--propagation", "private", "--pid", "--fork",
            "--kill-child", "--mount-proc", "--")


def ensure_built(cache_root: Path, release: Release, mirror: str,
                 in_use: frozenset[Path] = frozenset()) -> CachedRelease:
    """Return the cached release, building it first when it is missing or incomplete.

    One build of a release at a time (its cache lock). A build fills a temporary
    directory in the cache root and is renamed into place only once complete, so a
    build that fails or is killed leaves no cache entry; the next build removes its
    temporary directory. Outdated caches of the same release are removed, except those
    in ``in_use`` (the root file systems of labs that are running).
    """
    cached = cached_release(cache_root, release, mirror)
    if cached.complete:
        return cached
    require_tool("mmdebstrap", "apt-get install mmdebstrap")
    require_tool("setpriv", "apt-get install util-linux")
    cache_root.mkdir(parents=True, exist_ok=True)
    with lock.cache_lock(release.name, wait=BUILD_TIMEOUT + 60):
        if cached.complete:  # built by another command while this one waited
            return cached
        for leftover in (*cache_root.glob(f"{release.name}-*"),
                         *cache_root.glob(f"{BUILD_PREFIX}{release.name}-*")):
            if leftover not in in_use:
                log.info("removing outdated or unfinished cache %s", leftover)
                remove_tree(leftover, cache_root)
        building = Path(tempfile.mkdtemp(prefix=f"{BUILD_PREFIX}{release.name}-", dir=cache_root))
        try:
            _build(building, release, mirror, cache_root)
            building.rename(cached.directory)
        except BaseException:
            try:
                remove_tree(building, cache_root)
            except UnsafeDelete as exc:
                log.warning("unfinished build kept: %s", exc)
            raise
    return cached


def _build(building: Path, release: Release, mirror: str, cache_root: Path) -> None:
    apt_cache = cache_root / "debs"
    apt_cache.mkdir(parents=True, exist_ok=True)
    logs = cache_root / "logs"
    logs.mkdir(exist_ok=True)
    deadline = time.monotonic() + BUILD_TIMEOUT
    jobs: dict[Path, subprocess.Popen[bytes]] = {}
    try:
        for variant, packages, target, kind in (
            ("apt", HOST_PACKAGES + PODNET_PACKAGES + release.extra_packages,
             building / "rootfs", "rootfs"),
            ("essential", IMAGE_PACKAGES, building / "image.tar", "image"),
        ):
            logfile = logs / f"{release.name}-{kind}.log"
            jobs[logfile] = _mmdebstrap(release, mirror, variant, packages, target, apt_cache,
                                        logfile)
        for logfile, proc in jobs.items():
            _wait(proc, logfile, deadline)
    finally:
        for proc in jobs.values():
            _stop(proc)
    customize_host(building / "rootfs")
    (building / "complete").write_text(release.name + "\n")


def _mmdebstrap(release: Release, mirror: str, variant: str, packages: tuple[str, ...],
                target: Path, apt_cache: Path, logfile: Path) -> subprocess.Popen[bytes]:
    debs = shlex.quote(str(apt_cache))
    argv = [
        *ISOLATED,
        "mmdebstrap", f"--variant={variant}", "--include=" + ",".join(packages),
        "--aptopt=Acquire::Languages \"none\"",
        "--dpkgopt=path-exclude=/usr/share/doc/*",
        "--dpkgopt=path-exclude=/usr/share/man/*",
        "--dpkgopt=path-exclude=/usr/share/locale/*",
        # A shared package cache: copied in before download, copied out after.
        f"--setup-hook=mkdir -p \"$1\"/var/cache/apt/archives; "
        f"find {debs} -maxdepth 1 -name '*.deb' -exec cp -t \"$1\"/var/cache/apt/archives/ {{}} +",
        f"--customize-hook=find \"$1\"/var/cache/apt/archives -maxdepth 1 -name '*.deb' "
        f"-exec cp -n -t {debs}/ {{}} +",
        "--skip=essential/unlink",
    ]
    if not release.check_valid_until:
        argv.append("--aptopt=Acquire::Check-Valid-Until \"false\"")
    if release.preferred_from_extra:
        pins = "".join(f"Package: {p}\\nPin: release a={s}\\nPin-Priority: 990\\n\\n"
                       for s in release.extra_suites for p in release.preferred_from_extra)
        argv.append(f"--setup-hook=mkdir -p \"$1\"/etc/apt/preferences.d; "
                    f"printf '{pins}' > \"$1\"/etc/apt/preferences.d/podnet")
    argv += [release.suite, str(target)]
    argv += [f"deb {mirror} {s} main" for s in (release.suite, *release.extra_suites)]
    log.info("building %s (%s) with mmdebstrap", target.name, release.name)
    # Its own process group, so a timeout or an interruption stops all of it.
    return spawn(argv, stdout=logfile.open("wb"), stderr=subprocess.STDOUT)


def _wait(proc: subprocess.Popen[bytes], logfile: Path, deadline: float) -> None:
    try:
        code = proc.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        _stop(proc)
        raise PodnetError(f"mmdebstrap did not finish within {BUILD_TIMEOUT / 60:g} min and "
                          f"was stopped; log: {logfile}") from None
    if code != 0:
        tail = logfile.read_text(errors="replace").strip().splitlines()[-3:]
        raise PodnetError(f"mmdebstrap failed ({' / '.join(tail)}); full log: {logfile}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Kill the build's whole process group (a no-op once it has exited) and wait until
    none of it is left: the pid namespace's first process outlives ``unshare`` by the
    time the kernel takes to end it."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        poll(lambda: _group_gone(proc.pid), what="the build's processes to end", timeout=30)


def _group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


HOSTS = """127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
192.0.2.1\thost1
192.0.2.10\thost2
198.51.100.10\thost3
"""

CONTAINERS_CONF = """# podnet lab: the lab's cgroup2 has no controllers, so no pids limit.
[containers]
pids_limit = 0
"""


#: Units that fail in a container, or would listen on ports and run jobs the checks
#: don't expect (Debian enables nginx.service with the package).
MASKED_UNITS = (
    "systemd-modules-load.service", "console-getty.service", "getty@tty1.service",
    "systemd-firstboot.service", "nginx.service", "iperf3.service", "apt-daily.timer",
    "apt-daily-upgrade.timer", "dpkg-db-backup.timer", "fstrim.timer",
    # Coldplug would write to every device's uevent file in sysfs, the machine's real
    # devices included: only host1's own network devices are announced (NET_DEVICES).
    "systemd-udev-trigger.service",
    # Most kernel variables and binfmt_misc are machine-wide: host1 must not set them.
    "systemd-sysctl.service", "systemd-binfmt.service", "proc-sys-fs-binfmt_misc.automount",
    "proc-sys-fs-binfmt_misc.mount",
)

#: Announces host1's network devices to its udev, so systemd has device units for
#: them (BindToDevice= in socket units waits for sys-subsystem-net-devices-*.device).
#: Uevents of network devices go to the device's own network namespace only. systemd
#: picks the devices up from udev's database when it re-executes (see lab.py).
NET_DEVICES_UNIT = """[Unit]
Description=podnet: announce host1's network devices to udev
After=systemd-udevd.service
Requires=systemd-udevd.service
Before=network-online.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/bin/udevadm trigger --subsystem-match=net --action=add
ExecStart=/usr/bin/udevadm settle --timeout=10

[Install]
WantedBy=multi-user.target
"""


def customize_host(root: Path) -> None:
    """Turn a fresh root file system into host1: user, linger, units, config."""
    chroot = ["chroot", str(root)]
    run([*chroot, "useradd", "--create-home", "--uid", str(UID), "--shell", "/bin/bash", USER])
    subids = f"{USER}:{SUBID_START}:{SUBID_COUNT}\n"
    (root / "etc/subuid").write_text(subids)
    (root / "etc/subgid").write_text(subids)
    linger = root / "var/lib/systemd/linger"
    linger.mkdir(parents=True, exist_ok=True)
    (linger / USER).touch()
    (root / "etc/hostname").write_text("host1\n")
    (root / "etc/hosts").write_text(HOSTS)
    resolv = root / "etc/resolv.conf"
    resolv.unlink(missing_ok=True)
    resolv.write_text("nameserver 192.0.2.10\n")
    conf_d = root / "etc/containers/containers.conf.d"
    conf_d.mkdir(parents=True, exist_ok=True)
    (conf_d / "50-podnet.conf").write_text(CONTAINERS_CONF)
    units = root / "etc/systemd/system"
    for unit in MASKED_UNITS:
        _link(units / unit, "/dev/null")
    (units / "podnet-net-devices.service").write_text(NET_DEVICES_UNIT)
    wants = units / "multi-user.target.wants"
    _link(wants / "podnet-net-devices.service", "/etc/systemd/system/podnet-net-devices.service")
    # host1's links are configured before boot, so the network is online once booted;
    # without this, quadlet units wait for podman-user-wait-network-online.service.
    _link(wants / "network-online.target", "/usr/lib/systemd/system/network-online.target")
    home = root / "home" / USER
    for sub in (".local/share/containers", ".config/containers/systemd", ".config/systemd/user"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    run(["chown", "-R", f"{UID}:{UID}", str(home)])


def _link(path: Path, target: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    path.symlink_to(target)
