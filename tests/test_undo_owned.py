"""Undo acts only on what this session wrote: a user's own unit, quadlet, network or
container that carries podnet's names is never stopped, removed or reset; names podnet
creates carry a random tag; and every file or directory podnet makes is on record before
it exists (fake target with a session attached, argv recorded)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness import quadlet, services
from harness.errors import UsageError
from harness.methods import Method, get_method
from harness.probes import hostserver
from harness.proxies import units
from harness.proxies.specs import PROXIES
from harness.sessions import ownership
from harness.sessions.records import Session, SessionStore
from harness.targets.base import ForeignFile, NotIsolated
from scenarios import test_quadlet_forms
from tests.test_sessions import NEW, FakeTarget, HereTarget

HOME = "/home/test"
QUADLET = f"{HOME}/.config/containers/systemd"
USER_UNITS = f"{HOME}/.config/systemd/user"
OTHER = "20261128T000009Z-eeeeee"


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    store = SessionStore.on(HereTarget(tmp_path / "home"))
    with store.hold("the target", wait=0):
        session = store.begin(NEW)
        yield session


def _target(session: Session, **listings: list[dict[str, object]]) -> FakeTarget:
    target = FakeTarget(dict(listings))
    target.attach(session)
    return target


def _acting(target: FakeTarget) -> list[str]:
    """Every command that stops, resets, removes or deletes something."""
    return [" ".join(argv) for argv, _ in target.calls
            if argv[:1] == ("rm",) or (argv[:1] == ("systemctl",) and (
                {"stop", "reset-failed"} & set(argv)))
            or (argv[:1] == ("podman",) and "rm" in argv)]


# --- finding: a user's file with podnet's name, its unit and its objects stay -----------

def test_foreign_socket_unit_is_neither_stopped_nor_removed(session: Session) -> None:
    target = _target(session)
    quadlet_file, socket = f"{QUADLET}/podnet-web.container", f"{USER_UNITS}/podnet-web.socket"
    target.existing.add(socket)  # the user's own podnet-web.socket
    with pytest.raises(ForeignFile):
        services.install_socket_service(target, "podnet-web", "podnet-web", {
            quadlet_file: "[Container]\nImage=x\n", socket: "[Socket]\n"}, system=False)
    acting = _acting(target)
    assert not any("podnet-web.socket" in line for line in acting), acting
    assert f"rm -rf -- {quadlet_file}" in acting  # the session's own file goes
    assert "systemctl --user stop -- podnet-web.service" in acting
    assert [w.path for w in session.files()] == []


def test_foreign_quadlet_first_means_nothing_is_undone(session: Session) -> None:
    target = _target(session)
    quadlet_file = f"{QUADLET}/podnet-web.container"
    target.existing.add(quadlet_file)
    with pytest.raises(ForeignFile):
        services.install_socket_service(target, "podnet-web", "podnet-web", {
            quadlet_file: "[Container]\n", f"{USER_UNITS}/podnet-web.socket": "[Socket]\n"},
            system=False)
    assert _acting(target) == []  # nothing stopped, removed or reset; the socket never written


def test_foreign_quadlet_container_unit_stays(session: Session) -> None:
    target = _target(session)
    path = f"{QUADLET}/podnet-quadlet-abc123.container"
    target.existing.add(path)
    with pytest.raises(ForeignFile), quadlet.container_unit(target, "podnet-quadlet-abc123", "x"):
        pass
    assert _acting(target) == []


def test_foreign_network_file_and_its_network_stay(session: Session) -> None:
    target = _target(session, networks=[
        {"name": "systemd-podnet-mynet-abc123", "labels": {ownership.LABEL: OTHER}}])
    target.existing.add(f"{QUADLET}/podnet-mynet-abc123.network")
    with pytest.raises(ForeignFile), test_quadlet_forms._network_file(
            target, "podnet-mynet-abc123", True):
        pass
    assert _acting(target) == []


def test_teardown_removes_only_this_sessions_objects_and_never_forces_networks(
        session: Session) -> None:
    target = _target(session, containers=[
        {"Id": "mine", "Names": ["podnet-ctr-abc123"], "Labels": {ownership.LABEL: NEW}},
        {"Id": "users", "Names": ["podnet-ctr-def456"], "Labels": {}}],
        networks=[{"name": "podnet-net-abc123", "labels": {ownership.LABEL: NEW}},
                  {"name": "podnet-net-def456", "labels": {"owner": "alice"}}])
    target.remove_own("containers", "podnet-ctr-abc123", "podnet-ctr-def456")
    target.remove_own("networks", "podnet-net-abc123", "podnet-net-def456")
    assert _acting(target) == ["podman rm --force --time 0 mine",
                               "podman network rm podnet-net-abc123"]


# --- names podnet creates carry a random tag -------------------------------------------

def _unit_files(target: FakeTarget) -> list[str]:
    return [argv[2] for argv, _ in target.calls if argv[:2] == ("test", "-e")
            and (argv[2].startswith(QUADLET) or argv[2].startswith(USER_UNITS))]


@pytest.mark.parametrize("method_id", ["socket-activation-user", "socket-activated-proxy"])
def test_socket_units_carry_the_setups_tag(session: Session, method_id: str) -> None:
    target = _target(session)
    method = get_method(method_id)
    cleanups: list[Callable[[], object]] = []
    service = services._SETUP[method.kind](target, method, services.ServeOptions(), "abc123",
                                           cleanups)
    assert service.unit and "abc123" in service.unit
    written = _unit_files(target)
    assert written and all("-abc123." in path for path in written), written


def test_libsdsock_is_tagged_recorded_first_and_never_overwritten(session: Session,
                                                                  tmp_path: Path) -> None:
    built = tmp_path / "libsdsock.so"
    built.write_bytes(b"\x7fELF")
    target = _target(session)
    method = Method("libsdsock-x", "t", "libsdsock", ())
    cleanups: list[Callable[[], object]] = []
    services._SETUP["libsdsock"](target, method, services.ServeOptions(
        libsdsock=str(built)), "abc123", cleanups)
    library = f"{HOME}/.cache/podnet/podnet-sdsock-abc123/libsdsock.so"
    assert library in [w.path for w in session.files()]
    [copy] = [argv for argv, _ in target.calls if argv[:2] == ("sh", "-c") and library in argv[2]]
    assert copy[2].startswith("set -C; "), "the copy never replaces an existing file"
    again = _target(session)
    again.existing.add(f"{HOME}/.cache/podnet/podnet-sdsock-def456/libsdsock.so")
    with pytest.raises(ForeignFile):
        services._SETUP["libsdsock"](again, method, services.ServeOptions(
            libsdsock=str(built)), "def456", [])


def test_proxy_units_carry_the_deployments_tag(session: Session,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(units.secrets, "token_hex", lambda _: "abc123")
    target = _target(session)
    with units.deploy(target, PROXIES["nginx"], "img") as pu:
        assert pu.unit == "podnet-rproxy-abc123"
    written = _unit_files(target)
    assert written and all("podnet-rproxy-abc123." in path for path in written), written


# --- every directory podnet makes is on record before it exists -----------------------

def _recorded_when_made(target: FakeTarget, session: Session) -> dict[str, bool]:
    seen: dict[str, bool] = {}
    original = target.run

    def run(argv: object, **kw: object) -> object:
        words = tuple(argv)  # type: ignore[call-overload]
        if words[:2] == ("mkdir", "-m"):
            seen[words[-1]] = words[-1] in [w.path for w in session.files()]
        return original(words, **kw)  # type: ignore[arg-type]

    target.run = run  # type: ignore[method-assign, assignment]
    return seen


def test_server_working_directories_are_recorded_before_they_exist(session: Session) -> None:
    target = _target(session)
    seen = _recorded_when_made(target, session)
    with contextlib.suppress(Exception):
        hostserver._workdir(target.run, None, target.record_file)
    [(path, recorded)] = seen.items()
    assert path.startswith("/tmp/podnet-srv.") and recorded


def test_build_directories_are_recorded_before_they_exist(session: Session) -> None:
    target = _target(session)
    seen = _recorded_when_made(target, session)
    target.fresh_dir("/var/tmp", "podnet-image.")
    [(path, recorded)] = seen.items()
    assert path.startswith("/var/tmp/podnet-image.") and recorded


# --- smaller findings ------------------------------------------------------------------

class CountingRoot(FakeTarget):
    @property
    def can_root(self) -> bool:
        self.calls.append((("sudo", "-n", "true"), False))
        return True


def test_system_socket_refused_before_anything_runs() -> None:
    target = CountingRoot()
    method = get_method("socket-activation-system")
    with pytest.raises(NotIsolated):
        services._SETUP[method.kind](target, method, services.ServeOptions(), "abc123", [])
    assert target.calls == []


@pytest.mark.parametrize("bad", ["../x", "a/b", "x;id", ".hidden", ""])
def test_method_ids_are_names(bad: str) -> None:
    with pytest.raises(UsageError, match="invalid method id"):
        Method(bad, "t", "run", ())


def test_a_path_this_session_did_not_write_is_never_removed(session: Session) -> None:
    target = _target(session)
    target.write_file(f"{HOME}/.cache/podnet/podnet-x-abc123/default.conf", "x")
    target.remove_files(f"{HOME}/.cache/podnet/podnet-x-abc123/default.conf",
                        f"{USER_UNITS}/podnet-web.socket")
    assert _acting(target) == [f"rm -rf -- {HOME}/.cache/podnet/podnet-x-abc123/default.conf"]
