"""Is a published port served to a client, and is it served through each interface?"""

from __future__ import annotations

from harness.clients.base import Client
from harness.errors import PodnetError
from harness.methods import Method
from harness.services import ServeOptions, serve
from harness.targets.base import Target
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


def publishes(target: Target, method: Method, client: Client, port: int) -> tuple[bool, str]:
    """Whether the method serves ``port`` to the client, and podman's/systemd's error."""
    try:
        with serve(target, method, client,
                   ServeOptions(port=port, container_port=8080, ready_timeout=8)):
            return True, "served"
    except PodnetError as exc:
        return False, str(exc).strip().splitlines()[0][:300] if str(exc).strip() else repr(exc)
