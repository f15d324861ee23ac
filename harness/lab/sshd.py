"""An sshd in host1, for one suite: the proof of ``--target ssh://``.

host1's root file system has no ssh server, and adding one to its package list would
change every lab's cache key. Instead the suite fetches openssh-server and what it
needs beyond host1's installed packages (apt on this machine, resolved against the
cached root file system's dpkg status), installs them into the running host1 (its
writable layer: gone at ``lab down``), runs sshd as a transient unit with podnet's own
configuration, host key and authorized keys under ``/etc/podnet-sshd``, and at the end
stops it, removes that directory and purges the packages it installed.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.fsguard import remove_tree
from harness.lab.mirror import debian_mirror
from harness.lab.releases import get_release
from harness.run import run
from harness.targets.lab import LabTarget
from harness.wait import poll

PACKAGES = ("openssh-server",)
CONFIG_DIR = "/etc/podnet-sshd"
UNIT = "podnet-sshd"
DEBS_DIR = "/var/tmp/podnet-sshd-debs"
#: Makes dpkg's maintainer scripts leave services alone (Debian's policy-rc.d).
POLICY_RC = "/usr/sbin/policy-rc.d"


@dataclass(frozen=True)
class Sshd:
    address: str
    port: int
    #: ``type base64`` of host1's host key, for a known_hosts line.
    host_key: str

    def known_hosts_line(self) -> str:
        host = self.address if self.port == 22 else f"[{self.address}]:{self.port}"
        return f"{host} {self.host_key}\n"


def fetch_debs(host: LabTarget, dest: Path, packages: Sequence[str] = PACKAGES) -> list[Path]:
    """Download ``packages`` and their dependencies missing from host1's cached root
    file system into ``dest`` (apt on this machine, from the machine's Debian mirror)."""
    release = get_release(host.state.release)
    status = Path(host.state.cache_dir) / "rootfs" / "var" / "lib" / "dpkg" / "status"
    for sub in ("lists/partial", "archives/partial"):
        (dest / sub).mkdir(parents=True, exist_ok=True)
    sources = dest / "sources.list"
    sources.write_text("".join(f"deb {debian_mirror()} {suite} main\n"
                               for suite in (release.suite, *release.extra_suites)))
    options = [
        "-o", f"Dir::State::Lists={dest / 'lists'}", "-o", f"Dir::State::status={status}",
        "-o", f"Dir::Etc::SourceList={sources}", "-o", "Dir::Etc::SourceParts=/dev/null",
        "-o", "Dir::Etc::Preferences=/dev/null", "-o", "Dir::Etc::PreferencesParts=/dev/null",
        "-o", f"Dir::Cache::archives={dest / 'archives'}", "-o", "Dir::Cache::pkgcache=",
        "-o", "Dir::Cache::srcpkgcache=", "-o", "Acquire::Languages=none",
        "-o", "APT::Sandbox::User=root", "-o", "Debug::NoLocking=1",
        "-o", f"Acquire::Check-Valid-Until={'true' if release.check_valid_until else 'false'}",
    ]
    run(["apt-get", *options, "-q", "update"], timeout=300)
    run(["apt-get", *options, "-q", "-y", "--no-install-recommends", "install",
         "--download-only", *packages], timeout=300)
    return sorted((dest / "archives").glob("*.deb"))


def package_name(deb: Path) -> str:
    """``openssh-server_1%3a10.0p1-7_amd64.deb`` -> ``openssh-server``."""
    return deb.name.split("_", 1)[0]


def install(host: LabTarget, debs: list[Path], directory: str = DEBS_DIR) -> None:
    """Install ``debs`` into host1 with no service started by their scripts (copied to
    ``directory`` in host1 meanwhile)."""
    host.run(["mkdir", "-p", directory], root=True)
    try:
        for deb in debs:
            host.run(["sh", "-c", 'cat > "$1"', "sh", f"{directory}/{deb.name}"], root=True,
                     stdin_path=str(deb), timeout=120)
        host.run(["sh", "-c", f'printf "#!/bin/sh\\nexit 101\\n" > {POLICY_RC} '
                              f"&& chmod 0755 {POLICY_RC}"], root=True)
        host.run(["sh", "-c", f"DEBIAN_FRONTEND=noninteractive dpkg -i {directory}/*.deb"],
                 root=True, timeout=300)
    finally:
        host.run(["rm", "-rf", "--", directory, POLICY_RC], root=True, check=False)


def purge(host: LabTarget, packages: list[str]) -> None:
    """Remove the packages :func:`install` added (and what their scripts made)."""
    if packages:
        host.run(["sh", "-c", 'DEBIAN_FRONTEND=noninteractive dpkg --purge "$@"', "sh",
                  *packages], root=True, check=False, timeout=300)


def config(address: str, port: int) -> str:
    """podnet's sshd_config: keys only, one address, authorized keys podnet writes."""
    return (f"ListenAddress {address}\nPort {port}\n"
            f"HostKey {CONFIG_DIR}/host_ed25519\n"
            f"AuthorizedKeysFile {CONFIG_DIR}/authorized_keys/%u\n"
            f"PidFile none\nUsePAM no\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nPermitRootLogin no\n"
            "X11Forwarding no\nAllowTcpForwarding no\nPrintMotd no\nLogLevel VERBOSE\n")


def start(host: LabTarget, address: str, port: int = 22) -> Sshd:
    """Host key and configuration under :data:`CONFIG_DIR`, sshd as unit :data:`UNIT`."""
    host.run(["mkdir", "-p", "-m", "0755", CONFIG_DIR, f"{CONFIG_DIR}/authorized_keys"],
             root=True)
    host.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "podnet-lab-host1",
              "-f", f"{CONFIG_DIR}/host_ed25519"], root=True)
    host.run(["sh", "-c", 'cat > "$1"', "sh", f"{CONFIG_DIR}/sshd_config"], root=True,
             input=config(address, port))
    host.run(["systemd-run", f"--unit={UNIT}", "--property=RuntimeDirectory=sshd",
              "/usr/sbin/sshd", "-D", "-e", "-f", f"{CONFIG_DIR}/sshd_config"], root=True)
    poll(lambda: f"{address}:{port} " in host.run(["ss", "-Hltn"], root=True).stdout,
         what="sshd in host1 to listen", timeout=30)
    public = host.read_file(f"{CONFIG_DIR}/host_ed25519.pub", root=True).split()
    return Sshd(address, port, " ".join(public[:2]))


def authorize(host: LabTarget, user: str, public_key: str) -> None:
    host.run(["sh", "-c", 'cat > "$1" && chmod 0644 "$1"', "sh",
              f"{CONFIG_DIR}/authorized_keys/{user}"], root=True, input=public_key)


def stop(host: LabTarget) -> None:
    """Stop sshd and remove podnet's configuration (safe when nothing was started)."""
    host.run(["systemctl", "stop", UNIT], root=True, check=False)
    host.run(["systemctl", "reset-failed", UNIT], root=True, check=False)
    host.run(["rm", "-rf", "--", CONFIG_DIR], root=True, check=False)


def log(host: LabTarget) -> str:
    return host.run(["journalctl", "-q", "-o", "cat", "-u", UNIT], root=True,
                    check=False).stdout


@contextlib.contextmanager
def running(host: LabTarget, address: str, port: int = 22) -> Iterator[Sshd]:
    """sshd in host1 for as long as the context lasts; afterwards host1 has no trace of
    it (also after an interrupted earlier run: its leftovers are removed first)."""
    scratch = Path(tempfile.mkdtemp(prefix="podnet-sshd-"))
    packages: list[str] = []
    try:
        debs = fetch_debs(host, scratch)
        packages = [package_name(deb) for deb in debs]
        stop(host)
        install(host, debs)
        yield start(host, address, port)
    finally:
        stop(host)
        purge(host, packages)
        remove_tree(scratch, Path(tempfile.gettempdir()))
