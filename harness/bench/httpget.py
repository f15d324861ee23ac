#!/usr/bin/env python3
"""Timed HTTP GETs (standard library only, runs on the client host).

    httpget.py HOST PORT COUNT

Each request opens a new TCP connection, sends a GET with ``Connection: close`` and
reads the reply to the server's close. The time of one request runs from before
``connect`` to the end of the reply, measured here with ``perf_counter``, so the
client's process start-up is not part of it. Prints
``{"seconds": [...], "statuses": [...]}``.
"""

from __future__ import annotations

import json
import socket
import sys
import time


def get(host: str, port: int, timeout: float = 10.0) -> tuple[float, int]:
    request = (f"GET /?podnet-latency HTTP/1.1\r\nHost: {host}\r\n"
               "Connection: close\r\n\r\n").encode()
    started = time.perf_counter()
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(request)
        reply = bytearray()
        while chunk := sock.recv(65536):
            reply += chunk
    seconds = time.perf_counter() - started
    status_line = bytes(reply).split(b"\r\n", 1)[0].split()
    status = int(status_line[1]) if len(status_line) > 1 and status_line[1].isdigit() else 0
    return seconds, status


def main(argv: list[str]) -> int:
    host, port, count = argv[0], int(argv[1]), int(argv[2])
    seconds, statuses = [], []
    try:
        for _ in range(count):
            took, status = get(host, port)
            seconds.append(took)
            statuses.append(status)
        out: dict[str, object] = {"seconds": seconds, "statuses": statuses}
    except Exception as exc:  # any failure is reported in the JSON line
        out = {"seconds": seconds, "statuses": statuses, "error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
