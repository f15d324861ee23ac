"""Is a published port served to a client, and is it served through each interface?"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.clients.base import Client
from harness.errors import PodnetError
from harness.methods import Method
from harness.results.recorder import NoObservation
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


#: Words of a refusal that names its cause: pasta's "Failed to bind port 80 (Permission
#: denied)", rootlessport's "cannot expose privileged port 80 ... bind: permission denied".
PRIVILEGED_REFUSAL = re.compile(r"permission denied|cannot expose privileged port", re.I)
#: Python's words when the rootless user may not bind the port (EACCES).
BIND_DENIED = "Permission denied"
#: Binds ADDRESS PORT [udp]: prints "bound" or the error.
BIND_SCRIPT = ("import socket, sys\n"
               "kind = socket.SOCK_DGRAM if sys.argv[3:] == ['udp'] else socket.SOCK_STREAM\n"
               "s = socket.socket(socket.AF_INET, kind)\n"
               "try:\n    s.bind((sys.argv[1], int(sys.argv[2])))\n    print('bound')\n"
               "except OSError as exc:\n    print(exc)\n")


@dataclass(frozen=True)
class Publication:
    """Whether a method served a published port, what podman or systemd said, and, when
    it did not, what the rootless user's own bind of that port in the target's namespace
    said (the cause, where the method's message does not name it: systemd's "Job failed",
    slirp4netns's "slirp_add_hostfwd failed", the host network's server never answering)."""

    served: bool
    said: str
    user_bind: str = ""

    @property
    def refused(self) -> bool:
        """Not served because the port is privileged: the method's message says so, or
        the user's own bind of the port was refused with Permission denied."""
        if self.served:
            return False
        return bool(PRIVILEGED_REFUSAL.search(self.said)) or BIND_DENIED in self.user_bind

    def describe(self) -> str:
        if self.served or not self.user_bind:
            return self.said
        return f"{self.said} (the rootless user's bind of the port: {self.user_bind})"


def served_or_refused(publication: Publication, port: int) -> bool:
    """Served (True) or refused for being privileged (False); any other failure (the port
    in use, podman failing for another reason) is no observation."""
    if publication.served or publication.refused:
        return publication.served
    raise NoObservation(f"port {port} was neither served nor refused as a privileged port: "
                        f"{publication.describe()}")


def user_bind(target: Target, port: int, protocol: str = "tcp", address: str = "0.0.0.0") -> str:
    """The rootless user binds ``port`` in the target's namespace: "bound" or the error."""
    done = target.run(["python3", "-c", BIND_SCRIPT, address, str(port), protocol], check=False)
    return (done.stdout.strip() or done.stderr.strip())[:200]


def publishes(target: Target, method: Method, client: Client, port: int,
              protocol: str = "tcp") -> Publication:
    """Whether the method serves ``port`` to the client, with podman's/systemd's error and,
    when not served, the rootless user's own bind of the port. A UDP service must answer
    the client's datagram (a socket-activated one is started by it)."""
    try:
        with serve(target, method, client, ServeOptions(
                port=port, protocol=protocol, container_port=8080, ready_timeout=8)):
            if protocol != "udp":
                return Publication(True, "served")
            answered, said = served(client, target.main_address, port, "udp")
            if answered:
                return Publication(True, "served")
    except PodnetError as exc:
        said = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else repr(exc)
    return Publication(False, said, user_bind(target, port, protocol))
