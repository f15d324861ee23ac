"""The runner waits for events, not clocks: a step that gets no answer ends at its bound
and says so; a log read is read again until the line is there; a detached container is
waited for until its server listens. Fakes stand in for host1's users (no podman)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.errors import CommandTimeout
from harness.examples import runner, shell
from harness.examples.plan import Action, Plan
from harness.run import Completed

CURL = Action("run", 892, "3", "host1", "podman run --rm fedora curl -4 -s example.com:8080",
              probe=True)
LOGS = Action("run", 144, "10", "host1", 'podman logs mynginx 2> /dev/null | grep "GET /"',
              expected=('192.0.2.10 - - [15/Jun/2023:07:41:18 +0000] "GET / HTTP/1.1" 200 615 '
                        '"-" "curl/8.1.1" "-"'), reads_logs=True)


def _run(monkeypatch: pytest.MonkeyPatch, action: Action, replies: Iterator[Completed | Exception]
         ) -> runner.ExampleOutcome:
    def do(self: runner._Example, _: Action) -> Completed:
        reply = next(replies)
        if isinstance(reply, Exception):
            raise reply
        return reply

    monkeypatch.setattr(runner._Example, "user", lambda self, name: None)
    monkeypatch.setattr(runner._Example, "close", lambda self: None)
    monkeypatch.setattr(runner._Example, "do", do)
    return runner.run_example(None, None, Plan("x", (action,), (), (), ()), ())  # type: ignore[arg-type]


def _done(stdout: str, code: int = 0) -> Completed:
    return Completed(("bash",), code, stdout, "", 0.1)


def test_a_step_without_an_answer_ends_at_its_bound_and_says_so(
        monkeypatch: pytest.MonkeyPatch) -> None:
    hung = CommandTimeout(["bash", "-c", CURL.text], runner.PROBE_BOUND, "", "")
    outcome = _run(monkeypatch, CURL, iter([hung]))
    assert outcome.result == "failed"
    assert outcome.detail.endswith(f"{CURL.text!r}: no answer within {runner.PROBE_BOUND:g} s")
    (step,) = outcome.actions
    assert (step.exit_status, step.stderr) == (None, "no answer within 20 s")


def test_a_log_line_written_late_is_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    line = ('192.0.2.10 - - [07/Dec/2026:05:41:18 +0000] "GET / HTTP/1.1" 200 615 "-" '
            '"curl/8.14.1" "-"')
    outcome = _run(monkeypatch, LOGS, iter([_done("", 1), _done(""), _done(line)]))
    assert outcome.result == "ran as written", outcome.detail
    assert outcome.actions[0].observed == line


def test_a_log_line_that_never_comes_is_a_difference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "LOG_WAIT", 0.3)
    wrong = ('198.51.100.7 - - [07/Dec/2026:05:41:18 +0000] "GET / HTTP/1.1" 200 615 "-" '
             '"curl/8.14.1" "-"')
    outcome = _run(monkeypatch, LOGS, iter([_done(wrong)] * 1000))
    assert outcome.result == "output differs"


# --- shell.settled against a fake podman -----------------------------------------------

FAKE_PODMAN = r"""#!/bin/sh
case "$1 $2 $3" in
  "inspect -f {{.State.Status}}") [ -n "$STATE" ] || exit 125; echo "$STATE";;
  "inspect -f {{.Image}}") echo img;;
  "inspect -f {{json .Config.Cmd}}") echo "$CMD";;
  "image inspect -f") echo '["nginx","-g","daemon off;"]';;
  exec*) echo "$SS";;
esac
"""
LISTENING = 'tcp LISTEN 0 511 0.0.0.0:80 0.0.0.0:* users:(("nginx",pid=1,fd=6))'


@pytest.mark.parametrize(("state", "cmd", "ss", "settled"), [
    ("running", '["nginx","-g","daemon off;"]', "", False),  # its server still starting
    ("running", '["nginx","-g","daemon off;"]', LISTENING, True),
    ("running", '["sleep","300"]', "", True),  # no server of the image's
    ("exited", '["nginx","-g","daemon off;"]', "", True),
    ("", "", "", True),  # gone (--rm)
])
def test_a_detached_container_is_settled_when_its_server_listens(
        tmp_path: Path, state: str, cmd: str, ss: str, settled: bool) -> None:
    fake = tmp_path / "podman"
    fake.write_text(FAKE_PODMAN)
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}", "STATE": state,
           "CMD": cmd, "SS": ss}
    done = subprocess.run(["bash", "-c", shell.settled("0" * 64)], env=env, check=False,
                          timeout=10)
    assert (done.returncode == 0) == settled
