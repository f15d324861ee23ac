"""HTTP reverse proxies of the guide's table (caddy, nginx, traefik): images built in
the lab without a registry, their configurations, quadlet units and access logs."""

from harness.proxies.images import ensure_image, proxy_version
from harness.proxies.specs import PROXIES, Proxy, get_proxy
from harness.proxies.startup import Startup, start_and_poll
from harness.proxies.units import ProxyUnit, deploy

__all__ = ["PROXIES", "Proxy", "ProxyUnit", "Startup", "deploy", "ensure_image", "get_proxy",
           "proxy_version", "start_and_poll"]
