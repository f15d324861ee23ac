#!/usr/bin/env python3
"""Bulk HTTP transfers through a reverse proxy (standard library only).

    bulkhttp.py serve PORT [ADDRESS]     the backend: GET /bulk/N answers N zero bytes,
                                         PUT reads the body and answers how many bytes
                                         it read, any other request answers "podnet"
    bulkhttp.py get HOST PORT SECONDS    the client: downloads (inbound-reverse)
    bulkhttp.py put HOST PORT SECONDS    the client: uploads (inbound)

The client sends requests of REQUEST_BYTES on one connection until SECONDS have
passed (at least one request) and prints ``{"bytes": N, "seconds": S, "requests": R}``,
where N counts only what arrived (the download's body, the size the backend read of an
upload) and S runs from the connection to the last reply; ``{"error": ...}`` otherwise.
"""

from __future__ import annotations

import http.client
import json
import socket
import sys
import threading
import time
from io import BufferedIOBase

CHUNK = 1 << 20
REQUEST_BYTES = 64 << 20
ZEROS = bytes(CHUNK)


def read_head(reader: BufferedIOBase) -> tuple[str, dict[str, str]] | None:
    """The request or status line and the headers (names in lower case); None at EOF."""
    first = reader.readline(65536)
    if not first:
        return None
    headers = http.client.parse_headers(reader)
    return first.decode("latin-1").strip(), {k.lower(): v.strip() for k, v in headers.items()}


def drain(reader: BufferedIOBase, size: int, buffer: bytearray) -> int:
    """Read and discard ``size`` bytes; return how many arrived."""
    view, got = memoryview(buffer), 0
    while got < size:
        count = reader.readinto(view[:min(len(buffer), size - got)])
        if not count:
            break
        got += count
    return got


def send_zeros(sock: socket.socket, size: int) -> None:
    view = memoryview(ZEROS)
    while size > 0:
        sock.sendall(view[:min(size, CHUNK)])
        size -= CHUNK


def _reply(sock: socket.socket, body: bytes) -> None:
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


def handle(conn: socket.socket) -> None:
    buffer = bytearray(CHUNK)
    with conn, conn.makefile("rb") as reader:
        while (head := read_head(reader)) is not None:
            request, headers = head
            method, path = [*request.split(), "", ""][:2]
            if method == "PUT":
                _reply(conn, b"%d" % drain(reader, int(headers.get("content-length", "0")),
                                           buffer))
            elif method == "GET" and path.startswith("/bulk/") and path[6:].isdigit():
                size = int(path[6:])
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
                send_zeros(conn, size)
            else:
                _reply(conn, b"podnet\n")
            if headers.get("connection", "").lower() == "close":
                break


def serve(port: int, address: str = "0.0.0.0") -> None:
    server = socket.create_server((address, port), reuse_port=True)
    print(f"podnet-bulkhttp listening port={port}", flush=True)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


def _status(head: tuple[str, dict[str, str]] | None) -> dict[str, str]:
    if head is None:
        raise OSError("the connection closed before a reply")
    status, headers = head
    if status.split()[1:2] != ["200"]:
        raise OSError(f"reply {status!r}")
    return headers


def transfer(direction: str, host: str, port: int, seconds: float,
             size: int = REQUEST_BYTES) -> dict[str, object]:
    buffer = bytearray(CHUNK)
    total = requests = 0
    with socket.create_connection((host, port), timeout=60) as sock, \
            sock.makefile("rb") as reader:
        started = time.perf_counter()
        deadline = started + seconds
        while True:
            if direction == "get":
                sock.sendall(f"GET /bulk/{size} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
                headers = _status(read_head(reader))
                total += drain(reader, int(headers.get("content-length", "0")), buffer)
            else:
                sock.sendall(f"PUT /bulk HTTP/1.1\r\nHost: {host}\r\n"
                             f"Content-Length: {size}\r\n\r\n".encode())
                send_zeros(sock, size)
                headers = _status(read_head(reader))
                total += int(reader.read(int(headers.get("content-length", "0"))) or b"0")
            requests += 1
            if time.perf_counter() >= deadline:
                break
        return {"bytes": total, "seconds": time.perf_counter() - started, "requests": requests}


def main(argv: list[str]) -> int:
    if argv[:1] == ["serve"] and len(argv) in (2, 3):
        serve(int(argv[1]), *argv[2:])
        return 0
    try:
        if argv[:1] not in (["get"], ["put"]) or len(argv) != 4:
            raise ValueError("usage: bulkhttp.py serve PORT [ADDRESS] | get|put HOST PORT SECONDS")
        out = transfer(argv[0], argv[1], int(argv[2]), float(argv[3]))
    except (OSError, ValueError, http.client.HTTPException) as exc:
        out = {"error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
