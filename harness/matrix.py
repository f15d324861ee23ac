"""The release matrix: the same claims across Podman versions, one column per run."""

from __future__ import annotations

import html
import time
from dataclasses import dataclass
from pathlib import Path

from harness.atomic import write_text
from harness.errors import PodnetError
from harness.fsguard import remove_tree
from harness.results import store
from harness.results.schema import ClaimResult, Run

SYMBOL = {"passed": "✔ holds", "failed": "✘ differs", "error": "error", "skipped": "skipped",
          "not_applicable": "n/a"}


@dataclass(frozen=True)
class Column:
    run: Run

    @property
    def title(self) -> str:
        env = self.run.environment
        versions = env.get("versions") or {}
        return (f"{env.get('release', '?')} (podman {versions.get('podman', '?')}, "
                f"pasta {versions.get('pasta', '?')})")

    def cell(self, key: str) -> ClaimResult | None:
        found = [r for r in self.run.results if _key(r) == key]
        return found[-1] if found else None


def _key(result: ClaimResult) -> str:
    return result.claim_id + (f" [{result.protocol}]" if result.protocol else "")


def _text(result: ClaimResult | None) -> str:
    if result is None:
        return "not run"
    text = SYMBOL.get(result.outcome, result.outcome)
    if result.outcome in ("passed", "failed"):
        text += f" ({result.observed!r})"
    elif result.reason:
        text += f": {result.reason}"
    return text


def _html_cell(result: ClaimResult | None) -> str:
    outcome = result.outcome if result else "none"
    return f"<td class='{outcome}'>{html.escape(_text(result))}</td>"


def changes(columns: list[Column], keys: list[str]) -> list[str]:
    """Claims whose outcome changes across the matrix, and where it changes."""
    found = []
    for key in keys:
        previous: tuple[str, str] | None = None
        for col in columns:
            result = col.cell(key)
            outcome = result.outcome if result else "not run"
            if previous is not None and outcome != previous[0]:
                found.append(f"{key}: {previous[0]} on {previous[1]} → {outcome} on {col.title}")
            previous = (outcome, col.title)
    return found


def _column(run_dir: Path) -> Column:
    """A run as a column; its environment must name the release and versions as the
    schema says (docs/results-schema.md), or the matrix would mislabel it."""
    run = store.load(run_dir)
    env = run.environment
    versions = env.get("versions", {})
    if not isinstance(versions, dict) or not all(
            isinstance(v, str | int | float | type(None)) for v in versions.values()):
        raise PodnetError(f"{run_dir}: environment.versions is not an object of version "
                          "strings; re-record the run or fix its run.json")
    if not isinstance(env.get("release", ""), str):
        raise PodnetError(f"{run_dir}: environment.release is not a string; re-record the "
                          "run or fix its run.json")
    return Column(run)


def render_matrix(run_dirs: list[Path], results_root: Path) -> list[Path]:
    """Write ``matrix-<time>/matrix.md`` and ``matrix.html`` under ``results_root``. Every
    run is read and checked before the directory is made; a failed write removes it."""
    columns = [_column(d) for d in run_dirs]
    keys = sorted({_key(r) for c in columns for r in c.run.results})
    statements = {_key(r): r.statement for c in columns for r in c.run.results}
    changed = changes(columns, keys)
    md = ["# podnet release matrix", "", "| claim | " + " | ".join(c.title for c in columns) + " |",
          "|-|" + "-|" * len(columns)]
    for key in keys:
        md.append(f"| {key} | " + " | ".join(_text(c.cell(key)).replace("|", "\\|")
                                             for c in columns) + " |")
    md += ["", "## Claims that change across the matrix", ""]
    md += [f"- {line}" for line in changed] or ["- none"]
    rows = "".join(
        f"<tr><th title='{html.escape(statements.get(k, ''))}'>{html.escape(k)}</th>"
        + "".join(_html_cell(c.cell(k)) for c in columns) + "</tr>"
        for k in keys)
    head = "".join(f"<th>{html.escape(c.title)}</th>" for c in columns)
    items = "".join(f"<li>{html.escape(line)}</li>" for line in changed) or "<li>none</li>"
    page = (
        "<!doctype html><meta charset='utf-8'><title>podnet release matrix</title><style>"
        "body{font-family:sans-serif}td,th{border:1px solid #ccc;padding:4px;font-size:13px}"
        "table{border-collapse:collapse}.passed{background:#dfd}.failed,.error{background:#fdd}"
        ".not_applicable,.skipped{background:#eee}</style><h1>podnet release matrix</h1>"
        f"<table><tr><th>claim</th>{head}</tr>{rows}</table>"
        f"<h2>Claims that change across the matrix</h2><ul>{items}</ul>")
    return _write(results_root, {"matrix.md": "\n".join(md) + "\n", "matrix.html": page})


def _write(results_root: Path, files: dict[str, str]) -> list[Path]:
    out = results_root / f"matrix-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
    made = not out.exists()
    try:
        return [write_text(out / name, text) for name, text in files.items()]
    except PodnetError:
        if made:
            remove_tree(out, results_root)
        raise
