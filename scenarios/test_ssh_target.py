"""The ssh target's proof: ``--target ssh://`` runs the source-address suite against a
rootless user of host1, reached by ssh from host2's network namespace.

In host1: sshd (:mod:`harness.proofs.sshd`: packages installed for this suite and purged
afterwards, podnet's own host key and configuration), listening on host1's eth0 address
only, and a fresh rootless user with a lingering user manager whose authorized key is
made here. On this machine: the key pair and a known_hosts file with host1's key, and
the inner run ``pytest --target ssh://<user>@192.0.2.1 --ssh-from host2 -m
source_address`` (clients: the lab's host2 and host3). Traffic stays in the lab: ssh
runs in host2's namespace, and 192.0.2.1 is routed nowhere else.

Wrong worlds each check catches: ssh from this machine's own namespace (sshd logs
another source address, and there is no route to 192.0.2.1 anyway); a target that
ignores the URL's user (the inner run's header and sshd's log name another user); a
session that leaves marked containers or podnet's images behind (the user's podman is
not empty afterwards); an ssh failure that surfaces as a traceback or a wrong cause
(the one-line checks below).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.errors import SshAuthFailed, SshFailed, SshHostKey, SshRefused
from harness.lab.rootfs import SUBID_COUNT, SUBID_START
from harness.lab.target import LabTarget, host1_argv
from harness.lab.topology import LINKS
from harness.proofs import sshd
from harness.proofs import workstation as ws
from harness.run import run, spawn
from harness.targets.base import BASE_PATH, Target
from harness.targets.ssh import SshTarget, parse_target_url

pytestmark = [pytest.mark.lab, pytest.mark.ssh_target, pytest.mark.proof]

#: The suites, wherever podnet is installed (the inner runs start in their tmp_path).
SUITES = Path(__file__).resolve().parent
PERSON = ws.Person(user="remote", uid=1004, subid_start=SUBID_START + 5 * SUBID_COUNT)
HOST1 = LINKS[0].host1_addr
VIA = LINKS[0].client
URL = f"ssh://{PERSON.user}@{HOST1}"
PREFIX = f"{tempfile.gettempdir()}/podnet-ssh-".encode()


class Access:
    """What this machine's ssh needs: a key pair host1 accepts, one it does not, and
    known_hosts files with host1's key and without it."""

    def __init__(self, directory: Path, server: sshd.Sshd, netns: str) -> None:
        self.directory = directory
        #: host2's network namespace, where this machine's ssh runs.
        self.netns = netns
        self.identity = self._key("id_podnet")
        self.stranger = self._key("id_stranger")
        self.known_hosts = directory / "known_hosts"
        self.known_hosts.write_text(server.known_hosts_line())
        self.no_known_hosts = directory / "known_hosts.empty"
        self.no_known_hosts.write_text("")

    def _key(self, name: str) -> Path:
        path = self.directory / name
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"podnet-{name}",
             "-f", str(path)])
        return path


@pytest.fixture(scope="module")
def host(target: Target) -> LabTarget:
    if not isinstance(target, LabTarget):
        pytest.skip("the ssh target's proof runs an sshd in the lab's host1")
    return target


@pytest.fixture(scope="module")
def access(host: LabTarget) -> Iterator[Access]:
    """sshd in host1, the person to log in as, and this machine's keys for them."""
    ws.remove(host, PERSON)  # what an interrupted proof left
    with tempfile.TemporaryDirectory(prefix="podnet-ssh-proof-") as scratch, \
            sshd.running(host, HOST1) as server:
        try:
            ws.create(host, PERSON)
            # '*': no password, yet not locked (sshd without PAM refuses a locked account)
            host.run(["usermod", "-p", "*", PERSON.user], root=True)
            keys = Access(Path(scratch), server, host.state.netns[VIA])
            sshd.authorize(host, PERSON.user, Path(f"{keys.identity}.pub").read_text())
            yield keys
        finally:
            ws.remove(host, PERSON)


def _connect(access: Access, *, url: str = URL, identity: Path | None = None,
             known_hosts: Path | None = None) -> SshTarget:
    return SshTarget(parse_target_url(url), identity=str(identity or access.identity),
                     known_hosts=str(known_hosts or access.known_hosts),
                     netns=access.netns)


def _masters() -> set[int]:
    """ssh processes on this machine that hold one of podnet's control sockets."""
    found = set()
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv[0].endswith(b"ssh") and any(a.startswith(b"ControlPath=" + PREFIX)
                                            for a in argv):
            found.add(int(proc.name))
    return found


def _control_dirs() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("podnet-ssh-*")) - set(
        Path(tempfile.gettempdir()).glob("podnet-ssh-proof-*"))


def test_source_address_suite_over_ssh(host: LabTarget, access: Access, tmp_path: Path,
                                       pytestconfig: pytest.Config) -> None:
    control_before, masters_before = _control_dirs(), _masters()
    argv = [sys.executable, "-m", "pytest", str(SUITES / "test_source_address.py"),
            "-p", "no:cacheprovider", "-m", "source_address",
            "--lab-name", pytestconfig.getoption("--lab-name"), "--target", URL,
            "--ssh-from", VIA, "--ssh-identity", str(access.identity),
            "--ssh-known-hosts", str(access.known_hosts),
            "--base-tar", str(ws.lab_base_tar(host)),
            # The guide's contradictions are not this proof's business: the inner run
            # reports them as expected failures, and the proof judges the transport.
            "--mismatch", "xfail",
            "--results-dir", str(tmp_path / "results"), "--run-id", "ssh-target",
            "--basetemp", str(tmp_path / "inner")]
    inner = run(argv, check=False, timeout=1200, cwd=str(tmp_path), env=_clean_env())
    (tmp_path / "inner.log").write_text(inner.stdout + inner.stderr)
    summary = (inner.stdout.strip().splitlines() or ["(no output)"])[-1]
    results = _results(tmp_path / "results" / "ssh-target" / "run.json")
    counts = ws.outcome_counts(results)
    log = sshd.log(host)
    print(f"\ninner run over ssh: exit {inner.returncode} after {inner.seconds:.0f} s: "
          f"{summary}; results {counts}; log {tmp_path / 'inner.log'}")

    problems = []
    if inner.returncode != 0:
        problems.append(f"the inner run exited {inner.returncode}: {summary}")
    if not (counts.get("passed") or counts.get("failed")):
        problems.append(f"the inner run decided no claim over ssh: {counts}")
    problems += [f"the inner run could not check {r.get('claim_id')}: {r.get('reason')}"
                 for r in results if r.get("outcome") == "error"]
    if f"podnet target: ssh:{PERSON.user}@{HOST1} from the lab's {VIA}" not in inner.stdout:
        problems.append("the inner run's header does not name the ssh target")
    accepted = f"Accepted publickey for {PERSON.user} from {LINKS[0].peer_addr} "
    if accepted not in log:
        problems.append(f"sshd logged no '{accepted.strip()}': ssh did not come from "
                        f"{VIA}'s namespace")
    remote = _connect(access)
    try:
        left = remote.run(["podman", "ps", "--all", "--format", "{{.Names}}"]).stdout.split()
        images = remote.run(["podman", "images", "--format", "{{.Repository}}"]).stdout.split()
    finally:
        remote.close()
    if left:
        problems.append(f"containers left on the target: {left}")
    if images:
        problems.append(f"images left on the target: {images}")
    if leaked := _control_dirs() - control_before:
        problems.append(f"ssh control directories left: {sorted(map(str, leaked))}")
    if masters := _masters() - masters_before:
        problems.append(f"ssh connection masters left running: pids {sorted(masters)}")
    assert not problems, "\n".join(problems)


def _clean_env() -> dict[str, str]:
    """This process's environment without podnet's variables (the inner run gets its
    settings from its options only)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PODNET_")
            or k in ("PODNET_STATE_DIR", "PODNET_DATA_DIR", "PODNET_CACHE_DIR",
                     "PODNET_MIRROR")}


def _results(path: Path) -> list[dict[str, object]]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    results = data.get("results", []) if isinstance(data, dict) else []
    return [r for r in results if isinstance(r, dict)]


@pytest.mark.parametrize(("case", "error", "cause"), [
    ("refused", SshRefused, "connection refused"),
    ("auth", SshAuthFailed, "authentication refused"),
    ("host-key", SshHostKey, "host key unknown"),
])
def test_ssh_failure_is_one_line_naming_the_cause(access: Access, case: str,
                                                  error: type[SshFailed], cause: str) -> None:
    control_before = _control_dirs()
    kwargs = {"refused": {"url": f"{URL}:2222"}, "auth": {"identity": access.stranger},
              "host-key": {"known_hosts": access.no_known_hosts}}[case]
    with pytest.raises(SshFailed) as caught:
        _connect(access, **kwargs)  # type: ignore[arg-type]
    message = str(caught.value)
    assert type(caught.value) is error, message
    assert "\n" not in message and cause in message, message
    assert _control_dirs() == control_before, "a failed connection left its control directory"


def test_ssh_failure_stops_pytest_with_one_line(access: Access, tmp_path: Path,
                                                pytestconfig: pytest.Config) -> None:
    """The whole run: a key host1 refuses ends the session before any check, exit 4,
    one line naming the cause."""
    argv = [sys.executable, "-m", "pytest", str(SUITES / "test_smoke.py"),
            "-p", "no:cacheprovider", "-q", "--lab-name", pytestconfig.getoption("--lab-name"),
            "--target", URL, "--ssh-from", VIA, "--ssh-identity", str(access.stranger),
            "--ssh-known-hosts", str(access.known_hosts),
            "--results-dir", str(tmp_path / "results")]
    inner = run(argv, check=False, timeout=300, cwd=str(tmp_path), env=_clean_env())
    lines = [line for line in (inner.stdout + inner.stderr).splitlines()
             if "podnet: ssh to" in line]
    assert inner.returncode == 4, inner.stdout[-2000:]
    assert lines and "authentication refused" in lines[0], inner.stdout[-2000:]
    assert "Traceback" not in inner.stdout + inner.stderr


#: How long the second spelling waits for the first (``--lock-wait``; a minute by default).
SPELLING_WAIT = 5
#: In host1, as root: hold the session lock of the person's target the way
#: ``--target local --local-user <person>`` does, until stdin closes.
HOLD_AS_LOCAL = """
import sys
from harness.sessions.cleanup import held
from harness.sessions.records import SessionStore
from harness.targets.local import LocalTarget
target = LocalTarget(sys.argv[1], sys.argv[2])
with held(target, SessionStore.on(target)):
    print("held", flush=True)
    sys.stdin.read()
"""


def test_a_session_held_as_local_keeps_the_ssh_spelling_out(
        host: LabTarget, access: Access, tmp_path: Path, pytestconfig: pytest.Config) -> None:
    """One user of one machine, named two ways: root in host1 with ``--target local
    --local-user remote`` holds it; ``--target ssh://remote@192.0.2.1`` from host2 must
    not run beside it: it waits (``--lock-wait``), then exits 2 with one line naming the
    holder. Once the
    holder ends, the person's home has no trace of either."""
    workdir = "/var/tmp/podnet-spelling"
    source = ws.source_tar()
    try:
        host.run(["mkdir", "-p", f"{workdir}/src"], root=True)
        host.run(["tar", "-xf", "-", "-C", f"{workdir}/src"], root=True, stdin_path=str(source))
    finally:
        source.unlink()
    script = f"cd {workdir}/src && exec python3 -c \"$1\" {PERSON.user} {HOST1}"
    holder = spawn(host1_argv(host.state.init_pid, ["sh", "-c", script, "sh", HOLD_AS_LOCAL],
                              env={"PATH": BASE_PATH, "LANG": "C.UTF-8", "HOME": "/root",
                                   "PYTHONDONTWRITEBYTECODE": "1"}, user=None),
                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n", \
            holder.stderr.read().decode() if holder.stderr else ""
        name = host.run(["hostname"]).stdout.strip()
        argv = [sys.executable, "-m", "pytest", str(SUITES / "test_smoke.py"),
                "-p", "no:cacheprovider", "-q", "--lab-name",
                pytestconfig.getoption("--lab-name"), "--target", URL, "--ssh-from", VIA,
                "--ssh-identity", str(access.identity),
                "--ssh-known-hosts", str(access.known_hosts),
                "--results-dir", str(tmp_path / "results"), "--lock-wait", str(SPELLING_WAIT)]
        inner = run(argv, check=False, timeout=300, cwd=str(tmp_path), env=_clean_env())
        output = inner.stdout + inner.stderr
        lines = [line[line.index("podnet: "):].rstrip(" !") for line in output.splitlines()
                 if "is in use by" in line and "waited" in line and "podnet: " in line]
        print(f"\nsecond spelling: exit {inner.returncode} after {inner.seconds:.0f} s: "
              f"{lines[-1] if lines else output[-300:]}")
        assert inner.returncode == 2, output[-2000:]
        assert inner.seconds >= SPELLING_WAIT and f"waited {SPELLING_WAIT:g} s" in lines[-1]
        assert lines and f"ssh:{PERSON.user}@{HOST1} is in use by pid " in lines[-1] \
            and f" on {name} (" in lines[-1], output[-2000:]
        assert "Traceback" not in output
    finally:
        if holder.stdin is not None:
            holder.stdin.close()
        holder.wait(timeout=60)
        host.run(["rm", "-rf", "--", workdir], root=True)
    left = host.run(["find", PERSON.home, "-path", "*/.local/state/podnet*"], root=True
                    ).stdout.split()
    assert left == [], f"session records left in the person's home: {left}"
