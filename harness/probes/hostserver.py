"""Servers started outside containers: on host1 (the target) or on a client host.

Outbound checks need something to connect to that is *not* a container: a web server
on host1's 127.0.0.1 or main interface, one on host2 ("the internet"), a Unix socket
(abstract or in a directory). Each server answers with a random token, so a check
knows the answer came from this server and not from anything else listening.

Servers run in the background with ``setsid`` and are killed by pid on exit; their
working directory is removed; each ends on its own after :data:`LIFETIME` seconds.
Works with any ``run(argv, check=..., input=...)`` callable: :meth:`Target.run` (host1,
as the rootless user) or :meth:`Client.run`.
"""

from __future__ import annotations

import contextlib
import secrets
import shlex
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from harness.errors import PodnetError
from harness.run import Completed
from harness.sessions.ownership import SERVER_DIR_PREFIX
from harness.targets.base import fresh_dir
from harness.wait import poll

Runner = Callable[..., Completed]
#: Records a path on the target in the session's manifest before it is made
#: (:meth:`Target.record_file`); a client host records nothing.
Recorder = Callable[[str], None]


def _record_nothing(path: str) -> None:
    return None


_FETCH = ("import sys,urllib.request\n"
          "print(urllib.request.urlopen(sys.argv[1],timeout=1).read().decode())\n")


_UDP_ECHO = ("import socket,sys\n"
             "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
             "s.bind((sys.argv[1],int(sys.argv[2])))\n"
             "while True:\n"
             "    _,peer=s.recvfrom(2048)\n"
             "    s.sendto((sys.argv[3]+'\\n').encode(),peer)\n")


#: A DNS server for one name: ADDRESS NAME ANSWER. A queries for NAME get ANSWER, other
#: types for NAME no data, other names NXDOMAIN. Prints "listening" once bound.
_DNS = ("import socket,struct,sys\n"
        "addr,name,answer=sys.argv[1],sys.argv[2].lower().rstrip('.'),sys.argv[3]\n"
        "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
        "s.bind((addr,53))\n"
        "print('listening',flush=True)\n"
        "while True:\n"
        "    q,peer=s.recvfrom(512)\n"
        "    i,labels=12,[]\n"
        "    while q[i]:\n"
        "        labels.append(q[i+1:i+1+q[i]].decode()); i+=1+q[i]\n"
        "    qtype=struct.unpack('!H',q[i+1:i+3])[0]\n"
        "    known='.'.join(labels).lower()==name\n"
        "    hit=known and qtype==1\n"
        "    r=q[:2]+struct.pack('!HHHHH',0x8180 if known else 0x8183,1,int(hit),0,0)+q[12:i+5]\n"
        "    if hit:\n"
        "        r+=b'\\xc0\\x0c'+struct.pack('!HHIH',1,1,60,4)+socket.inet_aton(answer)\n"
        "    s.sendto(r,peer)\n")


@dataclass(frozen=True)
class HostServer:
    """A server that answers ``token``; ``path`` is the URL path for HTTP servers."""

    token: str
    pid: int
    workdir: str
    address: str = ""
    port: int = 0
    #: For Unix socket servers: the socket path or the abstract name.
    socket: str = ""

    @property
    def path(self) -> str:
        return f"/{self.token}"

    def url(self, host: str | None = None, port: int | None = None) -> str:
        return f"http://{host or self.address}:{port or self.port}{self.path}"


def new_token() -> str:
    return f"podnet-{secrets.token_hex(6)}"


#: The longest a server outside containers lives: if podnet is killed before it stops
#: one, the server still ends on its own (a workstation keeps no stray listener).
LIFETIME = 900


def _start(run: Runner, argv: Sequence[str], workdir: str) -> int:
    line = (f"cd {shlex.quote(workdir)} && setsid timeout {LIFETIME} {shlex.join(argv)} "
            f">{shlex.quote(workdir)}/server.log 2>&1 </dev/null & echo $!")
    return int(run(["sh", "-c", line]).stdout.strip().splitlines()[-1])


def _workdir(run: Runner, parent: str | None, record: Recorder) -> str:
    """A fresh working directory ``PARENT/podnet-srv.<random>`` (default parent:
    ``/tmp``), recorded before it is made; ``mkdir`` without ``-p`` never takes over one
    that exists."""
    if parent:
        run(["mkdir", "-p", parent])
    return fresh_dir(run, record, parent or "/tmp", SERVER_DIR_PREFIX)


@contextlib.contextmanager
def _background(run: Runner, argv_for: Callable[[str], Sequence[str]],
                ready: Callable[[str], bool], what: str, parent: str | None,
                record: Recorder, setup: Callable[[str], None] | None = None
                ) -> Iterator[tuple[int, str]]:
    """Start ``argv_for(workdir)`` in a fresh working directory and wait until
    ``ready(workdir)``; yield (pid, workdir); stop it and remove the directory on exit."""
    workdir = _workdir(run, parent, record)
    pid = None
    try:
        if setup:
            setup(workdir)
        pid = _start(run, argv_for(workdir), workdir)
        try:
            poll(lambda: ready(workdir), what=what, timeout=15)
        except PodnetError as exc:
            log = run(["cat", f"{workdir}/server.log"], check=False).stdout[-500:]
            raise PodnetError(f"{exc}; server log: {log!r}") from exc
        yield pid, workdir
    finally:
        if pid is not None:
            run(["kill", str(pid)], check=False)
            poll(lambda: not run(["kill", "-0", str(pid)], check=False).ok,
                 what=f"server pid {pid} to exit", timeout=10)
        run(["rm", "-rf", "--", workdir], check=False)


@contextlib.contextmanager
def http_server(run: Runner, address: str, port: int, *, python: str = "python3",
                parent: str | None = None, record: Recorder = _record_nothing
                ) -> Iterator[HostServer]:
    """``python3 -m http.server`` bound to ``address`` only, serving ``/<token>``; on a
    target, ``record`` is its :meth:`~harness.targets.base.Target.record_file`."""
    token = new_token()

    def setup(workdir: str) -> None:
        run(["sh", "-c", f"cat > {shlex.quote(workdir)}/{token}"], input=token + "\n")

    def ready(workdir: str) -> bool:  # this server's answer, not any listener's on the port
        done = run([python, "-c", _FETCH, f"http://{address}:{port}/{token}"], check=False)
        return done.ok and done.stdout.strip() == token

    with _background(
        run, lambda d: [python, "-m", "http.server", str(port), "--bind", address, "--directory", d],
        ready, f"an HTTP server on {address}:{port}", parent, record, setup,
    ) as (pid, workdir):
        yield HostServer(token, pid, workdir, address=address, port=port)


@contextlib.contextmanager
def udp_server(run: Runner, address: str, port: int, *, parent: str | None = None,
               record: Recorder = _record_nothing) -> Iterator[HostServer]:
    """A Python server answering each datagram to ``address:port`` (IPv4) with the token
    (socat's forking UDP server loses replies now and then)."""
    token = new_token()

    def ready(workdir: str) -> bool:
        done = run(["socat", "-t1", "-T1", "-", f"UDP4:{address}:{port}"], check=False,
                   input="ready\n")
        return done.stdout.strip() == token

    with _background(
        run, lambda d: ["python3", "-c", _UDP_ECHO, address, str(port), token],
        ready, f"a UDP server on {address}:{port}", parent, record,
    ) as (pid, workdir):
        yield HostServer(token, pid, workdir, address=address, port=port)


@contextlib.contextmanager
def dns_server(run: Runner, address: str, name: str, answer: str, *, python: str = "python3",
               parent: str | None = None, record: Recorder = _record_nothing
               ) -> Iterator[HostServer]:
    """A DNS server on ``address`` port 53 (UDP) answering ``name`` with ``answer``; the
    token is the name."""
    def ready(workdir: str) -> bool:
        return "listening" in run(["cat", f"{workdir}/server.log"], check=False).stdout

    with _background(run, lambda d: [python, "-c", _DNS, address, name, answer], ready,
                     f"a DNS server on {address}:53", parent, record) as (pid, workdir):
        yield HostServer(name, pid, workdir, address=address, port=53)


@contextlib.contextmanager
def unix_socket_server(run: Runner, *, abstract: bool, parent: str | None = None,
                       record: Recorder = _record_nothing) -> Iterator[HostServer]:
    """``socat`` answering the token on a Unix socket: ``sock`` in a fresh directory
    (mode 0777 so the container's user may connect), or an abstract name."""
    token = new_token()
    kind = "ABSTRACT" if abstract else "UNIX"

    def socket(workdir: str) -> str:
        return token if abstract else f"{workdir}/sock"

    def argv(workdir: str) -> list[str]:
        mode = "" if abstract else ",mode=0777"
        return ["socat", f"{kind}-LISTEN:{socket(workdir)},fork{mode}", f"SYSTEM:echo {token}"]

    def ready(workdir: str) -> bool:
        done = run(["socat", "-T2", "-", f"{kind}-CONNECT:{socket(workdir)}"], check=False,
                   input="")
        return done.ok and token in done.stdout

    with _background(run, argv, ready, "a Unix socket server", parent,
                     record) as (pid, workdir):
        run(["chmod", "0755", workdir])
        yield HostServer(token, pid, workdir, socket=socket(workdir))
