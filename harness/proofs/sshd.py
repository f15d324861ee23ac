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
from collections.abc import Iterator
from dataclasses import dataclass

from harness.lab import packages
from harness.lab.target import LabTarget
from harness.wait import poll

PACKAGES = ("openssh-server",)
CONFIG_DIR = "/etc/podnet-sshd"
UNIT = "podnet-sshd"
DEBS_DIR = "/var/tmp/podnet-sshd-debs"


@dataclass(frozen=True)
class Sshd:
    """sshd listening on ``address``, port 22."""

    address: str
    #: ``type base64`` of host1's host key, for a known_hosts line.
    host_key: str

    def known_hosts_line(self) -> str:
        return f"{self.address} {self.host_key}\n"


def config(address: str) -> str:
    """podnet's sshd_config: keys only, one address, authorized keys podnet writes."""
    return (f"ListenAddress {address}\nPort 22\n"
            f"HostKey {CONFIG_DIR}/host_ed25519\n"
            f"AuthorizedKeysFile {CONFIG_DIR}/authorized_keys/%u\n"
            f"PidFile none\nUsePAM no\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nPermitRootLogin no\n"
            "X11Forwarding no\nAllowTcpForwarding no\nPrintMotd no\nLogLevel VERBOSE\n")


def start(host: LabTarget, address: str) -> Sshd:
    """Host key and configuration under :data:`CONFIG_DIR`, sshd as unit :data:`UNIT`."""
    host.run(["mkdir", "-p", "-m", "0755", CONFIG_DIR, f"{CONFIG_DIR}/authorized_keys"],
             root=True)
    host.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "podnet-lab-host1",
              "-f", f"{CONFIG_DIR}/host_ed25519"], root=True)
    host.run(["sh", "-c", 'cat > "$1"', "sh", f"{CONFIG_DIR}/sshd_config"], root=True,
             input=config(address))
    host.run(["systemd-run", f"--unit={UNIT}", "--property=RuntimeDirectory=sshd",
              "/usr/sbin/sshd", "-D", "-e", "-f", f"{CONFIG_DIR}/sshd_config"], root=True)
    poll(lambda: f"{address}:22 " in host.run(["ss", "-Hltn"], root=True).stdout,
         what="sshd in host1 to listen", timeout=30)
    public = host.read_file(f"{CONFIG_DIR}/host_ed25519.pub", root=True).split()
    return Sshd(address, " ".join(public[:2]))


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
def running(host: LabTarget, address: str) -> Iterator[Sshd]:
    """sshd in host1 for as long as the context lasts; afterwards host1 has no trace of
    it (also after an interrupted earlier run: its leftovers are removed first)."""
    stop(host)
    with packages.installed(host, PACKAGES, DEBS_DIR):
        try:
            yield start(host, address)
        finally:
            stop(host)
