"""harness.run: the one place subprocesses start, and its typed errors."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness.errors import CommandError, CommandTimeout, MissingTool
from harness.run import require_tool, run


def test_success() -> None:
    done = run(["sh", "-c", "echo out; echo err >&2"])
    assert done.ok
    assert (done.argv, done.returncode, done.stdout, done.stderr) == (
        ("sh", "-c", "echo out; echo err >&2"), 0, "out\n", "err\n")
    assert done.seconds >= 0


def test_input_and_stdin_path(tmp_path: Path) -> None:
    assert run(["cat"], input="hello").stdout == "hello"
    path = tmp_path / "in.bin"
    path.write_bytes(b"bytes\xff")
    assert run(["cat"], stdin_path=str(path)).stdout == "bytes\ufffd"


def test_false() -> None:
    with pytest.raises(CommandError) as info:
        run(["false"])
    err = info.value
    assert err.argv == ["false"]
    assert err.returncode == 1
    assert err.stderr == ""
    assert "false exited 1: (no stderr)" in str(err)


def test_stderr_and_exit_status() -> None:
    argv = ["sh", "-c", "echo partial; echo oops >&2; exit 3"]
    with pytest.raises(CommandError) as info:
        run(argv)
    err = info.value
    assert (err.argv, err.returncode, err.stdout, err.stderr) == (argv, 3, "partial\n", "oops\n")
    text = str(err)
    assert text.startswith("sh exited 3: oops")
    assert "argv: sh -c echo partial; echo oops >&2; exit 3" in text


def test_no_check() -> None:
    done = run(["sh", "-c", "exit 3"], check=False)
    assert not done.ok and done.returncode == 3


def test_arguments_become_strings() -> None:
    assert run(["echo", 42]).stdout == "42\n"  # type: ignore[list-item]


def test_missing_tool() -> None:
    with pytest.raises(MissingTool) as info:
        run(["podnet-no-such-binary-xyz", "--version"])
    assert info.value.tool == "podnet-no-such-binary-xyz"
    assert "'podnet-no-such-binary-xyz' was not found" in str(info.value)


def test_require_tool() -> None:
    assert require_tool("sh", "install a shell").endswith("/sh")
    with pytest.raises(MissingTool, match="apt-get install nothing"):
        require_tool("podnet-no-such-binary-xyz", "apt-get install nothing")


def test_timeout() -> None:
    started = time.monotonic()
    with pytest.raises(CommandTimeout) as info:
        run(["sleep", "5"], timeout=0.2)
    assert time.monotonic() - started < 3
    err = info.value
    assert isinstance(err, CommandError)
    assert err.argv == ["sleep", "5"]
    assert err.timeout == 0.2
    assert err.returncode == -1
    assert "timed out after 0.2 s" in str(err)
