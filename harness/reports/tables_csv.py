"""The run as CSV (pandas): one row per claim result, one row per measurement."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harness.atomic import write_text
from harness.claims import Registry
from harness.results.schema import Run

RESULT_COLUMNS = [
    "claim_id", "outcome", "method", "protocol", "expected", "observed", "reason",
    "section", "table", "column", "statement", "setup_seconds", "test", "evidence",
]
MEASUREMENT_COLUMNS = ["kind", "method", "direction", "protocol", "round", "value", "unit",
                       "extra"]


def _cell(value: Any) -> Any:
    """Strings and numbers as they are; everything else (bools, lists, None) as JSON."""
    if isinstance(value, str) or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def _csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    import pandas as pd  # on use: not when the suites are collected

    return str(pd.DataFrame(rows, columns=columns).to_csv(index=False))


def _result_rows(run: Run, registry: Registry | None) -> list[dict[str, Any]]:
    claims = {c.id: c for c in registry.claims} if registry else {}
    rows = []
    for r in run.results:
        claim = claims.get(r.claim_id)
        row = {**asdict(r), "method": r.method or "", "protocol": r.protocol or "",
               "table": (claim.table or "") if claim else "",
               "column": (claim.column or "") if claim else ""}
        rows.append({k: v if k == "setup_seconds" else _cell(v) for k, v in row.items()})
    return rows


def write(run: Run, directory: Path, registry: Registry | None = None) -> list[Path]:
    measurements = [{**asdict(m), "extra": _cell(m.extra)} for m in run.measurements]
    return [write_text(directory / "results.csv",
                       _csv(_result_rows(run, registry), RESULT_COLUMNS)),
            write_text(directory / "measurements.csv", _csv(measurements, MEASUREMENT_COLUMNS))]
