"""The ssh target without ssh: its URL, the options, the ssh argv it builds (recorded
expectations), and ssh's own failures, classified from stderr recorded in the lab
(tests/fixtures/ssh/README)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.errors import (
    SshAuthFailed,
    SshFailed,
    SshHostKey,
    SshRefused,
    SshUnreachable,
    UsageError,
)
from harness.run import Completed, run
from harness.ssh import SshTransport, SshUrl, ssh_failure
from harness.targets.ssh import SshTarget, parse_target_url, remote_argv

FIXTURES = Path(__file__).parent / "fixtures" / "ssh"
REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("text", "expected"), [
    ("ssh://alice@host1", SshUrl("alice", "host1", None)),
    ("ssh://alice@192.0.2.1:2222", SshUrl("alice", "192.0.2.1", 2222)),
    ("ssh://podnet-ci@[2001:db8::1]:22", SshUrl("podnet-ci", "2001:db8::1", 22)),
    ("ssh://a.b_c@vm-trixie.example", SshUrl("a.b_c", "vm-trixie.example", None)),
    ("ssh://a@[fe80::1%25eth0]", SshUrl("a", "fe80::1%eth0", None)),
    ("ssh://a@[fe80::1%25lab-h2.0]:2222", SshUrl("a", "fe80::1%lab-h2.0", 2222)),
])
def test_target_urls(text: str, expected: SshUrl) -> None:
    assert parse_target_url(text) == expected


@pytest.mark.parametrize(("text", "says"), [
    ("ssh://host1", "name the rootless user"),
    ("ssh://root@host1", "rootless user, not root"),
    ("ssh://-oProxyCommand=id@host1", "may hold only"),
    ("ssh://alice@-oProxyCommand=id", "may hold only"),
    ("ssh://alice@host1;reboot", "may hold only"),
    ("ssh://alice:secret@host1", "expected ssh://user@host"),
    ("ssh://alice@host1/path", "expected ssh://user@host"),
    ("ssh://alice@host1:0", "port must be"),
    ("ssh://alice@host1:99999", "port must be"),
    ("ssh://alice@host1:ssh", "port must be"),
    ("sftp://alice@host1", "expected ssh://user@host"),
    # an IPv6 zone reaches ssh's %h (ProxyCommand, Match exec: a shell): interface names only
    ("ssh://a@[fe80::1%25;id|x]", "may hold only"),
    ("ssh://a@[fe80::1%25 x]", "may hold only"),
    ("ssh://a@[fe80::1%0a]", "may hold only"),
    ("ssh://a@[fe80::1%25%0a]", "expected ssh://user@host"),
    ("ssh://a@[fe80::1%25]", "may hold only"),
    ("ssh://a@192.0.2.1%25eth0", "may hold only"),
])
def test_bad_target_urls_are_one_line(text: str, says: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_target_url(text)
    message = str(info.value)
    assert message.startswith(f"invalid target {text!r}") and says in message
    assert "\n" not in message


URL = SshUrl("remote", "192.0.2.1", None)
CONTROL = "/tmp/podnet-ssh-abc"
#: Recorded: the argv the lab proof's inner run uses, and the plainest one.
LAB_PROOF = [
    "ip", "netns", "exec", "ssh-host2", "ssh", "-F", "none",
    "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=10",
    "-o", "ControlMaster=auto", "-o", "ControlPath=/tmp/podnet-ssh-abc/%C",
    "-o", "ControlPersist=60",
    "-o", "UserKnownHostsFile=/tmp/proof/known_hosts", "-o", "GlobalKnownHostsFile=/dev/null",
    "-o", "VerifyHostKeyDNS=no", "-o", "UpdateHostKeys=no",
    "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "PKCS11Provider=none",
    "-i", "/tmp/proof/id_podnet",
    "--", "remote@192.0.2.1", "podman ps --filter 'label=io.podnet.session=run 1'",
]
PLAIN = [
    "ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=10",
    "-o", "ControlMaster=auto", "-o", "ControlPath=/tmp/podnet-ssh-abc/%C",
    "-o", "ControlPersist=60", "-p", "2222", "--", "alice@vm1", "true",
]


def test_ssh_argv_of_the_lab_proof() -> None:
    ssh = SshTransport(URL, CONTROL, known_hosts="/tmp/proof/known_hosts",
                       identity="/tmp/proof/id_podnet", netns="ssh-host2")
    argv = ssh.ssh_argv(["podman", "ps", "--filter", "label=io.podnet.session=run 1"])
    assert argv == LAB_PROOF


#: A user's ssh_config that would add keys, known hosts and a command to podnet's own.
USER_SSH_CONFIG = """Host *
  IdentityFile {home}/.ssh/config-key
  CertificateFile {home}/.ssh/config-cert
  IdentityAgent {home}/.ssh/agent.sock
  KnownHostsCommand /bin/echo %H
  GlobalKnownHostsFile {home}/.ssh/global_known_hosts
  VerifyHostKeyDNS yes
"""


def _resolved_ssh_config(argv: list[str], home: Path) -> list[str]:
    """What ssh would use (``ssh -G``) with ``home``'s .ssh/config as root's own: in a
    private mount namespace, ``home`` is mounted over root's home for ssh only."""
    index = argv.index("ssh") + 1
    done = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c",
         'mount --bind "$1" ~root && shift && exec "$@"', "sh", str(home),
         *argv[:index], "-G", *argv[index:]], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@pytest.mark.skipif(os.geteuid() != 0, reason="mounts over root's home in a namespace")
def test_podnets_known_hosts_and_key_are_the_only_ones(tmp_path: Path) -> None:
    (tmp_path / ".ssh").mkdir()
    (tmp_path / ".ssh" / "config").write_text(USER_SSH_CONFIG.format(home="/root"))
    mine = tmp_path / "podnet_key"
    mine.write_text("")
    plain = _resolved_ssh_config([*SshTransport(URL, CONTROL).ssh_options(), "--", "a@h"],
                                 tmp_path)
    assert "identityfile /root/.ssh/config-key" in plain, "control: the config is read"
    ssh = SshTransport(URL, CONTROL, known_hosts="/tmp/proof/known_hosts", identity=str(mine))
    used = _resolved_ssh_config([*ssh.ssh_options(), "--", "a@h"], tmp_path)
    assert [line for line in used if line.startswith(("identityfile ", "certificatefile "))
            ] == [f"identityfile {mine}"]
    assert {"identityagent none", "identitiesonly yes", "verifyhostkeydns false",
            "updatehostkeys false", "globalknownhostsfile /dev/null",
            "userknownhostsfile /tmp/proof/known_hosts"} <= set(used)
    assert not [line for line in used if line.startswith("knownhostscommand ")]


def test_plain_ssh_argv() -> None:
    assert SshTransport(SshUrl("alice", "vm1", 2222), CONTROL).ssh_argv(["true"]) == PLAIN


def test_control_argv_ends_the_shared_connection() -> None:
    argv = SshTransport(SshUrl("alice", "vm1", 2222), CONTROL).control_argv("exit")
    assert argv == [*PLAIN[:-3], "-O", "exit", "--", "alice@vm1"]


def test_the_remote_command_is_one_quoted_word_after_the_destination() -> None:
    """ssh joins its trailing words with spaces for the remote shell: podnet passes one
    word, each argument quoted, so a value is never split or expanded there."""
    argv = SshTransport(URL, CONTROL).ssh_argv(["sh", "-c", "echo $HOME; id", "a b"])
    assert argv[-3:] == ["--", "remote@192.0.2.1", "sh -c 'echo $HOME; id' 'a b'"]


def test_remote_argv_runs_in_a_clean_environment() -> None:
    env = {"PATH": "/usr/bin:/bin", "XDG_RUNTIME_DIR": "/run/user/1004"}
    assert remote_argv(["podman", "info"], env, root=False) == [
        "env", "-i", "PATH=/usr/bin:/bin", "XDG_RUNTIME_DIR=/run/user/1004", "podman", "info"]
    assert remote_argv(["ss", "-Hltn"], {"PATH": "/bin"}, root=True) == [
        "sudo", "-n", "env", "-i", "PATH=/bin", "ss", "-Hltn"]


def _failed(name: str, returncode: int = 255) -> SshFailed | None:
    stderr = (FIXTURES / f"{name}.stderr").read_text()
    return ssh_failure("remote@192.0.2.1", Completed(("ssh",), returncode, "", stderr, 0.1))


@pytest.mark.parametrize(("name", "error", "cause"), [
    ("refused", SshRefused, "connection refused"),
    ("auth", SshAuthFailed, "authentication refused"),
    ("host-key-unknown", SshHostKey, "host key unknown"),
    ("host-key-changed", SshHostKey, "host key changed"),
    ("unreachable", SshUnreachable, "host unreachable"),
    ("netns-gone", SshUnreachable, "the network namespace ssh runs in is gone"),
])
def test_ssh_failures_are_typed_one_line_errors(name: str, error: type[SshFailed],
                                                cause: str) -> None:
    found = _failed(name)
    assert type(found) is error
    message = str(found)
    assert message.startswith(f"ssh to remote@192.0.2.1 failed: {cause}: ")
    assert "\n" not in message


def test_a_remote_command_exiting_255_is_not_an_ssh_failure() -> None:
    assert _failed("remote-255") is None


def test_only_exit_255_is_ssh_s_own() -> None:
    """A remote command that prints ssh-like text and exits 1 is that command's exit."""
    assert _failed("refused", returncode=1) is None


def test_run_raises_the_typed_error_even_unchecked() -> None:
    """The choke point: ``failure`` decides before ``check``; a probe with check=False
    must not read a failed connection as the probe's answer."""
    script = f"cat {FIXTURES / 'auth.stderr'} >&2; exit 255"
    with pytest.raises(SshAuthFailed):
        run(["sh", "-c", script], check=False,
            failure=lambda done: ssh_failure("remote@192.0.2.1", done))
    done = run(["sh", "-c", "echo oops >&2; exit 255"], check=False,
               failure=lambda done: ssh_failure("remote@192.0.2.1", done))
    assert done.returncode == 255


# --- options ------------------------------------------------------------------------------

def _resolve(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **given: str) -> SimpleNamespace:
    from harness.options import PYTEST, resolve_pytest
    from harness.pytest_plugin import MARKERS

    for variable in [v for v in os.environ if v.startswith("PODNET_")]:
        monkeypatch.delenv(variable)
    monkeypatch.setenv("PODNET_RESULTS", str(tmp_path))
    option = SimpleNamespace(markexpr="", **dict.fromkeys(PYTEST))
    for dest, value in given.items():
        setattr(option, dest, value)
    resolve_pytest(option, MARKERS)
    return option


def test_ssh_options_resolve(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    key = tmp_path / "id"
    key.write_text("key")
    option = _resolve(monkeypatch, tmp_path, target="ssh://alice@192.0.2.1",
                      ssh_identity=str(key), ssh_known_hosts=str(key), ssh_from="host2")
    assert (option.target, option.ssh_from) == ("ssh://alice@192.0.2.1", "host2")


@pytest.mark.parametrize(("given", "says"), [
    ({"target": "ssh://root@192.0.2.1"}, "not root"),
    ({"target": "ssh:/alice@host"}, "choose lab, local or ssh://"),
    ({"target": "remote"}, "choose lab, local or ssh://"),
    ({"target": "ssh://alice@192.0.2.1", "ssh_from": "host9"}, "host2 or host3"),
    ({"target": "ssh://alice@192.0.2.1", "ssh_identity": "/nonexistent/id"}, "no readable"),
    ({"target": "ssh://alice@192.0.2.1", "ssh_known_hosts": "/nonexistent/kh"}, "no readable"),
    ({"target": "local", "ssh_from": "host2"}, "needs --target ssh://"),
])
def test_bad_ssh_options_are_one_line(given: dict[str, str], says: str,
                                      monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(UsageError) as info:
        _resolve(monkeypatch, tmp_path, **given)
    assert says in str(info.value) and "\n" not in str(info.value)


def _sandbox_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODNET_")}
    env.update(PODNET_RESULTS=str(tmp_path / "results"), PODNET_STATE_DIR=str(tmp_path / "s/state"),
               PODNET_DATA_DIR=str(tmp_path / "s/data"), PODNET_CACHE_DIR=str(tmp_path / "s/cache"),
               PODNET_LAB="no-such-lab", **extra)
    return env


def test_a_bad_target_url_stops_pytest_before_anything_with_one_line(tmp_path: Path) -> None:
    """pytest's own usage-error status (4), as for every option of the plugin."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--target",
         "ssh://alice@-oProxyCommand=x", "tests/test_names.py"],
        capture_output=True, text=True, cwd=REPO, env=_sandbox_env(tmp_path), timeout=120,
        check=False)
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert done.returncode == 4, done.stdout + done.stderr
    assert len(lines) == 1 and "--target: invalid target" in lines[0], lines
    assert not (tmp_path / "results").exists()


def test_a_bad_target_variable_stops_podnet_verify_with_exit_2(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.options import check_pytest_environment
    from harness.pytest_plugin import MARKERS

    env = _sandbox_env(tmp_path, PODNET_TARGET="ssh://root@192.0.2.1")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(UsageError):  # refused in this process first: never reaches a lab
        check_pytest_environment(MARKERS)
    done = subprocess.run([str(Path(sys.executable).parent / "podnet"), "verify", "-m", "smoke"],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120,
                          check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "PODNET_TARGET" in lines[0] and "not root" in lines[0], lines


# --- the target, against a scripted ssh ---------------------------------------------------

class ScriptedSsh:
    """Stands in for harness.run.run: records argv, answers the login probe, and
    fails as the recorded stderr ``fail`` says (then through the target's ``failure``)."""

    def __init__(self, fail: str | None = None) -> None:
        self.calls: list[list[str]] = []
        self.fail = fail

    def __call__(self, argv: list[str], **kwargs: object) -> Completed:
        self.calls.append(list(argv))
        if self.fail is not None:
            done = Completed(tuple(argv), 255, "", (FIXTURES / f"{self.fail}.stderr").read_text(),
                             0.1)
            failure = kwargs["failure"]
            assert callable(failure)
            error = failure(done)
            assert error is not None
            raise error
        if "-O" in argv:
            return Completed(tuple(argv), 0, "", "", 0.1)
        out = "remote\n1004\n/home/remote\n192.0.2.10 50000 192.0.2.1 22\n" \
            if "id -un" in argv[-1] else ""
        return Completed(tuple(argv), 0, out, "", 0.1)


def _target(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, scripted: ScriptedSsh
            ) -> SshTarget:
    from harness import ssh

    monkeypatch.setattr(ssh, "run", scripted)
    monkeypatch.setattr(ssh.tempfile, "tempdir", str(tmp_path))
    return SshTarget(URL, netns="ssh-host2")


def test_the_target_learns_its_user_and_address_from_the_login(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    scripted = ScriptedSsh()
    target = _target(monkeypatch, tmp_path, scripted)
    assert (target.user, target.uid, target.home) == ("remote", 1004, "/home/remote")
    assert target.main_address == "192.0.2.1" and not target.isolated
    assert target.name == "ssh:remote@192.0.2.1"
    target.run(["podman", "info"])
    target.run(["ss", "-Hltn"], root=True)
    user_cmd, root_cmd = scripted.calls[-2][-1], scripted.calls[-1][-1]
    assert user_cmd.startswith("env -i PATH=") and "XDG_RUNTIME_DIR=/run/user/1004" in user_cmd
    assert root_cmd.startswith("sudo -n env -i ") and root_cmd.endswith(" ss -Hltn")


def test_close_ends_the_connection_and_removes_its_directory(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    scripted = ScriptedSsh()
    target = _target(monkeypatch, tmp_path, scripted)
    control = Path(target.ssh.control_dir)
    assert control.parent == tmp_path
    (control / "socket").write_text("")  # what ssh's master would have made
    target.close()
    assert scripted.calls[-1][-4:] == ["-O", "exit", "--", "remote@192.0.2.1"]
    assert not control.exists()
    calls = len(scripted.calls)
    target.close()
    assert len(scripted.calls) == calls, "closing twice sends nothing"


@pytest.mark.parametrize(("fail", "error"), [("auth", SshAuthFailed),
                                             ("refused", SshRefused)])
def test_a_failed_login_leaves_no_control_directory(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fail: str,
        error: type[SshFailed]) -> None:
    with pytest.raises(error):
        _target(monkeypatch, tmp_path, ScriptedSsh(fail))
    assert list(tmp_path.iterdir()) == []
