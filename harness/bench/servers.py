"""The receivers the throughput benchmark measures against, set up for one run.

Every method gets its own port on host1 so that all can stay up while rounds
interleave. :func:`bench_servers` removes everything it created on exit.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from harness.bench.procstat import in_lab_cgroup
from harness.clients.base import Client
from harness.methods import Method
from harness.run import Completed
from harness.services import IMAGE, system_socket_service, user_socket_service
from harness.sessions.ownership import stop_pidfile
from harness.targets.base import Target
from harness.wait import poll

SINK_SOURCE = Path(__file__).resolve().parent.parent / "lab" / "files" / "image" / "sink.py"
PREFIX = "podnet-bench-"
NATIVE_PORT, NATIVE_SINK_PORT, HOST2_PORT = 5200, 5220, 5299
#: The variant of "pasta + custom network" from the guide's pasta documentation links.
MTU_VARIANT = "pasta-custom-network-mtu65520"
MTU_OPTION = ("-o", "mtu=65520")
#: The host1 port of each socket-activated method's sink.
SOCKET_SINK_PORTS = {"socket-user": 5221, "socket-system": 5222}


@dataclass
class Endpoints:
    """Where each measured method listens (host1 ports) or runs (containers)."""

    iperf3: dict[str, int] = field(default_factory=dict)
    sinks: dict[str, int] = field(default_factory=dict)
    #: Containers to run outbound iperf3 clients in, by method.
    containers: dict[str, str] = field(default_factory=dict)
    host2_port: int = HOST2_PORT


def _listening(target: Target, port: int) -> bool:
    return f":{port} " in target.run(["ss", "-Hltn", f"sport = :{port}"], check=False).stdout


@contextlib.contextmanager
def bench_servers(target: Target, client: Client, methods: list[Method],
                  *, mtu_variant: bool = True) -> Iterator[Endpoints]:
    token = secrets.token_hex(3)
    ends = Endpoints()
    with contextlib.ExitStack() as stack:
        _native_iperf3(target, stack, token, ends)
        stack.enter_context(peer_server(client, HOST2_PORT,
                                        f"/tmp/{PREFIX}{token}-host2-iperf3.pid"))
        _native_sink(target, stack, token, ends)
        port = 5201
        for method in methods:
            if method.kind == "run":
                _iperf3_container(target, stack, token, method.id, method.network or "pasta",
                                  port, ends)
                port += 1
            elif method.kind in SOCKET_SINK_PORTS:
                _socket_sink(target, stack, token, method, ends)
        if mtu_variant and any(m.network == "custom" for m in methods):
            _iperf3_container(target, stack, token, MTU_VARIANT, "custom", port, ends,
                              network_options=MTU_OPTION)
        yield ends


def stop_server(run: Callable[..., Completed], remove: Callable[..., object], pidfile: str,
          *files: str) -> None:
    """Stop the server ``pidfile`` names (the same guarded pkill that cleans up after a
    killed session) and remove the pid file and ``files``."""
    argv = stop_pidfile(pidfile)
    assert argv is not None
    run(list(argv), check=False)
    remove(pidfile, *files)


def _native_iperf3(target: Target, stack: contextlib.ExitStack, token: str,
                   ends: Endpoints) -> None:
    pidfile = f"/tmp/{PREFIX}{token}-iperf3.pid"
    target.record_file(pidfile)
    stack.callback(lambda: stop_server(target.run, target.remove_files, pidfile))
    target.run(in_lab_cgroup(target, ["iperf3", "-s", "-D", "-p", str(NATIVE_PORT),
                                      "--pidfile", pidfile]))
    poll(lambda: _listening(target, NATIVE_PORT), what="native iperf3 server on host1")
    ends.iperf3["native"] = NATIVE_PORT


@contextlib.contextmanager
def peer_server(client: Client, port: int, pidfile: str) -> Iterator[None]:
    """A plain ``iperf3 -s`` on the client host (the "internet" of outbound
    connections), stopped on exit."""
    client.run(["iperf3", "-s", "-D", "-p", str(port), "--pidfile", pidfile])
    try:
        poll(lambda: client.tcp_connect(client.address, port).get("connected"),
             what=f"iperf3 server on {client.name}")
        yield
    finally:
        stop_server(client.run, lambda *paths: client.run(["rm", "-f", "--", *paths],
                                                          check=False), pidfile)


def _native_sink(target: Target, stack: contextlib.ExitStack, token: str,
                 ends: Endpoints) -> None:
    script = f"/tmp/{PREFIX}{token}-sink.py"
    pidfile = f"/tmp/{PREFIX}{token}-sink.pid"
    target.record_file(pidfile)
    stack.callback(lambda: stop_server(target.run, target.remove_files, pidfile, script))
    target.write_file(script, SINK_SOURCE.read_text(), mode="0755")
    target.run(in_lab_cgroup(target, [
        "sh", "-c", 'python3 "$1" "$2" >/dev/null 2>&1 </dev/null & echo $! > "$3"',
        "sh", script, str(NATIVE_SINK_PORT), pidfile]))
    poll(lambda: _listening(target, NATIVE_SINK_PORT), what="native sink on host1")
    ends.sinks["native-sink"] = NATIVE_SINK_PORT


def _iperf3_container(target: Target, stack: contextlib.ExitStack, token: str, mid: str,
                      network: str, port: int, ends: Endpoints,
                      network_options: tuple[str, ...] = ()) -> None:
    name = f"{PREFIX}{mid}-{token}"
    if network == "custom":
        net = f"{PREFIX}net-{mid}-{token}"
        target.podman("network", "create", *network_options, net)
        stack.callback(lambda: target.remove_own("networks", net))
        network = net
    argv = ["run", "-d", "--name", name, f"--network={network}"]
    if network != "host":
        argv += ["-p", f"{port}:{port}", "-p", f"{port}:{port}/udp"]
    stack.callback(lambda: target.remove_own("containers", name))
    # Restarted if it exits: an unthrottled UDP test can make iperf3 give up (seen with
    # slirp4netns), and every later round would then find the port closed.
    target.podman(*argv, IMAGE, "sh", "-c",
                  f"while :; do iperf3 -s --forceflush -p {port}; sleep 0.2; done")
    poll(lambda: "Server listening" in target.podman("logs", name, check=False).stdout,
         what=f"iperf3 server in {name}")
    ends.iperf3[mid] = port
    ends.containers[mid] = name


def _socket_sink(target: Target, stack: contextlib.ExitStack, token: str, method: Method,
                 ends: Endpoints) -> None:
    """The sink behind a .socket unit, as in the guide: a quadlet .container
    (``socket-user``), or a system service with User= running rootless podman
    (``socket-system``)."""
    port = SOCKET_SINK_PORTS[method.kind]
    where = f"0.0.0.0:{port}"
    if method.kind == "socket-user":
        name = f"{PREFIX}sink-{token}"
        stop = user_socket_service(target, name, ["Network=none", "Exec=/usr/local/bin/sink"],
                                   f"podnet benchmark {method.id}", where)
    else:
        name = f"{PREFIX}sink-system-{token}"
        stop = system_socket_service(target, name, name, [IMAGE, "/usr/local/bin/sink"],
                                     f"podnet benchmark {method.id}", where)
    stack.callback(stop)
    ends.sinks[method.id] = port
