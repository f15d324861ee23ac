"""The bulk HTTP backend and client of the proxy throughput suite, over a socket pair
(no network): requests, replies and what the client counts."""

from __future__ import annotations

import socket
import threading

import pytest

from harness.proxies import bulkhttp


def _backend() -> socket.socket:
    ours, theirs = socket.socketpair()
    threading.Thread(target=bulkhttp.handle, args=(theirs,), daemon=True).start()
    return ours


def test_get_answers_the_size_asked() -> None:
    with _backend() as sock, sock.makefile("rb") as reader:
        sock.sendall(b"GET /bulk/3000000 HTTP/1.1\r\nHost: h\r\n\r\n")
        head = bulkhttp.read_head(reader)
        assert head is not None and head[0] == "HTTP/1.1 200 OK"
        assert head[1]["content-length"] == "3000000"
        got = bulkhttp.drain(reader, 3000000, bytearray(bulkhttp.CHUNK))
        assert got == 3000000


def test_put_answers_the_size_read_and_keeps_the_connection() -> None:
    with _backend() as sock, sock.makefile("rb") as reader:
        for size in (5, 2500000):
            sock.sendall(f"PUT /bulk HTTP/1.1\r\nContent-Length: {size}\r\n\r\n".encode())
            bulkhttp.send_zeros(sock, size)
            head = bulkhttp.read_head(reader)
            assert head is not None
            assert int(reader.read(int(head[1]["content-length"]))) == size


def test_other_requests_answer_podnet_and_close_on_request() -> None:
    with _backend() as sock, sock.makefile("rb") as reader:
        sock.sendall(b"GET /?podnet-ready HTTP/1.1\r\nConnection: close\r\n\r\n")
        head = bulkhttp.read_head(reader)
        assert head is not None
        assert reader.read(int(head[1]["content-length"])) == b"podnet\n"
        assert bulkhttp.read_head(reader) is None


def test_client_reports_errors_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert bulkhttp.main(["fetch", "h", "1", "1"]) == 0
    out = capsys.readouterr().out
    assert '"error": "ValueError: usage' in out
