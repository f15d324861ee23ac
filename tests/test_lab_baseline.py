"""harness.lab.baseline: comparing host1 with the baseline ``up`` recorded (the JSON
``up`` wrote for a lab's host1) and planning the restore a killed session needs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from harness.lab import baseline
from harness.lab.baseline import NotRestored, Snapshot, plan
from harness.run import Completed
from harness.targets.base import Target

FIXTURE = Path(__file__).parent / "fixtures" / "baseline" / "host1.json"
KEY = "net.ipv4.ip_unprivileged_port_start"


@pytest.fixture
def base() -> Snapshot:
    return Snapshot.from_json(FIXTURE.read_text())


def _without_defaults(snapshot: Snapshot, port_start: str = "80") -> Snapshot:
    """What a session killed inside routes_removed(only_default) and sysctl_set leaves."""
    return Snapshot(tuple(r for r in snapshot.routes if not r.is_default), {KEY: port_start})


class Recording(Target):
    isolated = True

    def __init__(self) -> None:
        self.name, self.user, self.uid, self.home = "lab:test", "test", 1000, "/home/test"
        self.main_address = "192.0.2.1"
        self.commands: list[tuple[str, ...]] = []

    def run(self, argv: Sequence[str], *, root: bool = False, check: bool = True,
            input: str | None = None, timeout: float | None = 120,
            stdin_path: str | None = None) -> Completed:
        assert root, "host1's routes and settings are root's"
        self.commands.append((*argv, *([input.strip()] if input else [])))
        return Completed(tuple(argv), 0, "", "", 0.0)


def test_the_recording_round_trips(base: Snapshot) -> None:
    assert Snapshot.from_json(base.to_json()) == base
    assert {r.family for r in base.routes} == {"-4", "-6"}
    assert base.sysctls == {KEY: "1024"}


def test_an_untouched_host1_needs_nothing(base: Snapshot) -> None:
    assert not plan(base, base)
    assert plan(base, base).describe() == ""


def test_missing_default_routes_and_a_lowered_port_setting(base: Snapshot) -> None:
    changes = plan(base, _without_defaults(base))
    assert [(r.family, r.is_default) for r in changes.add] == [("-4", True), ("-6", True)]
    assert changes.delete == ()
    assert changes.sysctls == ((KEY, "80", "1024"),)
    text = changes.describe()
    assert "route missing: -4 default via 192.0.2.10 dev eth0" in text
    assert f"{KEY} is 80, baseline 1024" in text


def test_a_flushed_table_gets_prefix_routes_before_gateways(base: Snapshot) -> None:
    changes = plan(base, Snapshot((), dict(base.sysctls)))
    assert len(changes.add) == len(base.routes)
    through_gateway = ["gateway" in r.spec for r in changes.add]
    assert through_gateway == sorted(through_gateway), "prefix routes first"
    assert not changes.sysctls


def test_routes_not_in_the_baseline_are_removed(base: Snapshot) -> None:
    extra = Snapshot.from_json(base.to_json().replace('"dst": "default"',
                                                      '"dst": "203.0.113.0/24"', 1))
    changes = plan(base, extra)
    assert [r.spec["dst"] for r in changes.delete] == ["203.0.113.0/24"]
    assert [r.spec["dst"] for r in changes.add] == ["default"]


def test_apply_deletes_then_adds_then_sets(base: Snapshot) -> None:
    extra = Snapshot.from_json(base.to_json().replace('"dst": "default"',
                                                      '"dst": "203.0.113.0/24"', 1))
    current = Snapshot(extra.routes, {KEY: "80"})
    target = Recording()
    baseline.apply(target, plan(base, current))
    assert target.commands[0][:5] == ("ip", "-4", "route", "del", "203.0.113.0/24")
    assert target.commands[1][:6] == ("ip", "-4", "route", "append", "default", "via")
    assert target.commands[-1] == ("sh", "-c", "cat > /proc/sys/net/ipv4/ip_unprivileged_port_start",
                                   "1024")


def test_restore_applies_and_checks_again(base: Snapshot, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = iter([_without_defaults(base), base])
    monkeypatch.setattr(baseline, "capture", lambda target: next(seen))
    target = Recording()
    changes = baseline.restore(target, base)
    assert changes and len(target.commands) == 3


def test_restore_of_an_untouched_host1_runs_nothing(base: Snapshot,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(baseline, "capture", lambda target: base)
    target = Recording()
    assert not baseline.restore(target, base)
    assert target.commands == []


def test_a_restore_that_does_not_hold_is_an_error(base: Snapshot,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(baseline, "capture", lambda target: _without_defaults(base))
    with pytest.raises(NotRestored, match="route missing: -4 default"):
        baseline.restore(Recording(), base)


def test_a_missing_or_damaged_baseline_is_none(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODNET_STATE_DIR", str(tmp_path / "state"))
    assert baseline.load("h3t") is None
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "h3t.baseline").write_text('{"routes": 3}')
    assert baseline.load("h3t") is None
