#!/usr/bin/python3
"""UDP server: answer each datagram with the peer address it came from, and log it."""
import os
import socket
import sys

port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
if os.environ.get("LISTEN_FDS"):
    sock = socket.socket(fileno=3)
else:
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind(("::", port))
print(f"podnet-udp listening port={port}", flush=True)
while True:
    data, peer = sock.recvfrom(65535)
    host = peer[0].removeprefix("::ffff:")
    print(f"podnet-udp peer={host} peer_port={peer[1]} bytes={len(data)}", flush=True)
    sock.sendto(f"peer={host} peer_port={peer[1]}\n".encode(), peer)
