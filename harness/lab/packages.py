"""Debian packages installed into the running host1 for as long as something needs
them, then purged: host1's root file system stays as cached (adding a package to its
list would change every lab's cache key).

The packages and what they need beyond host1's installed packages are fetched with apt
on this machine (resolved against the cached root file system's dpkg status) from the
machine's Debian mirror, installed with dpkg into host1's writable layer (gone at ``lab
down`` anyway) with no service started by their scripts, and purged at the end.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from harness.fsguard import remove_tree
from harness.lab.mirror import debian_mirror
from harness.lab.releases import get_release
from harness.lab.target import LabTarget
from harness.run import run

#: Makes dpkg's maintainer scripts leave services alone (Debian's policy-rc.d).
POLICY_RC = "/usr/sbin/policy-rc.d"


def _apt(host: LabTarget, dest: Path) -> list[str]:
    """apt-get's options for host1's release, its cache and lists under ``dest``, with
    host1's cached dpkg status as what is installed; its lists updated."""
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
    return options


def fetch_debs(host: LabTarget, dest: Path, packages: Sequence[str]) -> list[Path]:
    """Download ``packages`` and their dependencies missing from host1's cached root
    file system into ``dest`` (apt on this machine, from the machine's Debian mirror)."""
    options = _apt(host, dest)
    run(["apt-get", *options, "-q", "-y", "--no-install-recommends", "install",
         "--download-only", *packages], timeout=300)
    return sorted((dest / "archives").glob("*.deb"))


def download(host: LabTarget, dest: Path, packages: Sequence[str]) -> list[Path]:
    """Download ``packages`` of host1's release into ``dest``, whether host1 has them or
    not and without their dependencies (e.g. for an image built on host1's base)."""
    options = _apt(host, dest)
    run(["apt-get", *options, "-q", "download", *packages], timeout=300, cwd=str(dest))
    return sorted(dest.glob("*.deb"))


def install(host: LabTarget, debs: list[Path], directory: str) -> None:
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


@contextlib.contextmanager
def installed(host: LabTarget, packages: Sequence[str], directory: str,
              ledger: str | None = None) -> Iterator[list[str]]:
    """``packages`` (and what they need) installed in host1 for as long as the context
    lasts, then purged; yields the names of every package installed. ``directory`` in
    host1 holds the .deb files while they are installed. ``ledger``, a file in host1,
    lists what is installed meanwhile: packages an interrupted earlier run left listed
    there are purged first (apt would otherwise take them as host1's own)."""
    if ledger is not None:
        purge(host, host.run(["cat", ledger], root=True, check=False).stdout.split())
        host.run(["rm", "-f", "--", ledger], root=True)
    scratch = Path(tempfile.mkdtemp(prefix="podnet-debs-"))
    names: list[str] = []
    try:
        debs = fetch_debs(host, scratch, packages)
        # openssh-server_1%3a10.0p1-7_amd64.deb -> openssh-server
        names = [deb.name.split("_", 1)[0] for deb in debs]
        if ledger is not None:
            host.run(["sh", "-c", 'cat > "$1"', "sh", ledger], root=True,
                     input="".join(f"{name}\n" for name in names))
        install(host, debs, directory)
        yield names
    finally:
        purge(host, names)
        if ledger is not None:
            host.run(["rm", "-f", "--", ledger], root=True, check=False)
        remove_tree(scratch, Path(tempfile.gettempdir()))
