"""Access log lines of the lab's nginx image and of python's http.server.

The ``podnet-access`` lines of tests/fixtures/nginx/access.log were recorded in the lab
(tests/fixtures/record.py); the other lines are the guide's examples.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.probes.nginx_log import AccessEntry, find_request, parse, parse_line

LOG = (Path(__file__).parent / "fixtures" / "nginx" / "access.log").read_text()


def line_with(text: str) -> str:
    return next(line for line in LOG.splitlines() if text in line)


def test_podnet_ipv4() -> None:
    entry = parse_line(line_with("?probe"))
    assert entry is not None
    assert entry.peer == "192.0.2.10"
    assert entry.peer_port is not None and 1024 <= entry.peer_port <= 65535
    assert entry.request == "GET /?probe HTTP/1.1"
    assert entry.path == "/?probe"
    assert entry.status == 200
    assert entry.forwarded_for is None


def test_podnet_forwarded_for() -> None:
    entry = parse_line(line_with("?xff-token"))
    assert entry is not None
    assert entry.peer == "192.0.2.10"
    assert entry.forwarded_for == "203.0.113.7"


def test_podnet_ipv6_peer() -> None:
    entry = parse_line(line_with("?ipv6-token"))
    assert entry is not None
    assert entry.peer == "2001:db8:2::10"
    assert entry.forwarded_for is None


def test_podnet_fields_inside_the_request_do_not_override() -> None:
    line = ('podnet-access peer=192.0.2.10 peer_port=40000 local=192.0.2.1 local_port=8080 '
            'xff="198.51.100.10, 203.0.113.7" request="GET /?peer=203.0.113.9&status=500 '
            'HTTP/1.1" status=200 ua="curl/8.1.1"')
    entry = parse_line(line)
    assert entry == AccessEntry("192.0.2.10", "GET /?peer=203.0.113.9&status=500 HTTP/1.1",
                                200, 40000, "198.51.100.10, 203.0.113.7", line)


def test_http_server() -> None:
    entry = parse_line('192.0.2.10 - - [04/Aug/2024 15:57:26] "GET / HTTP/1.1" 200 -')
    assert entry is not None
    assert (entry.peer, entry.request, entry.status, entry.path) == (
        "192.0.2.10", "GET / HTTP/1.1", 200, "/")
    assert entry.peer_port is None and entry.forwarded_for is None


def test_http_server_journal_prefix() -> None:
    entry = parse_line(line_with("systemd-myweb"))
    assert entry is not None
    assert (entry.peer, entry.status) == ("127.0.0.1", 200)


@pytest.mark.parametrize(("marker", "peer"), [("15/Jun/2023", "192.0.2.10"),
                                               ("systemd-nginx", "192.168.10.108")])
def test_nginx_combined(marker: str, peer: str) -> None:
    entry = parse_line(line_with(marker))
    assert entry is not None
    assert (entry.peer, entry.request, entry.status) == (peer, "GET / HTTP/1.1", 200)


@pytest.mark.parametrize("line", ["", "2025/05/03 10:00:00 [notice] 1#1: start worker processes",
                                  "nothing to see here"])
def test_other_lines(line: str) -> None:
    assert parse_line(line) is None


def test_parse_whole_log() -> None:
    entries = parse(LOG)
    assert len(entries) == len(LOG.splitlines()) - 1  # all but nginx's notice
    assert [e.peer for e in entries[:3]] == ["192.0.2.10", "192.0.2.10", "2001:db8:2::10"]


def test_find_request_by_token() -> None:
    found = find_request(LOG, "xff-token")
    assert found is not None and found.forwarded_for == "203.0.113.7"
    found = find_request(LOG, "http-server-token")
    assert found is not None and (found.peer, found.status) == ("192.0.2.10", 404)
    assert find_request(LOG, "never-requested") is None


def test_find_request_takes_the_last() -> None:
    text = ('192.0.2.10 - - [04/Aug/2024 15:57:26] "GET /?t HTTP/1.1" 200 -\n'
            '198.51.100.10 - - [04/Aug/2024 15:57:27] "GET /?t HTTP/1.1" 200 -\n')
    found = find_request(text, "?t")
    assert found is not None and found.peer == "198.51.100.10"
