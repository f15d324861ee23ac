"""The proxies' own access logs: caddy's JSON lines, traefik's combined log format and
the nginx image's ``podnet-access`` lines, as :class:`AccessEntry`."""

from __future__ import annotations

import json

from harness.probes import nginx_log
from harness.probes.nginx_log import AccessEntry


def _caddy_line(line: str) -> AccessEntry | None:
    start = line.find("{")
    if start < 0:
        return None
    try:
        data = json.loads(line[start:])
    except json.JSONDecodeError:
        return None
    request = data.get("request") if isinstance(data, dict) else None
    if not isinstance(request, dict) or "remote_ip" not in request:
        return None
    headers = request.get("headers") or {}
    xff = (headers.get("X-Forwarded-For") or [None])[0]
    port = str(request.get("remote_port", ""))
    return AccessEntry(
        peer=str(request["remote_ip"]),
        request=f"{request.get('method', '')} {request.get('uri', '')} {request.get('proto', '')}",
        status=int(data.get("status", 0)),
        peer_port=int(port) if port.isdigit() else None,
        forwarded_for=xff, line=line.strip(),
    )


def parse(text: str, log_format: str) -> list[AccessEntry]:
    if log_format != "json":
        return nginx_log.parse(text)
    return [e for e in (_caddy_line(line) for line in text.splitlines()) if e is not None]


def find_request(text: str, token: str, log_format: str) -> AccessEntry | None:
    """The last logged request whose path contains ``token``."""
    return nginx_log.find_request(text, token, parse(text, log_format))
