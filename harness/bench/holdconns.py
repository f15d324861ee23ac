#!/usr/bin/env python3
"""Open TCP connections and hold them (standard library only, runs on the client host).

    holdconns.py HOST PORT COUNT SECONDS

Opens COUNT connections to HOST:PORT, prints ``{"open": N, "seconds": S}`` (N
connected in S seconds; with ``"error"`` for the first that failed) and keeps them open
for SECONDS, or until killed.
"""

from __future__ import annotations

import json
import socket
import sys
import time


def main(argv: list[str]) -> int:
    host, port, count, seconds = argv[0], int(argv[1]), int(argv[2]), float(argv[3])
    held: list[socket.socket] = []
    out: dict[str, object] = {}
    started = time.perf_counter()
    try:
        for _ in range(count):
            held.append(socket.create_connection((host, port), timeout=10))
    except OSError as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
    out["open"] = len(held)
    out["seconds"] = round(time.perf_counter() - started, 3)
    print(json.dumps(out), flush=True)
    time.sleep(seconds)
    for sock in held:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
