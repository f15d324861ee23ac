"""Is a published port served to a client, and is it served through each interface?"""

from __future__ import annotations

from harness.clients.base import Client
from harness.wait import NotReady, poll


def served(client: Client, address: str, port: int, protocol: str = "tcp",
           timeout: float = 3.0) -> tuple[bool, str]:
    """One attempt: (answered, what happened)."""
    if protocol == "udp":
        reply = client.udp_exchange(address, port, timeout=timeout)
        return "reply" in reply, str(reply.get("reply") or reply.get("error"))
    http = client.http_get(f"http://{address}:{port}/", timeout=timeout)
    return http.ok, f"HTTP {http.status}" if http.status else str(http.error)


def wait_served(client: Client, address: str, port: int, protocol: str = "tcp",
                timeout: float = 20.0) -> bool:
    try:
        return poll(lambda: served(client, address, port, protocol, timeout=2)[0],
                    what=f"{protocol} {address}:{port} to answer {client.name}",
                    timeout=timeout, interval=0.1)
    except NotReady:
        return False
