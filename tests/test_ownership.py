"""Marks: the session label in podman argv and quadlet files, and the cleanup plan from
recorded podman listings and manifests (argv in, argv out)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.sessions import ownership
from harness.sessions.ownership import Listings, Step, Written

FIXTURES = Path(__file__).parent / "fixtures" / "marks"
S = "20261128T000000Z-aaaaaa"
LIVE = "20261128T000001Z-bbbbbb"
L = ["--label", f"io.podnet.session={S}"]
HOME = "/home/test"
USER_DIRS = [f"{HOME}/.config/containers/systemd", f"{HOME}/.config/systemd/user"]
SYSTEM_DIRS = ["/etc/systemd/system", "/etc/containers/systemd"]


@pytest.mark.parametrize(("argv", "expected"), [
    (["podman", "run", "-d", "--name", "c", "img"], ["podman", "run", *L, "-d", "--name", "c", "img"]),
    (["podman", "create", "img"], ["podman", "create", *L, "img"]),
    (["podman", "container", "run", "--rm", "img"], ["podman", "container", "run", *L, "--rm", "img"]),
    (["podman", "network", "create", "--internal", "n"],
     ["podman", "network", "create", *L, "--internal", "n"]),
    (["podman", "volume", "create", "v"], ["podman", "volume", "create", *L, "v"]),
    (["podman", "pod", "create", "--name", "p"], ["podman", "pod", "create", *L, "--name", "p"]),
    (["env", "CONTAINERS_CONF_OVERRIDE=/tmp/x.conf", "podman", "run", "-d", "img"],
     ["env", "CONTAINERS_CONF_OVERRIDE=/tmp/x.conf", "podman", "run", *L, "-d", "img"]),
    (["/usr/bin/podman", "run", "--rm", "img", "sh", "-c", "cat <&3"],
     ["/usr/bin/podman", "run", *L, "--rm", "img", "sh", "-c", "cat <&3"]),
    # not creating: unchanged
    (["podman", "rm", "-f", "c"], ["podman", "rm", "-f", "c"]),
    (["podman", "network", "rm", "n"], ["podman", "network", "rm", "n"]),
    (["podman", "exec", "c", "podman", "run"], ["podman", "exec", "c", "podman", "run"]),
    (["podman", "logs", "run"], ["podman", "logs", "run"]),
    (["podman", "unshare", "--rootless-netns", "curl"], ["podman", "unshare", "--rootless-netns", "curl"]),
    # images outlive sessions and pass their labels on to every container: never marked
    (["podman", "build", "-t", "x", "dir"], ["podman", "build", "-t", "x", "dir"]),
    (["ip", "route", "show"], ["ip", "route", "show"]),
])
def test_mark_podman(argv: list[str], expected: list[str]) -> None:
    assert ownership.mark_podman(argv, S) == expected


def test_no_session_no_mark() -> None:
    assert ownership.mark_podman(["podman", "run", "img"], None) == ["podman", "run", "img"]


def test_label_quadlet() -> None:
    text = "[Unit]\nDescription=x\n\n[Container]\nImage=img\n\n[Install]\nWantedBy=default.target\n"
    labelled = ownership.label_quadlet("/h/.config/containers/systemd/web.container", text, S)
    assert labelled == text.replace("[Container]\n", f"[Container]\nLabel=io.podnet.session={S}\n")
    net = ownership.label_quadlet("/h/n.network", "[Network]\nInternal=true\n", S)
    assert net.splitlines()[:2] == ["[Network]", f"Label=io.podnet.session={S}"]
    assert ownership.label_quadlet("/h/web.socket", text, S) == text
    assert ownership.label_quadlet("/h/web.container", text, None) == text
    assert ownership.label_quadlet("/h/bare.container", "[Install]\n", S).endswith(
        f"[Container]\nLabel=io.podnet.session={S}\n")


def _recorded() -> Listings:
    """Listings recorded in a lab: a dead session's container, pod (with its infra
    container), network and volume; a live session's container; the user's own
    podnet-mine, podnet-mynet and podnet-myvol, which carry no podnet label."""
    load = lambda name: json.loads((FIXTURES / f"{name}.json").read_text())  # noqa: E731
    return Listings(load("ps"), load("pods"), load("networks"), load("volumes"))


def test_plan_podman_from_recorded_listings() -> None:
    pod = "0a3f180d493a519a590a5f1897f53a2b0451cc17785f13c0266c00b1aa46dca5"
    marked = "cf5052e08a17a2438e6b3ffb302b95f974b1db16d6891deef0479de799eb597d"
    assert ownership.plan_podman([S], _recorded()) == [
        Step(("podman", "pod", "rm", "--force", "--time", "0", pod)),
        Step(("podman", "rm", "--force", "--time", "0", marked)),  # not the pod's infra
        Step(("podman", "network", "rm", "rec-net")),
        Step(("podman", "volume", "rm", "rec-vol")),
    ]


def test_plan_touches_nothing_unlabelled_or_alive() -> None:
    planned = {word for s in ownership.plan_podman([S], _recorded()) for word in s.argv}
    listing = _recorded()
    mine = next(c["Id"] for c in listing.containers if c["Names"] == ["podnet-mine"])
    live = next(c["Id"] for c in listing.containers if c["Names"] == ["rec-live"])
    for foreign in (mine, live, "podnet-mynet", "podnet-myvol"):
        assert foreign not in planned
    assert [s.argv[3:] for s in ownership.plan_podman([S], listing) if s.argv[1] == "network"] == [
        ("rec-net",)]
    assert ownership.plan_podman(["20990101T000000Z-cccccc"], listing) == []


def test_label_value_must_match_exactly() -> None:
    near = Listings(containers=[{"Id": "x", "Labels": {ownership.LABEL: S + "0"}},
                                {"Id": "y", "Labels": {ownership.LABEL + ".other": S}},
                                {"Id": "z", "Labels": None}])
    assert ownership.plan_podman([S], near) == []


def test_plan_files_units_in_order() -> None:
    files = [Written(f"{HOME}/.config/containers/systemd/podnet-web.container"),
             Written(f"{HOME}/.config/systemd/user/podnet-web.socket"),
             Written(f"{HOME}/.cache/podnet/podnet-web-abc123"),
             Written("/etc/systemd/system/podnet-web-system.service", root=True),
             Written("/etc/systemd/system/podnet-web-system.socket", root=True)]
    steps = ownership.plan_cleanup([S], Listings(containers=[{"Id": "c1", "Labels": {ownership.LABEL: S}}]),
                               files, user_unit_dirs=USER_DIRS, system_unit_dirs=SYSTEM_DIRS)
    assert steps == [
        Step(("systemctl", "--user", "stop", "--", "podnet-web.service", "podnet-web.socket")),
        Step(("systemctl", "stop", "--", "podnet-web-system.service", "podnet-web-system.socket"), True),
        Step(("podman", "rm", "--force", "--time", "0", "c1")),
        Step(("rm", "-rf", "--", *(f.path for f in files[:3]))),
        Step(("systemctl", "--user", "daemon-reload")),
        Step(("systemctl", "--user", "reset-failed", "--", "podnet-web.service", "podnet-web.socket")),
        Step(("rm", "-rf", "--", *(f.path for f in files[3:])), True),
        Step(("systemctl", "daemon-reload"), True),
        Step(("systemctl", "reset-failed", "--", "podnet-web-system.service",
              "podnet-web-system.socket"), True),
    ]


def test_plan_files_without_units_reloads_nothing() -> None:
    steps = ownership.plan_cleanup([S], Listings(), [Written("/tmp/podnet-x.pcap")],
                               user_unit_dirs=USER_DIRS, system_unit_dirs=SYSTEM_DIRS)
    assert steps == [Step(("rm", "-rf", "--", "/tmp/podnet-x.pcap"))]


def test_pid_files_stop_their_process_only_if_it_is_podnets() -> None:
    """A benchmark server left by a killed session is stopped before its pid file goes;
    pkill needs both the pid from the file and podnet's path in the command line."""
    files = [Written("/tmp/podnet-bench-abc123-iperf3.pid"),
             Written("/tmp/podnet-bench-abc123-sink.py")]
    steps = ownership.plan_cleanup([S], Listings(), files, user_unit_dirs=USER_DIRS,
                               system_unit_dirs=SYSTEM_DIRS)
    assert steps == [
        Step(("pkill", "--pidfile", "/tmp/podnet-bench-abc123-iperf3.pid",
              "--full", "/tmp/podnet-bench-abc123-")),
        Step(("rm", "-rf", "--", *(f.path for f in files))),
    ]


@pytest.mark.parametrize("path", ["/", "/tmp", "/home/", "tmp/x", "/home/test/../x", "/a//b", ""])
def test_unsafe_paths_never_planned(path: str) -> None:
    assert not ownership.safe_path(path)
    assert ownership.plan_cleanup([S], Listings(), [Written(path)], user_unit_dirs=USER_DIRS,
                              system_unit_dirs=SYSTEM_DIRS) == []


def test_unit_of() -> None:
    assert ownership.unit_of(f"{HOME}/.config/containers/systemd/n.network", USER_DIRS) == "n-network.service"
    assert ownership.unit_of(f"{HOME}/.config/systemd/user/a.service", USER_DIRS) == "a.service"
    assert ownership.unit_of(f"{HOME}/.config/systemd/user/sub/a.service", USER_DIRS) is None
    assert ownership.unit_of("/tmp/a.service", USER_DIRS) is None


def test_live_files_replay() -> None:
    conf = Written("/home/test/.cache/podnet/c1")
    events = [("wrote", conf), ("wrote", Written("/home/test/.cache/podnet/c1/default.conf")),
              ("wrote", Written("/tmp/a.pcap")), ("removed", conf),
              ("wrote", Written("/etc/systemd/system/u.service", True)),
              ("removed", Written("/etc/systemd/system/u.service", False))]
    assert ownership.live_files(events) == [Written("/tmp/a.pcap"),
                                        Written("/etc/systemd/system/u.service", True)]


def test_a_killed_sessions_server_is_stopped_before_its_directory_goes(tmp_path: Path) -> None:
    """A server outside containers outlives a killed session (up to its lifetime) and
    holds its port against the next session's server: the cleanup stops the processes
    running in the server's recorded directory, then removes it. Only processes whose
    working directory is exactly that directory are signalled (run for real here)."""
    import subprocess
    import sys

    server_dir = tmp_path / "podnet-srv.abc123"
    other_dir = tmp_path / "podnet-srv.abc1234"
    server_dir.mkdir()
    other_dir.mkdir()
    before, after = ownership.plan_files(
        [Written(str(server_dir), False)], user_unit_dirs=[], system_unit_dirs=[])
    assert after == [Step(("rm", "-rf", "--", str(server_dir)))]
    [stop] = before
    assert ownership.stop_server("/tmp/podnet-bench-abc123-iperf3.pid") is None
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    mine = subprocess.Popen(sleeper, cwd=server_dir)
    neighbour = subprocess.Popen(sleeper, cwd=other_dir)
    try:
        subprocess.run(stop.argv, check=True, timeout=30)
        assert mine.wait(timeout=10) != 0
        assert neighbour.poll() is None
    finally:
        for proc in (mine, neighbour):
            proc.kill()
            proc.wait()
