"""HTTP reverse proxies of the guide's table (caddy, nginx, traefik): images built in
the lab without a registry, their configurations and quadlet units (their access logs:
harness.probes.nginx_log)."""

from harness.proxies.images import ensure_image, proxy_version
from harness.proxies.specs import PROXIES, Proxy
from harness.proxies.startup import Startup, start_and_poll
from harness.proxies.units import ProxyUnit, deploy

__all__ = ["PROXIES", "Proxy", "ProxyUnit", "Startup", "deploy", "ensure_image",
           "proxy_version", "start_and_poll"]
