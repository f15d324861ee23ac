"""Judging one registry claim in a unit test: a fresh recorder checks an observation
against the claim's expected value (raising ClaimMismatch when it does not hold)."""

from __future__ import annotations

from pathlib import Path

from harness.claims import load_default
from harness.results.recorder import Recorder
from harness.results.schema import Run


def check(claim_id: str, observed: object, tmp_path: Path) -> None:
    Recorder(Run("r", 0.0), tmp_path).check(load_default().get(claim_id), observed)
