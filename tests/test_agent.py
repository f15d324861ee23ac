"""The client agent as the clients run it: a subprocess printing one JSON line.

Only paths that send nothing, or send to 127.0.0.1 on a port nothing listens on.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from harness.clients.base import AGENT


def agent(*args: str) -> tuple[int, dict[str, Any]]:
    done = subprocess.run([sys.executable, str(AGENT), *args], capture_output=True, text=True,
                          timeout=15, check=False)
    lines = done.stdout.splitlines()
    assert len(lines) == 1, (done.stdout, done.stderr)
    out: dict[str, Any] = json.loads(lines[0])
    return done.returncode, out


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that is bound but not listening: connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_unknown_verb() -> None:
    code, out = agent("ping", "192.0.2.10")
    assert code == 2
    assert out == {"error": "unknown verb ping"}


def test_no_verb() -> None:
    code, out = agent()
    assert code == 2
    assert "usage" in out["error"]


def test_tcp_connect_refused(closed_port: int) -> None:
    code, out = agent("tcp-connect", "127.0.0.1", str(closed_port), "2")
    assert code == 0
    assert out["connected"] is False
    assert out["error"].startswith("ConnectionRefusedError")


@pytest.mark.parametrize(
    ("args", "error"),
    [(("tcp-connect", "127.0.0.1", "not-a-port"), "ValueError"),
     (("udp", "127.0.0.1"), "IndexError"),
     (("http",), "IndexError")],
    ids=["bad-port", "udp-without-port", "http-without-url"],
)
def test_bad_arguments_are_reported_as_data(args: tuple[str, ...], error: str) -> None:
    code, out = agent(*args)
    assert code == 0
    assert out["error"].startswith(error)
