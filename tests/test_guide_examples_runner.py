"""How the guide's examples are run, decided before anything runs (no podman): who runs
each command (logins of the guide's users), what runs as root in host1 and why that is
safe, servers the guide runs in the foreground, shell state from one step to the next,
and what of an output the guide reads. Excerpts are copied from the guide."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import pytest

from harness.clients.base import Client
from harness.examples import runner, shell
from harness.examples.assess import assess_all
from harness.examples.outputs import difference
from harness.examples.parse import parse
from harness.examples.plan import Plan, plan
from harness.examples.runner import PEOPLE, _Example, _terminal_difference
from harness.examples.structure import Example
from harness.examples.substitutions import ROOT_NGINX, image_substitute
from harness.lab.target import LabTarget
from harness.run import Completed

#: The seed revision of the guide, whose examples these tests cite by line.
GUIDE = Path(__file__).resolve().parent.parent / "harness" / "data" / "guide" / "707d6f6.md"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "guide_examples"
EXCERPTS = ("sysctl", "second_user", "inline_steps", "curl_fails", "foreground_container",
            "sudo_dnf")


def _excerpt(name: str) -> str:
    return (FIXTURES / f"{name}.md").read_text(encoding="utf-8")


def _plan_of(excerpt: str) -> Plan:
    (example,) = parse(f"## Excerpt\n\n{_excerpt(excerpt)}")
    return plan(example, [example])


def _guide_plan(example_id: str) -> Plan:
    examples = parse(GUIDE.read_text(encoding="utf-8"))
    example: Example = next(e for e in examples if e.id == example_id)
    return plan(example, examples)


def test_the_excerpts_are_copied_from_the_guide() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    for name in EXCERPTS:
        for piece in _excerpt(name).split("\n\n"):
            assert piece in guide, (name, piece)


def test_sysctl_runs_as_root_with_its_file_in_etc() -> None:
    runnable = _plan_of("sysctl")
    assert not runnable.unsupported
    read, write, reload = runnable.actions
    assert (read.root, read.expected) == (False, "1024")
    assert (write.kind, write.path, write.root) == (
        "write", "/etc/sysctl.d/99-mysettings.conf", True)
    assert (reload.kind, reload.text, reload.root) == ("run", "sysctl --system", True)


def test_a_sudo_command_without_a_safe_way_is_refused_with_why() -> None:
    runnable = _plan_of("sudo_dnf")
    (install,) = runnable.actions
    assert not install.root and install.text.startswith("sudo dnf")
    assert any("the machine's root" in reason for reason in runnable.unsupported)


def test_the_guide_switches_between_two_users() -> None:
    runnable = _plan_of("second_user")
    assert not runnable.unsupported
    assert runnable.users == ("user2", "user1")
    who = [(a.step, a.user, a.login) for a in runnable.actions]
    assert who == [("3", "user2", 1), ("4", "user2", 1), ("7", "user1", 3)]
    pull = runnable.actions[0]
    assert pull.text == "podman image exists docker.io/library/fedora"
    curl = runnable.actions[1]
    assert "192.0.2.1:8080" in curl.text and "192.0.2.1 " not in (curl.expected or "")
    assert len(runnable.users) <= len(PEOPLE)


def test_a_prerequisite_procedure_of_the_guide_runs_first_as_its_user() -> None:
    runnable = _guide_plan("example-connect-to-hosts-main-network-interface-using-slirp4netns")
    assert not runnable.unsupported
    first = runnable.actions[0]
    assert first.step == "prerequisite 3" and first.user == "user1"
    assert any(a.text == "systemctl --user start nginx.socket" and a.user == "user1"
               for a in runnable.actions)
    # loginctl enable-linger is the runner's: its users linger already.
    assert not any("enable-linger" in a.text for a in runnable.actions)
    journal = runnable.actions[-1]
    assert journal.user == "user1" and journal.login != first.login


def test_a_server_in_the_foreground_is_served_and_cd_is_kept() -> None:
    runnable = _plan_of("inline_steps")
    kinds = [(a.kind, a.text) for a in runnable.actions]
    assert kinds == [("run", "mkdir ~/emptydir"), ("run", "cd ~/emptydir"),
                     ("serve", "python3 -m http.server 8080 --bind 192.0.2.1")]
    assert len({a.login for a in runnable.actions}) == 1


def test_a_published_container_run_without_d_is_a_foreground_server() -> None:
    (run,) = _plan_of("foreground_container").actions
    assert run.kind == "serve"
    assert image_substitute("ghcr.io/nginxinc/nginx:latest").lab_image == ROOT_NGINX  # type: ignore[union-attr]
    detached = _guide_plan("example--use-podman-run-option--p").actions[0]
    assert detached.kind == "run" and "-d" in detached.text.split()


def test_an_error_the_guide_shows_sets_the_exit_it_expects() -> None:
    (curl,) = _plan_of("curl_fails").actions
    assert curl.expected_exits == (28,)
    error = "curl: (28) Connection timed out after 3003 milliseconds\n"
    assert _terminal_difference(curl, Completed((), 28, "", error, 0.0)) == ""
    other = "curl: (7) Failed to connect to 10.89.0.2 port 80 after 3 ms: No route to host"
    assert _terminal_difference(curl, Completed((), 7, "", other, 0.0)) != ""
    assert _terminal_difference(curl, Completed((), 28, "", "", 0.0)) != ""


def test_only_the_first_address_of_hostname_is_read() -> None:
    guide = "192.0.2.1 192.168.122.1 192.168.39.1 fd25:c7f8:948a:0:912d:3900:d5c4:45ad"
    assert difference(guide, "192.0.2.1 198.51.100.1 2001:db8:2::1\n", "hostname -I") == ""
    assert difference(guide, "198.51.100.1 192.0.2.1\n", "hostname -I") != ""
    assert difference(guide, "192.0.2.1 198.51.100.1\n", "echo") != ""


def _bash(script: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "XDG_RUNTIME_DIR": str(home)}
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env,
                          check=False, cwd="/")


def test_shell_state_lasts_one_login(tmp_path: Path) -> None:
    (tmp_path / "emptydir").mkdir()
    assert _bash(shell.with_state("cd ~/emptydir\nGREETING=hello", 1), tmp_path).returncode == 0
    kept = _bash(shell.with_state('echo "$PWD $GREETING"', 1), tmp_path)
    assert kept.stdout == f"{tmp_path}/emptydir hello\n"
    fresh = _bash(shell.with_state('echo "$PWD ${GREETING:-unset}"', 2), tmp_path)
    assert fresh.stdout == f"{tmp_path} unset\n"
    failed = _bash(shell.with_state("cd /nonexistent-podnet", 3), tmp_path)
    assert failed.returncode != 0


def test_a_server_that_cannot_listen_fails_with_its_output(tmp_path: Path) -> None:
    # 192.0.2.254 is no address of this machine: the bind fails, nothing is sent.
    done = _bash(shell.serve("python3 -m http.server 8080 --bind 192.0.2.254", 1), tmp_path)
    assert done.returncode != 0 and "Cannot assign requested address" in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize("session", ["1234", "98765"])
def test_stopping_a_server_stops_its_whole_session(session: str) -> None:
    assert shell.stop(session).startswith(f"kill -TERM -- -{session} ")


def test_the_root_sandbox_leaves_only_the_network_keys_real() -> None:
    sandbox = shell.ROOT_SANDBOX
    assert "unshare --mount --propagation private" in sandbox
    assert '[ "$name" = net ] && continue' in sandbox and "set -e" in sandbox
    assert sandbox.index("mountpoint -q") < sandbox.index('exec bash -c "$1"')


class _RecordingClient(Client):
    name = "host2"
    address = "192.0.2.10"

    def __init__(self) -> None:
        self.argvs: list[list[str]] = []

    def run(self, argv: Sequence[str], *, check: bool = True, timeout: float | None = 60,
            input: str | None = None) -> Completed:
        self.argvs.append(list(argv))
        return Completed(tuple(argv), 0, "", "", 0.0)

    def agent(self, *args: str, timeout: float = 30) -> dict[str, Any]:
        raise AssertionError("not used")


def test_host2_steps_run_in_the_client_sandbox() -> None:
    runnable = _guide_plan("example-pasta---source-address-preserved")
    (curl,) = [a for a in runnable.actions if a.host == "host2"]
    client = _RecordingClient()
    running = _Example(cast(LabTarget, None), client, runnable)
    running.do(curl)
    running.installed(dataclasses.replace(curl, only_if="jq"))
    assert client.argvs == [["sh", "-c", shell.CLIENT_SANDBOX, "sh", curl.text],
                            ["sh", "-c", shell.CLIENT_SANDBOX, "sh",
                             "sh -c 'command -v \"$1\" >/dev/null' sh jq"]]


@pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox is entered as root")
def test_the_client_sandbox_is_unprivileged_and_changes_nothing_of_the_machine() -> None:
    marker = f"podnet-client-probe-{uuid.uuid4().hex}"
    probe = "\n".join((
        "id -u; echo \"$HOME\"; ls -A ~; touch ~/written && echo home-writable",
        f"touch /tmp/{marker} /var/tmp/{marker} /dev/shm/{marker} && echo tmp-writable",
        f"touch /etc/{marker} 2>/dev/null || echo etc-refused",
        "grep ^CapEff /proc/self/status",
        "ls /proc | grep -c '^[0-9]'",
        "exit 7"))
    done = subprocess.run(["sh", "-c", shell.CLIENT_SANDBOX, "sh", probe], capture_output=True,
                          text=True, check=False, timeout=60)
    assert done.returncode == 7, done.stderr
    uid, home, *rest = done.stdout.splitlines()
    assert uid == str(shell.CLIENT_UID) and home == "/tmp/home"
    assert rest[:4] == ["home-writable", "tmp-writable", "etc-refused",
                        "CapEff:\t0000000000000000"], done.stdout
    assert int(rest[4]) <= 4, "only the sandbox's own processes are visible"
    for where in ("/tmp", "/var/tmp", "/dev/shm", "/etc"):
        assert not Path(where, marker).exists()


def test_a_user_named_by_a_shell_variable_is_a_second_person() -> None:
    runnable = _guide_plan("show-the-default-rootlessnetworkcmd")
    assert not runnable.unsupported
    # The reader runs a container first, then the new user must be someone else.
    assert runnable.users == ("", "mytestuser")
    by_line = {a.line: a for a in runnable.actions}
    assert by_line[1037].user == "" and by_line[1060].user == "mytestuser"
    # pgrep's exit 1 (lists nothing) is what the step's later paragraph expects or allows.
    assert by_line[1060].expected_exits == (1,) and by_line[1080].expected_exits == (1,)
    assert by_line[1070].expected_exits == ()
    # "If jq is installed": run only where it is.
    assert by_line[1030].only_if == "jq" and by_line[1024].only_if == ""


def test_a_detached_container_is_waited_for_until_it_listens() -> None:
    actions = _guide_plan("example--use-podman-run-option--p").actions
    assert actions[0].starts_server and not any(a.starts_server for a in actions[1:])


def test_curls_progress_meter_is_not_what_a_terminal_shows() -> None:
    meter = ("  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n"
             "                                 Dload  Upload   Total   Spent    Left  Speed\n"
             "\r  0     0    0     0    0     0      0      0 --:--:--  0:00:03 --:--:--     0\n"
             "curl: (28) Connection timed out after 3002 milliseconds")
    guide = "curl: (28) Connection timed out after 3000 milliseconds"
    assert difference(guide, meter, "curl --max-time 3 10.89.0.2") == ""
    other = meter.replace("(28) Connection timed out", "(7) Failed to connect")
    assert difference(guide, other, "curl --max-time 3 10.89.0.2") != ""


def test_logs_are_read_again_until_the_line_is_there() -> None:
    actions = _guide_plan("example-connect-to-hosts-main-network-interface-using-slirp4netns"
                          ).actions
    journal = actions[-1]
    assert journal.text.startswith("journalctl") and journal.reads_logs
    assert not any(a.reads_logs for a in actions[:-1])


def test_a_network_probe_gets_the_short_bound() -> None:
    """The guide's curl in a container (it hung for minutes on TCP's retries) is bounded
    by the lab's answer time; a podman build is not."""
    actions = _guide_plan("example-connect-to-hosts-main-network-interface-using-slirp4netns"
                          ).actions
    curl = next(a for a in actions if "curl -s -4" in a.text)
    assert curl.probe and runner.bound(curl) == runner.PROBE_BOUND < runner.STEP_BOUND
    assert not actions[-1].probe and runner.bound(actions[-1]) == runner.STEP_BOUND


def test_the_listing_counts_the_readers_login_as_a_user() -> None:
    by_id = {a.example: a for a in assess_all(parse(GUIDE.read_text(encoding="utf-8")))}
    assert "user set-up -> 2 fresh users of host1" in by_id[
        "show-the-default-rootlessnetworkcmd"].substitutions
    assert "user set-up -> a fresh user of host1" in by_id[
        "example-socket-activation-systemd-user-service---source-address-preserved"].substitutions


def test_the_network_settings_are_saved_atomically_and_durably(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The save host1's settings are put back from: flushed to disk and renamed over
    the file, so a crash leaves the old save or the new one, never half of one."""
    where = tmp_path / "saved.json"
    synced: list[int] = []
    replaced: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    monkeypatch.setattr(os, "replace", lambda a, b: (replaced.append((a, b)),
                                                      real_replace(a, b)))
    monkeypatch.setattr(sys, "argv", ["-c", "save", str(where)])
    exec(compile(shell.NET_SYSCTLS, "net-sysctls", "exec"), {"__name__": "__main__"})
    assert replaced == [(f"{where}.tmp", str(where))] and len(synced) == 2
    assert json.loads(where.read_text()) and list(tmp_path.iterdir()) == [where]
