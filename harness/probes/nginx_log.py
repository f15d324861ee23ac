"""Parse access log lines: podnet's nginx image (``podnet-access`` lines), the combined
format (python's http.server, traefik) and caddy's JSON lines, as :class:`AccessEntry`."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_PODNET = re.compile(r"podnet-access (?P<fields>.*)$")
_FIELD = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')
#: python -m http.server: '192.0.2.10 - - [04/Aug/2024 15:57:26] "GET / HTTP/1.1" 200 -'
_COMBINED = re.compile(
    r'^(?:.*?\s)?(?P<peer>[0-9a-fA-F.:]+) - \S+ \[[^\]]+\] "(?P<request>[^"]*)" (?P<status>\d{3})'
)


@dataclass(frozen=True)
class AccessEntry:
    peer: str
    request: str
    status: int
    peer_port: int | None = None
    forwarded_for: str | None = None
    line: str = ""

    @property
    def path(self) -> str:
        parts = self.request.split()
        return parts[1] if len(parts) > 1 else ""


def parse_line(line: str) -> AccessEntry | None:
    match = _PODNET.search(line)
    if match:
        fields = {k: v.strip('"') for k, v in _FIELD.findall(match.group("fields"))}
        xff = fields.get("xff")
        return AccessEntry(
            peer=fields.get("peer", ""),
            request=fields.get("request", ""),
            status=int(fields.get("status", "0")),
            peer_port=int(fields["peer_port"]) if fields.get("peer_port", "").isdigit() else None,
            forwarded_for=None if xff in (None, "-", "") else xff,
            line=line.strip(),
        )
    match = _COMBINED.search(line)
    if match:
        return AccessEntry(match.group("peer"), match.group("request"),
                           int(match.group("status")), line=line.strip())
    return _json_line(line)


def _json_line(line: str) -> AccessEntry | None:
    """caddy's access log: a JSON object per line."""
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


def parse(text: str) -> list[AccessEntry]:
    return [e for e in (parse_line(line) for line in text.splitlines()) if e is not None]


def find_request(text: str, token: str, entries: list[AccessEntry] | None = None
                 ) -> AccessEntry | None:
    """The last logged request whose path contains ``token``, of ``entries`` (default:
    those :func:`parse` reads in ``text``)."""
    return next((e for e in reversed(parse(text) if entries is None else entries)
                 if token in e.path), None)
