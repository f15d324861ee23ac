"""The lab's virtual hosts and links, as data. Documentation-range addresses only."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Link:
    """A veth pair between host1 (``host1_if``) and a client host (``peer_if``)."""

    client: str
    host1_if: str
    host1_addr: str
    peer_if: str
    peer_addr: str
    prefix: int
    host1_addr6: str
    peer_addr6: str


LINKS = (
    Link("host2", "eth0", "192.0.2.1", "eth0", "192.0.2.10", 24,
         "2001:db8:2::1", "2001:db8:2::10"),
    Link("host3", "eth1", "198.51.100.1", "eth0", "198.51.100.10", 24,
         "2001:db8:3::1", "2001:db8:3::10"),
)
#: host1's default route points at host2: host2 plays "the internet".
DEFAULT_VIA = LINKS[0]
CLIENT_HOSTS = tuple(link.client for link in LINKS)


def link_for(client: str) -> Link:
    return {link.client: link for link in LINKS}[client]
