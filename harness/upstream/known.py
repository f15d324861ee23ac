"""podman's tests that need the internet, by file and name (without the ``[505]``
prefix): the lab never reaches it, so their failure is reported as "needs the internet",
never as a failure of podman's. A test of this table that passes is reported passed."""

from __future__ import annotations

#: (file, test name) -> what it needs from the internet.
NEEDS_INTERNET: dict[tuple[str, str], str] = {
    ("500-networking.bats", "podman network create"):
        "ends by resolving google.com from a container on a custom network (aardvark-dns "
        "forwards to the host's name server)",
    ("505-networking-pasta.bats", "Basic nameserver lookup"):
        "resolves l.root-servers.net through the host's name server",
    ("505-networking-pasta.bats", "Custom DNS forward address, IPv4"):
        "resolves l.root-servers.net through pasta's DNS forwarder",
}


def needs_internet(file: str, name: str) -> str:
    """Why the test needs the internet, or "" when it does not."""
    return NEEDS_INTERNET.get((file, name), "")
