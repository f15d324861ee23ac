"""Ctrl-C during ``podnet verify`` stops the whole job (a release matrix too), takes down
the lab it started and leaves the run marked interrupted with what it gathered.

The lab is a stand-in that records what was asked of it; the checks are a real pytest
session (in this process, as verify runs it) whose one test records a claim result
and then gets Ctrl-C.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from harness import cli, verify
from harness.errors import UsageError

#: The plugin by its pytest11 entry point name, as for an installed podnet; one process
#: (-n 0): a KeyboardInterrupt raised inside a check stands for Ctrl-C only there (in an
#: xdist worker it is that worker's crash, and its other tests move to another worker).
PLUGIN = ["-p", "podnet", "-n", "0"]
INTERRUPTED_CHECK = '''
from harness.results.schema import ClaimResult


def test_first(recorder):
    recorder.add(ClaimResult(claim_id="demo.first", section="s", statement="st",
                             expected=True, observed=True, outcome="passed"))


def test_second():
    raise KeyboardInterrupt


def test_never_reached(recorder):
    recorder.add(ClaimResult(claim_id="demo.never", section="s", statement="st",
                             expected=True, observed=True, outcome="passed"))
'''


@dataclass
class FakeLab:
    """Stands in for harness.lab.lab: records calls, can be interrupted while up."""

    up_now: bool = False
    release: str = "trixie"
    interrupt_up: bool = False
    calls: list[str] = field(default_factory=list)

    def up(self, name: str, release: str, step: Any = None, *, replace: bool = False
           ) -> SimpleNamespace:
        self.calls.append(f"up {release}")
        if self.interrupt_up:
            raise KeyboardInterrupt
        booted = not (self.up_now and self.release == release)
        self.up_now, self.release = True, release
        return SimpleNamespace(booted=booted)

    def down(self, name: str) -> None:
        self.calls.append("down")
        self.up_now = False


@pytest.fixture
def fake_lab(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeLab:
    lab = FakeLab()
    monkeypatch.setattr(verify, "lab", lab)
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    # A module name of its own: the sessions of these tests share one interpreter.
    (scenarios / f"test_checks_{uuid.uuid4().hex}.py").write_text(INTERRUPTED_CHECK)
    monkeypatch.setattr(verify, "SCENARIOS", scenarios)
    for key in ("PODNET_RUN_ID", "PODNET_ROUNDS", "PODNET_TARGET", "PODNET_KEEP_LAB"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PODNET_STATE_DIR", str(tmp_path / "state"))  # locks, lab state
    return lab


def _runs(results: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(results.glob("*/run.json"))]


def _verify_code(results: Path, releases: list[str], keep_lab: bool = False) -> int:
    return verify.verify(releases=releases, lab_name="h1", quick=True, keep_lab=keep_lab,
                         results_root=results, marker=None, extra=PLUGIN)


def _verify(results: Path, releases: list[str]) -> None:
    _verify_code(results, releases)


def test_ctrl_c_in_the_checks_stops_the_matrix(fake_lab: FakeLab, tmp_path: Path) -> None:
    results = tmp_path / "results"
    with pytest.raises(verify.Interrupted, match="interrupted: 1 results kept in"):
        _verify(results, ["trixie", "sid"])
    assert fake_lab.calls == ["up trixie", "down"]  # sid's lab is never built
    [run] = _runs(results)
    assert run["status"] == "interrupted"
    assert [r["claim_id"] for r in run["results"]] == ["demo.first"]
    assert not list(results.glob("matrix-*"))
    run_dir = next(results.glob("*/run.json")).parent
    assert "interrupted" in (run_dir / "report.md").read_text()


def test_ctrl_c_while_the_lab_is_built(fake_lab: FakeLab, tmp_path: Path) -> None:
    fake_lab.interrupt_up = True
    results = tmp_path / "results"
    with pytest.raises(verify.Interrupted, match="the lab it started is down"):
        _verify(results, ["bookworm", "trixie"])
    assert fake_lab.calls == ["up bookworm", "down"]
    [run] = _runs(results)
    assert (run["status"], run["results"], run["environment"]) == (
        "interrupted", [], {"release": "bookworm"})


def test_ctrl_c_leaves_a_lab_it_did_not_start(fake_lab: FakeLab, tmp_path: Path) -> None:
    fake_lab.up_now = True
    with pytest.raises(verify.Interrupted, match="the lab is left up"):
        _verify(tmp_path / "results", ["trixie"])
    assert fake_lab.calls == ["up trixie"]


def test_the_command_prints_one_line_and_exits_130(
        fake_lab: FakeLab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PODNET_RESULTS", str(tmp_path / "results"))
    code = cli.main(["--name", "h1", "verify", "--release", "trixie,sid", "--", *PLUGIN])
    captured = capsys.readouterr()
    err = captured.err.splitlines()
    assert code == 130
    assert err[-1].startswith("podnet: interrupted: 1 results kept in ")
    assert "Traceback" not in "\n".join(err)
    assert fake_lab.calls == ["up trixie", "down"]


def test_failure_lines_print_values_with_markup_characters(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.results import store
    from harness.results.schema import ClaimResult, Run

    run = Run("r1", 1.0, results=[ClaimResult(
        claim_id="demo.x", section="s", statement="st", expected="[bold]",
        observed="[/x] closes nothing", outcome="failed", reason="see [/]")])
    store.save(run, tmp_path)
    assert verify._report(tmp_path, 1, 0.0) == 1
    err = capsys.readouterr().err
    assert "[/x] closes nothing" in err and "[bold]" in err


def test_a_module_that_does_not_import_stops_before_the_lab(fake_lab: FakeLab,
                                                            tmp_path: Path) -> None:
    next(verify.SCENARIOS.glob("test_*.py")).write_text("import no_such_module_here\n")
    with pytest.raises(UsageError, match="pytest refuses the checks' arguments"):
        _verify(tmp_path / "results", ["trixie"])
    assert fake_lab.calls == []


def test_nothing_selected_stops_before_the_lab(fake_lab: FakeLab, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no check is selected by -m 'throughput'"):
        verify.verify(releases=["trixie"], lab_name="h1", quick=True, keep_lab=False,
                      results_root=tmp_path / "results", marker="throughput", extra=PLUGIN)
    assert fake_lab.calls == []


def test_a_collection_error_is_not_an_interruption(
        fake_lab: FakeLab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pytest exits 2 for Ctrl-C and for a module that does not import (here: broken
    after the preflight): only Ctrl-C stops the job."""
    monkeypatch.setattr(verify, "preflight", lambda marker, extra: None)
    next(verify.SCENARIOS.glob("test_*.py")).write_text("import no_such_module_here\n")
    try:
        code = _verify_code(tmp_path / "results", ["trixie"])
    except verify.Interrupted as exc:
        pytest.fail(f"taken for Ctrl-C: {exc}")
    assert code != 0
    assert fake_lab.calls == ["up trixie", "down"]
