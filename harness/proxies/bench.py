"""Throughput through the guide's combination: socket activation + pasta + custom
network, with an HTTP reverse proxy, against the same proxy and backend run natively.

One nginx configuration in front of one bulk HTTP backend (:mod:`harness.proxies.bulkhttp`)
is reached three ways, all set up at once so that rounds can interleave them:

- ``socket-activated-proxy``: the guide's combination, :func:`harness.proxies.deploy`
  (a quadlet ``.container`` on a custom network plus a ``.socket`` unit), the backend a
  container on the same network;
- ``native-proxy``, the reference: nginx and the backend as plain processes on host1;
- ``published-proxy``, the control: the same proxy container published with ``-p`` on
  the same custom network, i.e. pasta + custom network, which the guide says does not
  have native performance. A measurement that cannot tell it from native cannot tell
  the combination's speed either.

The proxy streams both ways (``proxy_buffering off``, ``proxy_request_buffering off``) so
that neither side writes temporary files: what is measured is the path, not a disk.
"""

from __future__ import annotations

import contextlib
import secrets
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from harness.bench.servers import stop_server
from harness.bench.throughput import Probe, Sample, bulk_sample
from harness.clients.base import Client
from harness.proxies.specs import Proxy
from harness.proxies.units import deploy
from harness.targets.base import Target
from harness.wait import poll

BULKHTTP = Path(__file__).with_name("bulkhttp.py")
SOCKET_ACTIVATED, NATIVE, PUBLISHED = "socket-activated-proxy", "native-proxy", "published-proxy"
#: host1 ports: the socket unit, the published container, native nginx, native backend.
SOCKET_PORT, PUBLISHED_PORT, NATIVE_PORT, NATIVE_BACKEND_PORT = 5270, 5271, 5272, 5273
BACKEND_PORT = 8080
#: (direction, client mode): host2 uploads (inbound) and downloads (inbound-reverse).
DIRECTIONS = (("inbound", "put"), ("inbound-reverse", "get"))
PREFIX = "podnet-pbench-"


def nginx_server(backend: str, port: int, backend_port: int = BACKEND_PORT) -> str:
    """The proxy's server block: every request streamed to the backend, both ways."""
    return (f"server {{\n    listen {port};\n    client_max_body_size 0;\n"
            "    client_body_buffer_size 256k;\n    location / {\n"
            f"        proxy_pass http://{backend}:{backend_port};\n"
            "        proxy_http_version 1.1;\n        proxy_request_buffering off;\n"
            "        proxy_buffering off;\n        proxy_buffer_size 256k;\n"
            "        proxy_buffers 4 256k;\n        proxy_busy_buffers_size 256k;\n"
            "        proxy_set_header X-Forwarded-For $remote_addr;\n    }\n}\n")


def native_nginx_conf(directory: str, pidfile: str, port: int, backend_port: int) -> str:
    """host1's nginx as the container image runs it (one worker), files under
    ``directory``, in front of the native backend on the loopback address."""
    temp = "".join(f"    {kind}_temp_path {directory}/{kind};\n"
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"worker_processes 1;\npid {pidfile};\nerror_log {directory}/error.log notice;\n"
            "events { worker_connections 1024; }\n"
            f"http {{\n{temp}    access_log off;\n"
            + nginx_server("127.0.0.1", port, backend_port) + "}\n")


def probes(target: Target, client: Client, ports: dict[str, int]) -> list[Probe]:
    """One probe per (way, direction); every way's reference is the native proxy."""
    def transfer(mode: str, port: int) -> Callable[[int], Sample]:
        def run(seconds: int) -> Sample:
            done = client.run([sys.executable, str(BULKHTTP), mode, target.main_address,
                               str(port), str(seconds)], check=False, timeout=seconds + 120)
            return bulk_sample(done.stdout)
        return run

    return [Probe(way, direction, "tcp", "bulkhttp", NATIVE, transfer(mode, port))
            for way, port in ports.items() for direction, mode in DIRECTIONS]


def _wait_answers(client: Client, target: Target, way: str, port: int) -> None:
    url = f"http://{target.main_address}:{port}/?podnet-ready"
    poll(lambda: client.http_get(url, timeout=3).ok, what=f"{way}: {url} to answer 200",
         timeout=60, interval=0.2)


@contextlib.contextmanager
def proxy_bench(target: Target, client: Client, proxy: Proxy, image: str
                ) -> Iterator[dict[str, int]]:
    """Set up the three ways, each answering 200 through the proxy from the backend;
    remove everything on exit. Yields the port each way listens on in host1."""
    source = BULKHTTP.read_text()
    with contextlib.ExitStack() as stack:
        _native(target, stack, source)
        unit = stack.enter_context(deploy(
            target, proxy, image, port=SOCKET_PORT,
            configs=lambda backend, port: {"default.conf": nginx_server(backend, port)},
            backend_cmd=("python3", "-c", source, "serve", str(BACKEND_PORT))))
        name = f"{PREFIX}published-{secrets.token_hex(3)}"
        stack.callback(lambda: target.remove_own("containers", name))
        target.podman("run", "-d", "--name", name, f"--network={unit.network}",
                      "-p", f"{PUBLISHED_PORT}:{SOCKET_PORT}",
                      "-v", f"{unit.config_dir}:{proxy.config_mount}:Z", image)
        ports = {NATIVE: NATIVE_PORT, SOCKET_ACTIVATED: SOCKET_PORT, PUBLISHED: PUBLISHED_PORT}
        # The first request through the socket starts the proxy's service.
        for way, port in ports.items():
            _wait_answers(client, target, way, port)
        yield ports


def _native(target: Target, stack: contextlib.ExitStack, source: str) -> None:
    """The reference: the backend and nginx as plain processes of the rootless user,
    nginx on :data:`NATIVE_PORT`."""
    base = f"/tmp/{PREFIX}{secrets.token_hex(3)}-"
    script, directory = f"{base}bulkhttp.py", f"{base}nginx"
    backend_pid, nginx_pid, conf = f"{base}backend.pid", f"{base}nginx.pid", f"{base}nginx.conf"
    for path in (backend_pid, nginx_pid, directory):
        target.record_file(path)
    stack.callback(lambda: target.remove_files(script, conf, directory))
    stack.callback(lambda: stop_server(target.run, target.remove_files, backend_pid))
    stack.callback(lambda: stop_server(target.run, target.remove_files, nginx_pid))
    target.write_file(script, source, mode="0755")
    target.write_file(conf, native_nginx_conf(directory, nginx_pid, NATIVE_PORT,
                                              NATIVE_BACKEND_PORT))
    target.run(["mkdir", "-p", directory])
    target.run(["sh", "-c", 'python3 "$1" serve "$2" 127.0.0.1 >/dev/null 2>&1 </dev/null & '
                'echo $! > "$3"', "sh", script, str(NATIVE_BACKEND_PORT), backend_pid])
    target.run(["sh", "-c", 'nginx -e "$1/error.log" -c "$2" -g "daemon off;" '
                '>/dev/null 2>&1 </dev/null &', "sh", directory, conf])
    poll(lambda: target.run(["test", "-s", nginx_pid], check=False).ok,
         what=f"native nginx to write {nginx_pid} ({directory}/error.log)")

