"""A socket-activated proxy as the guide's examples run it: a quadlet ``.container``
plus a ``.socket`` user unit, on a custom network in front of a backend web server."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from harness.proxies.specs import FD_NAME, Proxy
from harness.services import IMAGE, install_socket_service
from harness.targets.base import QUADLET_DIR, USER_UNIT_DIR, Target

#: The stem of the proxy's units; each deployment's units are ``podnet-rproxy-<token>``.
UNIT = "podnet-rproxy"


@dataclass
class ProxyUnit:
    proxy: Proxy
    target: Target
    unit: str
    container: str
    backend: str
    network: str
    port: int

    @property
    def service(self) -> str:
        return f"{self.unit}.service"

    @property
    def socket(self) -> str:
        return f"{self.unit}.socket"

    @property
    def config_dir(self) -> str:
        """The proxy's rendered configuration on the target (mounted into the proxy)."""
        return f"{self.target.home}/.cache/podnet/{self.container}"

    def logs(self, container: str | None = None) -> str:
        return self.target.logs(container or self.container)

    def state(self) -> dict[str, str]:
        done = self.target.systemctl_user("show", "-p", "ActiveState,SubState,Result,MainPID",
                                          self.service, check=False)
        return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)

    def pid(self) -> int:
        return int(self.target.podman("inspect", "-f", "{{.State.Pid}}", self.container)
                   .stdout.strip())


def quadlet_text(proxy: Proxy, *, image: str, name: str, network: str, config_dir: str,
                 notify: bool, timeout_start: float | None,
                 environment: tuple[str, ...] | None = None,
                 reload_cmd: str | None = None) -> str:
    env = proxy.environment if environment is None else environment
    reload_cmd = reload_cmd or proxy.reload_cmd
    lines = ["[Unit]", f"Description=podnet reverse proxy {proxy.id}", "",
             "[Container]", f"Image={image}", f"ContainerName={name}", f"Network={network}",
             f"Volume={config_dir}:{proxy.config_mount}:Z",
             *(f"Environment={e}" for e in env)]
    if proxy.exec_:
        lines.append(f"Exec={proxy.exec_}")
    if notify:
        lines.append("Notify=true")
    service = []
    if timeout_start is not None:
        service.append(f"TimeoutStartSec={timeout_start:g}")
    if reload_cmd:
        service.append(f"ExecReload=/usr/bin/podman exec {name} {reload_cmd}")
    if service:
        lines += ["", "[Service]", *service]
    return "\n".join(lines) + "\n"


def socket_text(port: int, extra_listen: str | None = None) -> str:
    extra = f"ListenStream={extra_listen}\n" if extra_listen else ""
    return (f"[Unit]\nDescription=podnet reverse proxy socket\n\n[Socket]\n"
            f"ListenStream=0.0.0.0:{port}\n{extra}FileDescriptorName={FD_NAME}\n")


@contextlib.contextmanager
def deploy(target: Target, proxy: Proxy, image: str, *, port: int = 8080,
           notify: bool = False, timeout_start: float | None = None,
           environment: tuple[str, ...] | None = None,
           configs: Callable[[str, int], dict[str, str]] | None = None,
           extra_listen: str | None = None,
           reload_cmd: str | None = None,
           backend_cmd: tuple[str, ...] = ()) -> Iterator[ProxyUnit]:
    """Write and load the units, start the backend and the socket (not the service);
    remove everything on exit. ``extra_listen``: a second ListenStream (fd 4);
    ``backend_cmd``: the backend's command instead of the web image's nginx."""
    token = secrets.token_hex(3)
    unit = f"{UNIT}-{token}"
    pu = ProxyUnit(proxy, target, unit, f"{UNIT}-{proxy.id}-{token}",
                   f"podnet-rproxy-backend-{token}", f"podnet-rproxynet-{token}", port)
    config_dir = pu.config_dir
    quadlet = f"{target.home}/{QUADLET_DIR}/{unit}.container"
    socket = f"{target.home}/{USER_UNIT_DIR}/{unit}.socket"
    with contextlib.ExitStack() as cleanups:
        target.podman("network", "create", pu.network)
        cleanups.callback(lambda: target.remove_own("networks", pu.network))
        cleanups.callback(lambda: target.remove_own("containers", pu.backend))
        target.podman("run", "-d", "--name", pu.backend, f"--network={pu.network}",
                      IMAGE, *backend_cmd)
        cleanups.callback(lambda: target.remove_files(config_dir))
        target.record_file(config_dir)
        for name, text in (configs or proxy.configs)(pu.backend, port).items():
            target.write_file(f"{config_dir}/{name}", text)
        cleanups.callback(install_socket_service(target, unit, pu.container, {
            quadlet: quadlet_text(
                proxy, image=image, name=pu.container, network=pu.network,
                config_dir=config_dir, notify=notify, timeout_start=timeout_start,
                environment=environment, reload_cmd=reload_cmd),
            socket: socket_text(port, extra_listen)}, system=False))
        yield pu
