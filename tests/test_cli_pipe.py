"""A reader that stops early (``podnet claims | head``) is not an error of podnet's."""

from __future__ import annotations

import subprocess
import sys


def test_closed_pipe_is_quiet() -> None:
    done = subprocess.run(
        ["sh", "-c", '"$1" -m harness.cli examples --json | head -c 10 >/dev/null',
         "sh", sys.executable],
        capture_output=True, text=True, check=False, timeout=60)
    assert "Traceback" not in done.stderr
    assert "BrokenPipe" not in done.stderr
