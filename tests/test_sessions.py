"""Sessions: who is alive (a held flock), the write-ahead manifest, the cleanup of dead
sessions' marks, and the isolation guard, on a fake target (argv recorded, nothing run)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness import names
from harness.capabilities import Capabilities
from harness.claims import load_default
from harness.errors import PodnetError
from harness.lab.lock import LockBusy
from harness.methods import all_methods
from harness.probes import netconf
from harness.run import Completed, run, spawn
from harness.services import system_socket_service
from harness.sessions import ownership
from harness.sessions.cleanup import marked_session
from harness.sessions.records import SessionStore
from harness.targets.base import NOT_ISOLATED, PRESENT_END, ForeignFile, NotIsolated, Target
from harness.versions import Version

REPO = Path(__file__).resolve().parent.parent
DEAD = "20261128T000000Z-aaaaaa"
LIVE = "20261128T000001Z-bbbbbb"
NEW = "20261128T000002Z-cccccc"


class FakeTarget(Target):
    """Records argv; ``listings`` answer podman's labelled listings."""

    def __init__(self, listings: dict[str, list[dict[str, object]]] | None = None,
                 *, removes: bool = True) -> None:
        self.name = "fake"
        self.user, self.uid, self.home = "test", 1000, "/home/test"
        self.main_address = "192.0.2.1"
        self.listings_ = listings or {}
        self.calls: list[tuple[tuple[str, ...], bool]] = []
        self.removes = removes
        #: Paths ``test -e`` finds on the fake target (``rm -rf`` removes them).
        self.existing: set[str] = set()
        #: Listings that fail: podman's kinds, or ``present`` (the files' listing).
        self.failing: set[str] = set()
        #: ``rm -rf`` argument tuples that fail (the files stay).
        self.failing_rm: set[tuple[str, ...]] = set()

    def run(self, argv: Sequence[str], *, root: bool = False, check: bool = True,
            input: str | None = None, timeout: float | None = 120,
            stdin_path: str | None = None) -> Completed:
        argv = tuple(argv)
        self.calls.append((argv, root))
        if self.removes and argv[:2] == ("podman", "rm"):
            self.listings_["containers"] = [c for c in self.listings_.get("containers", [])
                                            if c["Id"] not in argv]
        if argv[:2] == ("test", "-e"):
            return Completed(argv, 0 if argv[2] in self.existing else 1, "", "", 0.0)
        if argv[:3] == ("rm", "-rf", "--") and argv[3:] not in self.failing_rm:
            self.existing -= set(argv[3:])
        if argv[:2] == ("sh", "-c") and argv[3:4] == (PRESENT_END,):
            if "present" in self.failing:
                return Completed(argv, 1, "", "sh: cannot run", 0.0)
            there = [p for p in argv[4:] if p in self.existing]
            return Completed(argv, 0, "".join(f"{p}\n" for p in there) + PRESENT_END + "\n",
                             "", 0.0)
        out = ""
        for kind in ownership.LIST_ARGV:
            if list(argv) == ownership.list_argv(kind):
                if kind in self.failing:
                    return Completed(argv, 125, "", "Error: database is locked", 0.0)
                out = json.dumps(self.listings_.get(kind, []))
        return Completed(argv, 0, out, "", 0.0)


class HereTarget(Target):
    """A target on this machine whose user's home is ``home``: the store's commands run
    for real (sh, flock, dd), nothing else is needed. ``name`` is how it is spelled."""

    def __init__(self, home: Path, name: str = "here") -> None:
        self.name, self.user, self.uid, self.home = name, "test", os.getuid(), str(home)
        self.main_address = "192.0.2.1"
        home.mkdir(parents=True, exist_ok=True)

    def run(self, argv: Sequence[str], *, root: bool = False, check: bool = True,
            input: str | None = None, timeout: float | None = 120,
            stdin_path: str | None = None) -> Completed:
        return run([*self._env(), *argv], check=check, input=input, timeout=timeout)

    def hold_open(self, argv: Sequence[str]) -> subprocess.Popen[bytes]:
        return spawn([*self._env(), *argv], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE)

    def _env(self) -> list[str]:
        return ["env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", f"HOME={self.home}"]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SessionStore]:
    """The records of a target whose home is ``tmp_path/home``, its lock held."""
    held = SessionStore.on(HereTarget(tmp_path / "home"))
    with held.hold("the target here", wait=0):
        yield held


def dead_record(store: SessionStore, session_id: str, *paths: str, root: bool = False) -> None:
    """The record a session left when its process died."""
    record = Path(store.directory) / session_id
    record.mkdir(parents=True)
    (record / "manifest").write_text("".join(
        json.dumps({"event": "wrote", "path": p, "root": root}) + "\n" for p in paths))


def records(store: SessionStore) -> list[str]:
    directory = Path(store.directory)  # gone with the last record: nothing left
    return sorted(p.name for p in directory.iterdir() if p.is_dir()) if directory.exists() else []


def test_records_live_on_the_target_keyed_by_machine_and_uid(tmp_path: Path) -> None:
    store = SessionStore.on(HereTarget(tmp_path / "home"))
    machine = Path("/etc/machine-id").read_text().strip()
    assert store.directory == (f"{tmp_path}/home/.local/state/podnet/sessions/"
                               f"{machine}-{os.getuid()}")


def test_records_follow_the_target_not_the_controllers_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither XDG_STATE_HOME (unchecked, possibly /tmp) nor podnet's data root (where a
    lab named 'sessions' keeps its data) decides where the records are."""
    home = tmp_path / "home"
    expected = SessionStore.on(HereTarget(home)).directory
    for variable in ("XDG_STATE_HOME", "PODNET_DATA_DIR", "PODNET_SESSIONS_DIR"):
        monkeypatch.setenv(variable, str(tmp_path / "elsewhere"))
    assert SessionStore.on(HereTarget(home)).directory == expected
    assert expected.startswith(f"{home}/")


@pytest.mark.skipif(os.geteuid() != 0, reason="lab down needs root")
def test_a_lab_named_sessions_leaves_the_session_records_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.lab import lab as lab_ctl
    from harness.lab import state as lab_state

    for variable in ("PODNET_STATE_DIR", "PODNET_DATA_DIR", "PODNET_CACHE_DIR"):
        monkeypatch.setenv(variable, str(tmp_path / variable.lower()))
    store = SessionStore.on(HereTarget(tmp_path / "home"))
    with store.hold("the target", wait=0):
        store.begin(NEW)
    (lab_state.owned("DATA_ROOT") / "sessions").mkdir()  # the lab's own data
    lab_ctl.down("sessions")
    assert not (lab_state.root("DATA_ROOT") / "sessions").exists()
    assert records(store) == [NEW]


def test_a_lab_name_the_cli_accepts_has_a_session(tmp_path: Path) -> None:
    longest = names.lab_name("l" * names.LAB_NAME_MAX)
    store = SessionStore.on(HereTarget(tmp_path / "home", f"lab:{longest}"))
    with store.hold(f"the target lab:{longest}", wait=0):
        store.begin(NEW).end()


def test_a_target_without_a_machine_id_is_one_line(tmp_path: Path) -> None:
    target = FakeTarget()
    with pytest.raises(PodnetError) as caught:
        SessionStore.on(target)
    assert "machine id" in str(caught.value) and "\n" not in str(caught.value)


def test_two_spellings_of_one_target_never_run_at_once(tmp_path: Path) -> None:
    """root with --local-user alice and alice herself, ssh://alice@host and
    ssh://alice@10.0.0.5, local and ssh://me@localhost: one home on one machine, one
    lock. The second waits (bounded), then gives up in one line naming the first."""
    first = SessionStore.on(HereTarget(tmp_path / "home", "local:alice"))
    second = SessionStore.on(HereTarget(tmp_path / "home", "ssh:alice@10.0.0.5"))
    notes: list[str] = []
    with first.hold("the target local:alice", wait=0), pytest.raises(LockBusy) as caught, \
                second.hold("the target ssh:alice@10.0.0.5", wait=1, note=notes.append):
        pass
    message = str(caught.value)
    assert message.startswith("the target ssh:alice@10.0.0.5 is in use by pid "
                              f"{os.getpid()} on {socket.gethostname()} (")
    assert "waited 1 s" in message and "\n" not in message
    assert len(notes) == 1 and "waiting up to 1 s" in notes[0]
    with second.hold("the target ssh:alice@10.0.0.5", wait=0):  # the first has ended
        pass


def test_a_clean_end_leaves_no_trace_in_the_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    target = FakeTarget()
    store = SessionStore.on(HereTarget(home))
    with marked_session(target, NEW, store):
        assert (Path(store.directory) / "lock").is_file()
    assert list(home.iterdir()) == []


class InheritingTarget(HereTarget):
    """A target where another process (a server started later, say) holds a copy of
    the holder's stdin: closing podnet's end alone is no end of the holder's input."""

    def __init__(self, home: Path) -> None:
        super().__init__(home)
        self.others: list[subprocess.Popen[bytes]] = []

    def hold_open(self, argv: Sequence[str]) -> subprocess.Popen[bytes]:
        holder = super().hold_open(argv)
        assert holder.stdin is not None
        self.others.append(subprocess.Popen(["sleep", "60"], pass_fds=[holder.stdin.fileno()]))
        return holder


def test_the_holder_lets_go_when_told_though_its_input_stays_open(tmp_path: Path) -> None:
    home = tmp_path / "home"
    target = InheritingTarget(home)
    store = SessionStore.on(target)
    try:
        with marked_session(FakeTarget(), NEW, store):
            started = time.monotonic()
        assert time.monotonic() - started < 5, "the holder waited for its input to end"
        assert list(home.iterdir()) == []
    finally:
        for other in target.others:
            other.kill()
            other.wait()


def test_a_waiter_takes_over_when_the_holder_removes_the_lock_file(tmp_path: Path) -> None:
    """The first session removes its lock file as it ends; the second, which waited on
    that file, must lock the new one, so that a third is kept out."""
    home = tmp_path / "home"
    first, second = (SessionStore.on(HereTarget(home, n)) for n in "ab")
    got: list[str] = []
    with first.hold("t", wait=0):
        waiting = threading.Thread(target=lambda: _hold_briefly(second, got))
        waiting.start()
        time.sleep(1)  # the second is waiting now
    waiting.join(timeout=20)
    assert got == ["second held", "third kept out"]


def _hold_briefly(store: SessionStore, got: list[str]) -> None:
    with store.hold("t", wait=10):
        got.append("second held")
        third = SessionStore.on(HereTarget(Path(store.directory).parents[4], "c"))
        with contextlib.suppress(LockBusy), third.hold("t", wait=0):
            got.append("third held")
            return
        got.append("third kept out")


def test_a_waiting_session_gets_the_target_when_the_first_ends(tmp_path: Path) -> None:
    home = tmp_path / "home"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(home)], cwd=REPO,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        second = SessionStore.on(HereTarget(home, "ssh:alice@host"))
        os.kill(holder.pid, signal.SIGKILL)  # a crash: its lock goes with it
        with second.hold("the target", wait=10):
            assert [s.id for s in second.stale()] == [DEAD]
    finally:
        holder.kill()
        holder.wait()


HOLDER = """
import sys, time
from pathlib import Path
from tests.test_sessions import HereTarget, DEAD
from harness.sessions.records import SessionStore
store = SessionStore.on(HereTarget(Path(sys.argv[1])))
with store.hold("the target", wait=0):
    store.begin(DEAD).wrote("/tmp/podnet-a.pcap")
    print("held", flush=True)
    time.sleep(60)
"""


def test_dead_sessions_are_stale_this_one_is_not(store: SessionStore) -> None:
    dead_record(store, DEAD, "/tmp/podnet-a.pcap")
    mine = store.begin(NEW)
    stale = list(store.stale())
    assert [s.id for s in stale] == [DEAD]
    assert [w.path for w in stale[0].files()] == ["/tmp/podnet-a.pcap"]
    stale[0].end()
    assert records(store) == [NEW]
    mine.end()
    assert records(store) == []


def test_sessions_need_the_lock(tmp_path: Path) -> None:
    store = SessionStore.on(HereTarget(tmp_path / "home"))
    with pytest.raises(PodnetError, match="not held"):
        store.begin(NEW)


def test_session_id_in_use_is_refused(store: SessionStore) -> None:
    first = store.begin(LIVE)
    with pytest.raises(PodnetError, match="already recorded"):
        store.begin(LIVE)
    first.end()


def test_manifest_is_written_ahead_and_torn_lines_ignored(store: SessionStore) -> None:
    session = store.begin(NEW)
    session.wrote("/home/test/.config/systemd/user/podnet-web.socket")
    with open(Path(session.directory) / "manifest", "a") as manifest:
        manifest.write('{"event": "wrote", "pa')  # a crash mid-line
    assert [w.path for w in session.files()] == ["/home/test/.config/systemd/user/podnet-web.socket"]
    with pytest.raises(PodnetError, match="refusing to write"):
        session.wrote("relative/path")
    session.end()


def test_marked_session_cleans_dead_sessions_only(store: SessionStore) -> None:
    dead_record(store, DEAD, "/home/test/.config/systemd/user/podnet-web.socket")
    target = FakeTarget({"containers": [
        {"Id": "c-dead", "Names": ["podnet-x"], "Labels": {ownership.LABEL: DEAD}},
        {"Id": "c-live", "Names": ["podnet-y"], "Labels": {ownership.LABEL: LIVE}}],
        "networks": [{"name": "podnet-mine", "labels": {}}]})
    with marked_session(target, NEW, store) as session:
        cleaned = [" ".join(argv) for argv, _ in target.calls if argv[0] != "podman"
                   or (argv[1] in ("rm", "network") and argv[2] != "ls")]
        assert cleaned[:1] == ["systemctl --user stop -- podnet-web.socket"]
        assert "podman rm --force --time 0 c-dead" in " | ".join(
            " ".join(a) for a, _ in target.calls)
        everything = " ".join(" ".join(a) for a, _ in target.calls)
        assert "c-live" not in everything
        assert "podnet-mine" not in everything
        assert "reset-failed --" in everything and "reset-failed\n" not in everything
        assert target.session is session
        target.podman("run", "-d", "img")
        assert target.calls[-1][0][:4] == ("podman", "run", "--label", f"{ownership.LABEL}={NEW}")
    assert target.session is None
    assert records(store) == []


def test_record_kept_while_marks_remain(store: SessionStore) -> None:
    dead_record(store, DEAD)
    target = FakeTarget({"containers": [{"Id": "c", "Labels": {ownership.LABEL: DEAD}}]},
                        removes=False)
    with marked_session(target, NEW, store):
        pass
    assert records(store) == [DEAD]


def test_write_file_records_before_writing(store: SessionStore) -> None:
    target = FakeTarget()
    session = store.begin(NEW)
    target.attach(session)
    seen: list[list[str]] = []
    original = target.run

    def run(argv: Sequence[str], **kw: object) -> Completed:
        seen.append([w.path for w in session.files()])
        return original(argv, **kw)  # type: ignore[arg-type]

    target.run = run  # type: ignore[method-assign]
    target.write_file("/home/test/.config/containers/systemd/podnet-w.container", "[Container]\n")
    assert seen == [[], ["/home/test/.config/containers/systemd/podnet-w.container"]]
    target.remove_files("/home/test/.config/containers/systemd/podnet-w.container")
    assert session.files() == []
    session.end()


def test_a_file_podnet_did_not_write_is_never_overwritten(store: SessionStore) -> None:
    target = FakeTarget()
    mine = "/home/test/.config/systemd/user/podnet-web.socket"
    target.existing.add(mine)
    session = store.begin(NEW)
    target.attach(session)
    with pytest.raises(ForeignFile, match="podnet did not write it"):
        target.write_file(mine, "[Socket]\n")
    assert session.files() == []  # not recorded: cleanup will never remove it
    assert [argv for argv, _ in target.calls] == [("test", "-e", mine)]
    session.end()


def test_a_file_this_session_wrote_may_be_rewritten(store: SessionStore) -> None:
    target = FakeTarget()
    path = "/home/test/.cache/podnet/x/default.conf"
    session = store.begin(NEW)
    target.attach(session)
    target.write_file(path, "one\n")
    target.existing.add(path)
    target.write_file(path, "two\n")
    writes = [argv[2] for argv, _ in target.calls if argv[:2] == ("sh", "-c")]
    assert writes[0].startswith("set -C; ") and not writes[1].startswith("set -C")
    session.end()


# --- isolation: checks that change routes, sysctls or privileged ports on all addresses

def test_sysctl_set_refuses_without_running_anything() -> None:
    target = FakeTarget()
    with (pytest.raises(NotIsolated, match="needs an isolated target"),
          netconf.sysctl_set(target, "net.ipv4.ip_unprivileged_port_start", "80")):
        pass
    with pytest.raises(NotIsolated):
        target.set_sysctl("net.ipv4.ip_unprivileged_port_start", "80")
    assert target.calls == []


def test_routes_removed_refuses_without_running_anything() -> None:
    target = FakeTarget()
    with pytest.raises(NotIsolated, match="remove routes"), netconf.routes_removed(target):
        pass
    assert target.calls == []


def test_system_service_on_all_addresses_refused() -> None:
    target = FakeTarget()
    with pytest.raises(NotIsolated):
        system_socket_service(target, "podnet-web-system", "c", ["img"], "d", "0.0.0.0:80")
    assert target.calls == []


def test_isolated_target_may() -> None:
    target = FakeTarget()
    target.isolated = True
    target.set_sysctl("net.ipv4.ip_unprivileged_port_start", "80")
    assert target.calls and target.calls[0][1] is True


def test_capability_reason() -> None:
    info = SimpleNamespace(components=SimpleNamespace(podman=Version((5, 4, 2), "5.4.2"),
                                                      pasta="x", slirp4netns="y"))
    caps = Capabilities(FakeTarget(), info)  # type: ignore[arg-type]
    assert caps.missing("isolated") == NOT_ISOLATED
    assert NOT_ISOLATED == ("changes host routes/sysctls/binds 0.0.0.0:80: needs an isolated "
                            "target such as the lab")
    lab = FakeTarget()
    lab.isolated = True
    assert Capabilities(lab, info).missing("isolated") is None  # type: ignore[arg-type]


CHANGING = {"minimum_port", "publish_below_default_after_lowering",
            "pasta_error_without_network", "runs_without_network"}


def test_registry_declares_isolation() -> None:
    """Every claim whose check changes routes or sysctls, and every claim of the system
    service method (0.0.0.0:80), needs an isolated target."""
    methods = all_methods()
    for claim in load_default().claims:
        needs = set(claim.extra.get("requires", ()))
        if claim.method in methods:
            needs |= set(methods[claim.method].requires)
        if claim.property in CHANGING or claim.method == "socket-activation-system":
            assert "isolated" in needs, claim.id
