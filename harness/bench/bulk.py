#!/usr/bin/env python3
"""Bulk TCP transfer client (standard library only, runs on the client host).

    bulk.py HOST PORT SECONDS

Sends zeros for SECONDS, half-closes, and waits until the receiver closes after
reading everything; prints ``{"bytes": N, "seconds": S}`` where S runs from the
established connection to the receiver's close. SECONDS 0 only connects (to start
a socket-activated service).
"""

from __future__ import annotations

import json
import socket
import sys
import time

CHUNK = bytes(1 << 20)


def transfer(host: str, port: int, seconds: float, timeout: float = 60.0) -> dict[str, object]:
    with socket.create_connection((host, port), timeout=timeout) as sock:
        started = time.perf_counter()
        deadline = started + seconds
        sent = 0
        while time.perf_counter() < deadline:
            sock.sendall(CHUNK)
            sent += len(CHUNK)
        sock.shutdown(socket.SHUT_WR)
        while sock.recv(65536):
            pass
        return {"bytes": sent, "seconds": time.perf_counter() - started}


def main(argv: list[str]) -> int:
    try:
        out = transfer(argv[0], int(argv[1]), float(argv[2]))
    except (OSError, IndexError, ValueError) as exc:
        out = {"error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
