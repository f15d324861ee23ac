"""podnet verify judges the guide: podnet's proofs of itself (the lab's mechanics, the
workstation and ssh targets, marker ``proof``) run with podnet's own tests, never in
verify, whatever the marker expression."""

from __future__ import annotations

import sys

import pytest

from harness import verify
from harness.errors import UsageError
from harness.run import run

PROOFS = ("test_lab.py", "test_workstation.py", "test_ssh_target.py")


def _collected(expression: str | None) -> list[str]:
    argv = [sys.executable, "-m", "pytest", str(verify.SCENARIOS), "--collect-only", "-q",
            "-p", "podnet", *verify.QUIET_PLUGINS, *(["-m", expression] if expression else [])]
    done = run(argv, check=False, timeout=300)
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_verify_collects_no_proof() -> None:
    everything, verified = _collected(None), _collected(verify.guide_checks(None))
    assert {f for f in PROOFS if any(f"/{f}::" in n for n in everything)} == set(PROOFS)
    assert [n for n in verified if any(f"/{f}::" in n for f in PROOFS)] == []
    assert any("test_source_address.py::" in n for n in verified)


def test_the_investigations_run_in_verify_when_asked() -> None:
    assert verify.guide_checks(None) == "not proof and not cost_curves and not pasta_stall"
    assert verify.guide_checks("cost_curves") == "(cost_curves) and not proof"


def test_a_marker_cannot_bring_a_proof_into_verify() -> None:
    assert verify.guide_checks("source_address") == "(source_address) and not proof"
    with pytest.raises(UsageError, match=r"no check is selected by -m 'workstation'.*proof"):
        verify.preflight("workstation", [])
