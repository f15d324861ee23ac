"""Sessions: who is alive (a held flock), the write-ahead manifest, the cleanup of dead
sessions' marks, and the isolation guard, on a fake target (argv recorded, nothing run)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness import marks
from harness.claims import load_default
from harness.cleanup import marked_session
from harness.errors import PodnetError
from harness.methods import all_methods
from harness.probes import netconf
from harness.requirements import Capabilities
from harness.run import Completed
from harness.services import system_socket_service
from harness.sessions import SessionStore
from harness.targets.base import NOT_ISOLATED, PRESENT_END, ForeignFile, NotIsolated, Target
from harness.versions import Version

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
        for kind in marks.LIST_ARGV:
            if list(argv) == marks.list_argv(kind):
                if kind in self.failing:
                    return Completed(argv, 125, "", "Error: database is locked", 0.0)
                out = json.dumps(self.listings_.get(kind, []))
        return Completed(argv, 0, out, "", 0.0)


def test_live_session_is_not_stale_dead_one_is(tmp_path: Path) -> None:
    store = SessionStore(tmp_path, "lab-x")
    live = store.begin(LIVE)
    dead = store.begin(DEAD)
    dead.wrote("/tmp/podnet-a.pcap")
    dead.release()  # the process died: its lock is free, its record stays
    stale = list(store.stale())
    assert [s.id for s in stale] == [DEAD]
    assert [w.path for w in stale[0].files()] == ["/tmp/podnet-a.pcap"]
    stale[0].end()
    assert not (tmp_path / "lab-x" / DEAD).exists()
    assert (tmp_path / "lab-x" / LIVE).is_dir()
    live.end()
    assert list((tmp_path / "lab-x").iterdir()) == []


def test_session_id_in_use_is_refused(tmp_path: Path) -> None:
    store = SessionStore(tmp_path, "lab-x")
    first = store.begin(LIVE)
    with pytest.raises(PodnetError, match="already running"):
        store.begin(LIVE)
    first.end()


def test_manifest_is_written_ahead_and_torn_lines_ignored(tmp_path: Path) -> None:
    session = SessionStore(tmp_path, "lab-x").begin(NEW)
    session.wrote("/home/test/.config/systemd/user/podnet-web.socket")
    with open(session.directory / "manifest", "a") as manifest:
        manifest.write('{"event": "wrote", "pa')  # a crash mid-line
    assert [w.path for w in session.files()] == ["/home/test/.config/systemd/user/podnet-web.socket"]
    with pytest.raises(PodnetError, match="refusing to write"):
        session.wrote("relative/path")
    session.end()


def test_half_created_session_of_a_dead_process_is_dropped(tmp_path: Path) -> None:
    hidden = tmp_path / "lab-x" / f".{DEAD}.999999999.new"
    hidden.mkdir(parents=True)
    assert list(SessionStore(tmp_path, "lab-x").stale()) == []
    assert not hidden.exists()
    mine = tmp_path / "lab-x" / f".{NEW}.{os.getpid()}.new"
    mine.mkdir()
    assert list(SessionStore(tmp_path, "lab-x").stale()) == []
    assert mine.exists()  # its creator (this process) is alive


def test_marked_session_cleans_dead_sessions_only(tmp_path: Path) -> None:
    store = SessionStore(tmp_path, "lab-x")
    live = store.begin(LIVE)
    live.wrote("/home/test/.config/systemd/user/podnet-live.socket")
    dead = store.begin(DEAD)
    dead.wrote("/home/test/.config/systemd/user/podnet-web.socket")
    dead.release()
    target = FakeTarget({"containers": [
        {"Id": "c-dead", "Names": ["podnet-x"], "Labels": {marks.LABEL: DEAD}},
        {"Id": "c-live", "Names": ["podnet-y"], "Labels": {marks.LABEL: LIVE}}],
        "networks": [{"name": "podnet-mine", "labels": {}}]})
    with marked_session(target, "lab-x", NEW, root=tmp_path) as session:
        cleaned = [" ".join(argv) for argv, _ in target.calls if argv[0] != "podman"
                   or (argv[1] in ("rm", "network") and argv[2] != "ls")]
        assert cleaned[:1] == ["systemctl --user stop -- podnet-web.socket"]
        assert "podman rm --force --time 0 c-dead" in " | ".join(
            " ".join(a) for a, _ in target.calls)
        everything = " ".join(" ".join(a) for a, _ in target.calls)
        assert "c-live" not in everything and "podnet-live" not in everything
        assert "podnet-mine" not in everything
        assert "reset-failed --" in everything and "reset-failed\n" not in everything
        assert target.session is session
        target.podman("run", "-d", "img")
        assert target.calls[-1][0][:4] == ("podman", "run", "--label", f"{marks.LABEL}={NEW}")
    assert target.session is None
    assert sorted(p.name for p in (tmp_path / "lab-x").iterdir()) == [LIVE]
    live.end()


def test_record_kept_while_marks_remain(tmp_path: Path) -> None:
    dead = SessionStore(tmp_path, "lab-x").begin(DEAD)
    dead.release()
    target = FakeTarget({"containers": [{"Id": "c", "Labels": {marks.LABEL: DEAD}}]},
                        removes=False)
    with marked_session(target, "lab-x", NEW, root=tmp_path):
        pass
    assert sorted(p.name for p in (tmp_path / "lab-x").iterdir()) == [DEAD]


def test_write_file_records_before_writing(tmp_path: Path) -> None:
    target = FakeTarget()
    session = SessionStore(tmp_path, "lab-x").begin(NEW)
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


def test_a_file_podnet_did_not_write_is_never_overwritten(tmp_path: Path) -> None:
    target = FakeTarget()
    mine = "/home/test/.config/systemd/user/podnet-web.socket"
    target.existing.add(mine)
    session = SessionStore(tmp_path, "lab-x").begin(NEW)
    target.attach(session)
    with pytest.raises(ForeignFile, match="podnet did not write it"):
        target.write_file(mine, "[Socket]\n")
    assert session.files() == []  # not recorded: cleanup will never remove it
    assert [argv for argv, _ in target.calls] == [("test", "-e", mine)]
    session.end()


def test_a_file_this_session_wrote_may_be_rewritten(tmp_path: Path) -> None:
    target = FakeTarget()
    path = "/home/test/.cache/podnet/x/default.conf"
    session = SessionStore(tmp_path, "lab-x").begin(NEW)
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
    info = SimpleNamespace(version=Version((5, 4, 2), "5.4.2"),
                           components=SimpleNamespace(pasta="x", slirp4netns="y"))
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
