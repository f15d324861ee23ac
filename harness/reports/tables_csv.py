"""The run as CSV (pandas): one row per claim result, one row per measurement."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.atomic import write_text
from harness.claims import Registry
from harness.results.schema import Run

if TYPE_CHECKING:
    import pandas as pd

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


def results_frame(run: Run, registry: Registry | None = None) -> pd.DataFrame:
    claims = {c.id: c for c in registry.claims} if registry else {}
    rows = []
    for r in run.results:
        claim = claims.get(r.claim_id)
        row = {**asdict(r), "method": r.method or "", "protocol": r.protocol or "",
               "table": (claim.table or "") if claim else "",
               "column": (claim.column or "") if claim else ""}
        rows.append({k: v if k == "setup_seconds" else _cell(v) for k, v in row.items()})
    import pandas as pd  # on use: not when the suites are collected

    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def measurements_frame(run: Run) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame([{**asdict(m), "extra": _cell(m.extra)} for m in run.measurements],
                        columns=MEASUREMENT_COLUMNS)


def write(run: Run, directory: Path, registry: Registry | None = None) -> list[Path]:
    return [write_text(directory / "results.csv", results_frame(run, registry).to_csv(index=False)),
            write_text(directory / "measurements.csv", measurements_frame(run).to_csv(index=False))]
