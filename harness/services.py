"""Start a server in a container with one of the guide's inbound methods.

:func:`serve` is a context manager: it sets the method up (podman run, quadlet and
socket units, a custom network), yields a :class:`Service` once the server answers,
and removes everything it created on exit, also on failure and Ctrl-C.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import shlex
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from harness import network_settings
from harness.clients.base import Client
from harness.errors import PodnetError, UsageError
from harness.image_names import WEB_IMAGE
from harness.methods import Method
from harness.targets.base import QUADLET_DIR, SYSTEM_UNIT_DIR, USER_UNIT_DIR, Target
from harness.wait import poll

log = logging.getLogger("podnet.services")

IMAGE = f"{WEB_IMAGE}:latest"
#: The signal podnet's image stops with (nginx's: the Containerfile's STOPSIGNAL), as
#: ``trap`` takes it: a shell run in the image traps it besides TERM to end on a stop.
STOP_SIGNAL = "QUIT"
UDP_PEER = ["python3", "/usr/local/bin/udp-peer"]
PREFIX = "podnet-"
#: Socket activation: how long the first request may wait for the service it starts.
ACTIVATION_WAIT = 20.0


@dataclass
class Service:
    target: Target
    method: Method
    protocol: str
    port: int
    container: str
    #: Where pasta writes its capture on the target, when one was asked for.
    pcap_path: str | None = None
    setup_seconds: float = 0.0
    #: Containers whose logs matter besides ``container`` (e.g. a proxy's backend).
    related: dict[str, str] = field(default_factory=dict)
    #: Socket activation: the service unit the socket starts.
    unit: str | None = None

    def logs(self, container: str | None = None) -> str:
        return self.target.logs(container or self.container)


@dataclass(frozen=True)
class ServeOptions:
    port: int = 8080
    protocol: str = "tcp"
    pcap: bool = False
    libsdsock: str | None = None
    ready_timeout: float = 30.0
    #: Socket activation: the socket unit's ``BindToDevice=`` (e.g. ``eth0``).
    bind_device: str | None = None
    #: podman run methods: the container's port, when it differs from ``port``.
    container_port: int | None = None


@contextlib.contextmanager
def serve(target: Target, method: Method, client: Client,
          options: ServeOptions = ServeOptions()) -> Iterator[Service]:
    if not 1 <= options.port <= 65535:
        raise UsageError(f"invalid port {options.port}: choose 1-65535")
    token = secrets.token_hex(3)
    cleanups: list[Callable[[], object]] = []
    started = time.monotonic()
    try:
        settings = contextlib.ExitStack()  # the method's containers.conf settings, undone last
        cleanups.append(settings.close)
        settings.enter_context(network_settings.applied(target, method))
        service = _SETUP[method.kind](target, method, options, token, cleanups)
        _wait_ready(target, service, client, options)
        service.setup_seconds = time.monotonic() - started
        yield service
    finally:
        errors = []
        for undo in reversed(cleanups):
            try:
                undo()
            except Exception as exc:
                errors.append(exc)
        if errors:
            if sys.exc_info()[0] is None:
                raise PodnetError(f"teardown of {method.id} failed: {errors[0]}")
            # Don't hide the test's own exception behind a teardown error.
            log.warning("teardown of %s failed: %s", method.id, errors[0])


def _wait_ready(target: Target, service: Service, client: Client, options: ServeOptions) -> None:
    if service.protocol == "udp":
        # A socket-activated UDP service starts with the first datagram: its socket is
        # ready as soon as the .socket unit is started, and its first datagram is the test's.
        if not service.unit:
            poll(lambda: "podnet-udp listening" in service.logs(),
                 what=f"{service.container}'s UDP server", timeout=options.ready_timeout)
        return
    url = f"http://{target.main_address}:{service.port}/?podnet-ready"
    # Socket activation: the first connection waits in the socket's queue until the
    # service it starts accepts it; elsewhere a server not up yet refuses at once.
    each = ACTIVATION_WAIT if service.unit else 2
    poll(lambda: client.http_get(url, timeout=each).ok, what=f"{url} to answer 200",
         timeout=options.ready_timeout, interval=0.1)


# --- podman run methods ---------------------------------------------------------------

def _run_method(target: Target, method: Method, opts: ServeOptions, token: str,
                cleanups: list[Callable[[], object]]) -> Service:
    name = f"{PREFIX}{method.id}-{token}"
    service = Service(target, method, opts.protocol, opts.port, name)
    argv = ["podman", "run", "-d", "--name", name]
    network = method.network or "pasta"
    pcap = f"/tmp/{name}.pcap"
    if opts.pcap and network in ("custom", "pasta"):
        service.pcap_path = pcap
        target.record_file(pcap)
        cleanups.append(lambda: target.remove_files(pcap))
    if network == "custom":
        net = _network(target, cleanups, f"{PREFIX}net-{token}")
        if opts.pcap:
            conf = f"/tmp/{name}.conf"
            target.write_file(conf, f'[network]\npasta_options = ["--pcap", "{pcap}"]\n')
            cleanups.append(lambda: target.remove_files(conf))
            argv = ["env", f"CONTAINERS_CONF_OVERRIDE={conf}", *argv]
        network = net
    elif service.pcap_path:
        network = f"pasta:--pcap,{pcap}"
    argv += [f"--network={network}"]
    inner = opts.port if network == "host" else (opts.container_port or opts.port)
    if network != "host":
        suffix = "/udp" if opts.protocol == "udp" else ""
        argv += ["-p", f"{opts.port}:{inner}{suffix}"]
    argv.append(IMAGE)
    if opts.protocol == "udp":
        argv += [*UDP_PEER, str(inner)]
    elif inner != 8080:
        argv[-1:-1] = ["-v", _nginx_conf(target, name, cleanups, listen=str(inner))]
    cleanups.append(lambda: target.remove_own("containers", name))
    target.run(target.marked(argv))
    return service


def _network(target: Target, cleanups: list[Callable[[], object]], name: str,
             *options: str) -> str:
    """The podman network ``name``, made for the method and removed by ``cleanups``."""
    target.podman("network", "create", *options, name)
    cleanups.append(lambda: target.remove_own("networks", name))
    return name


def _nginx_conf(target: Target, name: str, cleanups: list[Callable[[], object]], *,
                listen: str, body: str | None = None) -> str:
    """nginx's conf.d for ``name`` in the user's cache, removed by ``cleanups``: the
    volume that mounts it in the container."""
    conf_dir = f"{target.home}/.cache/podnet/{name}"
    location = body or "root /var/www/html;"
    target.record_file(conf_dir)
    target.write_file(f"{conf_dir}/default.conf",
                      f"server {{\n    listen {listen};\n    location / {{ {location} }}\n}}\n")
    cleanups.append(lambda: target.remove_files(conf_dir))
    return f"{conf_dir}:/etc/nginx/conf.d:Z"


# --- socket activation ----------------------------------------------------------------

def socket_unit(listen: str, description: str, bind_device: str | None = None, *,
                wanted_by: str = "default.target", protocol: str = "tcp") -> str:
    """A ``.socket`` unit listening on ``listen`` (optionally bound to a device):
    ``ListenStream=`` for TCP, ``ListenDatagram=`` for UDP."""
    bind = f"BindToDevice={bind_device}\n" if bind_device else ""
    listen_key = "ListenDatagram" if protocol == "udp" else "ListenStream"
    return (f"[Unit]\nDescription={description}\n\n[Socket]\n{listen_key}={listen}\n{bind}\n"
            f"[Install]\nWantedBy={wanted_by}\n")


def _socket_user(target: Target, method: Method, opts: ServeOptions, token: str,
                 cleanups: list[Callable[[], object]], *, network: str | None = None,
                 volume: str | None = None, unit: str | None = None,
                 environment: tuple[str, ...] = ('"NGINX=3;"',), exec_: str | None = None) -> Service:
    """The guide's own artefacts: a quadlet .container plus a .socket unit, named
    ``unit`` (default ``podnet-web-<token>``); its container has the unit's name."""
    unit = unit or f"{PREFIX}web-{token}"
    if opts.protocol == "udp":
        # The UDP peer reporter serves on the datagram socket systemd passes (LISTEN_FDS).
        environment, exec_ = (), shlex.join([*UDP_PEER, str(opts.port)])
    elif volume is None and opts.port != 8080:
        # nginx keeps an inherited socket only if a listen directive matches it.
        volume = _nginx_conf(target, unit, cleanups, listen=str(opts.port))
    settings = [*(f"Environment={e}" for e in environment),
                *(f"{key}={value}" for key, value in (("Exec", exec_), ("Network", network),
                                                       ("Volume", volume)) if value)]
    cleanups.append(user_socket_service(target, unit, settings, f"podnet {method.id}",
                                        f"0.0.0.0:{opts.port}", opts.bind_device,
                                        protocol=opts.protocol))
    return Service(target, method, opts.protocol, opts.port, unit, unit=f"{unit}.service")


def _socket_system(target: Target, method: Method, opts: ServeOptions, token: str,
                   cleanups: list[Callable[[], object]]) -> Service:
    """A system service with User= running rootless podman, on a privileged port;
    refused on a target that is not isolated before anything runs there."""
    port = opts.port if opts.port != 8080 else 80
    target.require_isolated(f"install a system service listening on 0.0.0.0:{port}")
    if not target.can_root:
        raise UsageError("socket activation as a system service needs root on the target")
    unit = name = f"{PREFIX}web-system-{token}"
    if opts.protocol == "udp":
        run_args = [IMAGE, *UDP_PEER, str(port)]
    else:
        volume = _nginx_conf(target, name, cleanups, listen=str(port))
        run_args = ["--env", "NGINX=3;", "-v", volume, IMAGE]
    cleanups.append(system_socket_service(
        target, unit, name, run_args, f"podnet {method.id}", f"0.0.0.0:{port}",
        opts.bind_device, protocol=opts.protocol))
    return Service(target, method, opts.protocol, port, name, unit=f"{unit}.service")


def container_file(name: str, settings: Sequence[str]) -> str:
    """A quadlet ``.container`` of the test image whose container is ``name``, with
    ``settings`` in its [Container] section."""
    return "\n".join(["[Container]", f"Image={IMAGE}", f"ContainerName={name}", *settings,
                      "", "[Install]", "WantedBy=default.target", ""])


def user_socket_service(target: Target, unit: str, settings: Sequence[str], description: str,
                        listen: str, bind_device: str | None = None, *,
                        protocol: str = "tcp") -> Callable[[], None]:
    """Install and start the guide's artefacts in the user's manager: a quadlet
    ``unit.container`` (:func:`container_file`, its container named ``unit``) and
    ``unit.socket``; return the function that stops and removes them and the container."""
    quadlet = f"{target.home}/{QUADLET_DIR}/{unit}.container"
    socket = f"{target.home}/{USER_UNIT_DIR}/{unit}.socket"
    files = {quadlet: container_file(unit, settings),
             socket: socket_unit(listen, description, bind_device, protocol=protocol)}
    return install_socket_service(target, unit, unit, files, system=False)


def system_socket_service(target: Target, unit: str, container: str, run_args: list[str],
                          description: str, listen: str, bind_device: str | None = None,
                          *, protocol: str = "tcp") -> Callable[[], None]:
    """Install and start ``unit.socket`` plus a system ``unit.service`` with ``User=`` that
    runs ``podman run --rm --name CONTAINER --network=none RUN_ARGS`` as the rootless
    user; return the function that stops and removes them."""
    env = " ".join(f"{k}={v}" for k, v in target.user_env().items() if k != "PATH")
    target.require_isolated(f"install the system service {unit} listening on {listen}")
    podman = shlex.join(target.marked(["/usr/bin/podman", "run", "--rm", "--name", container,
                                       "--network=none", *run_args]))
    service_text = (
        f"[Unit]\nDescription={description}\nRequires={unit}.socket\nAfter={unit}.socket\n\n"
        f"[Service]\nUser={target.user}\nEnvironment={env}\n"
        f"ExecStart={podman}\nExecStop=/usr/bin/podman rm -f -t 0 {container}\n"
    )
    files = {f"{SYSTEM_UNIT_DIR}/{unit}.service": service_text,
             f"{SYSTEM_UNIT_DIR}/{unit}.socket": socket_unit(listen, description, bind_device,
                                                             protocol=protocol)}
    return install_socket_service(target, unit, container, files, system=True)


def install_socket_service(target: Target, unit: str, container: str,
                           files: dict[str, str], *, system: bool) -> Callable[[], None]:
    """Write ``files`` (quadlet files get the session's ``Label=``), reload and start
    ``unit.socket`` in the system or the user's manager; return the function that undoes
    it all (also run if starting fails)."""
    systemctl = target.systemctl if system else target.systemctl_user

    def undo() -> None:
        # The container first, at once: stopping the service would give its server
        # podman's 10 s to exit (the UDP reporter, PID 1, ignores the stop signal).
        target.remove_own("containers", container)
        # Only what this session's manifest says it wrote: a file whose write raised
        # ForeignFile, or that was never reached, is neither removed nor its unit stopped.
        target.undo_units(*files, root=system)
        target.remove_own("containers", container)

    try:
        for path, text in files.items():
            target.write_file(path, target.label_quadlet(path, text), root=system)
        systemctl("daemon-reload")
        systemctl("start", f"{unit}.socket")
    except BaseException:
        undo()
        raise
    return undo


def _socket_proxy(target: Target, method: Method, opts: ServeOptions, token: str,
                  cleanups: list[Callable[[], object]]) -> Service:
    """The guide's recommended combination: a socket-activated reverse proxy on a
    custom network, in front of a web server on the same network."""
    net = _network(target, cleanups, f"{PREFIX}proxynet-{token}")
    backend = f"{PREFIX}backend-{token}"
    cleanups.append(lambda: target.remove_own("containers", backend))
    target.podman("run", "-d", "--name", backend, f"--network={net}", IMAGE)
    volume = _nginx_conf(target, f"{PREFIX}proxy-{token}", cleanups, listen="8080",
                         body=f"proxy_pass http://{backend}:8080; "
                              "proxy_set_header X-Forwarded-For $remote_addr;")
    service = _socket_user(target, method, opts, token, cleanups, network=net,
                           volume=volume, unit=f"{PREFIX}proxy-{token}")
    service.related["backend"] = backend
    return service


def _libsdsock(target: Target, method: Method, opts: ServeOptions, token: str,
               cleanups: list[Callable[[], object]]) -> Service:
    """The guide's experimental example: a web server without socket activation support
    (python's http.server) gets it from a preloaded libsdsock, on an internal network."""
    if not opts.libsdsock:
        raise UsageError("libsdsock needs --libsdsock PATH to a built libsdsock.so")
    unit = f"{PREFIX}sdsock-{token}"
    directory = f"{target.home}/.cache/podnet/{unit}"
    library = f"{directory}/libsdsock.so"
    cleanups.append(lambda: target.remove_files(directory))
    target.record_file(directory)
    target.copy_file(library, opts.libsdsock)
    net = _network(target, cleanups, f"{PREFIX}sdsocknet-{token}", "--internal")
    return _socket_user(
        target, method, opts, token, cleanups, network=net, unit=unit,
        volume=f"{library}:/usr/local/lib/libsdsock.so:ro,Z",
        environment=("LD_PRELOAD=/usr/local/lib/libsdsock.so",
                     f"LIBSDSOCK_MAP=tcp://0.0.0.0:{opts.port}={unit}.socket"),
        exec_=f"python3 -m http.server {opts.port} --bind 0.0.0.0",
    )


_SETUP = {
    "run": _run_method,
    "socket-user": _socket_user,
    "socket-system": _socket_system,
    "socket-proxy": _socket_proxy,
    "libsdsock": _libsdsock,
}
