"""Runs on the client host: one probe, one JSON line on stdout.

Self-contained on purpose, standard library only: its source is piped to the client's
Python (podnet's own interpreter for network-namespace clients, python3 over ssh). Both
take the one HTTP path (urllib), so a probe means the same on every client.

    agent.py http URL [TIMEOUT]
    agent.py udp HOST PORT [TIMEOUT]
    agent.py tcp-connect HOST PORT [TIMEOUT]
"""

from __future__ import annotations

import json
import socket
import sys
import time
import urllib.error
import urllib.request


def http(url: str, timeout: float) -> dict[str, object]:
    started = time.perf_counter()
    request = urllib.request.Request(url, headers={"Connection": "close"})
    # Straight to the server: a proxy from the environment (http_proxy) is never used.
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with direct.open(request, timeout=timeout) as reply:
            status, body = reply.status, reply.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        status, body = exc.code, ""
    return {"status": status, "body": body[:2000],
            "seconds": time.perf_counter() - started}


def udp(host: str, port: int, timeout: float) -> dict[str, object]:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.connect((host, port))
        local = sock.getsockname()
        sock.send(b"podnet-probe\n")
        data = sock.recv(65535).decode(errors="replace")
    return {"reply": data.strip(), "local": list(local[:2])}


def tcp_connect(host: str, port: int, timeout: float) -> dict[str, object]:
    started = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return {"connected": True, "seconds": time.perf_counter() - started}
    except OSError as exc:
        return {"connected": False, "error": f"{type(exc).__name__}: {exc}"}


def main(argv: list[str]) -> int:
    if not argv:
        print(json.dumps({"error": "usage: agent.py http|udp|tcp-connect ARGS..."}))
        return 2
    verb, args = argv[0], argv[1:]
    try:
        if verb == "http":
            out = http(args[0], float(args[1]) if len(args) > 1 else 5.0)
        elif verb in ("udp", "tcp-connect"):  # HOST PORT [TIMEOUT]
            probe = udp if verb == "udp" else tcp_connect
            out = probe(args[0], int(args[1]), float(args[2]) if len(args) > 2 else 3.0)
        else:
            print(json.dumps({"error": f"unknown verb {verb}"}))
            return 2
    except Exception as exc:
        out = {"error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
