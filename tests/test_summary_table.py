"""podnet verify's summary table: every area name readable on an 80-column console."""

from __future__ import annotations

from rich.console import Console

from harness.results.schema import ClaimResult, Run
from harness.ui import summary_table

AREAS = ("reverse-proxy.socket-activation", "inbound.quoted-address", "ports.troubleshooting")


def _run() -> Run:
    run = Run("r", 0.0)
    for outcome, area in zip(("passed", "failed", "not_applicable"), AREAS, strict=True):
        run.results.append(ClaimResult(f"{area}.x", "s", "statement", True, True, outcome))
    return run


def test_area_names_are_whole_at_80_columns() -> None:
    console = Console(width=80, record=True)
    console.print(summary_table(_run()))
    text = console.export_text()
    assert all(area in text for area in AREAS)
    assert "…" not in text
