#!/usr/bin/python3
"""TCP sink: read and discard; takes its listening socket from LISTEN_FDS if given."""
import os
import socket
import sys
import threading

port = int(sys.argv[1]) if len(sys.argv) > 1 else 5201
if os.environ.get("LISTEN_FDS"):
    server = socket.socket(fileno=3)
else:
    server = socket.create_server(("", port), reuse_port=True)


def drain(conn: socket.socket) -> None:
    total = 0
    with conn:
        while chunk := conn.recv(1 << 20):
            total += len(chunk)
    print(f"podnet-sink bytes={total}", flush=True)


while True:
    conn, _ = server.accept()
    threading.Thread(target=drain, args=(conn,), daemon=True).start()
