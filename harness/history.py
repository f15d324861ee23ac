"""``podnet history RUN...``: the guide's statements and the performance ratios over many
runs (the nightly runs of each release), read into pandas.

Every run's results become rows of one DataFrame (run, release, start, claim, protocol,
outcome) and every performance ratio a row of another (run, release, start, ratio,
median, interval). Runs are ordered by their start per release, so the history of a
statement is its outcome in each run of that release, oldest first, and it *changes* in
the first run whose outcome differs from the run before that checked it (as in the
release matrix, an error is the harness's and never a change). ``history-<time>/`` holds:

- ``history.md``: the runs, the statements whose outcome changed with the first run
  where it did, every statement's sequence, and per ratio its medians with intervals;
- ``outcomes.csv``: per statement and release, its outcomes oldest first (``-``: not
  run), the first run where it changed and how often it changed;
- ``ratios.csv``: every ratio of every run with its 95% interval;
- ``ratio-<kind>-<method>-<direction>-<protocol>.png``: per ratio, its median over the
  runs with the interval as error bars, one line per release.
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from harness.atomic import write_directory
from harness.bench.summary import PerformanceSummary, PerfRatio
from harness.claims import Registry, load_default
from harness.errors import PodnetError
from harness.guide.revisions import record_label
from harness.markup import Grid, Heading, Para, counted, to_markdown
from harness.matrix import change_points, ratio_label, ratio_words
from harness.reports.charts import series_chart
from harness.results import store
from harness.words import Words, outcome_words

RUN_COLUMNS = ["run_id", "release", "started", "podman", "status", "guide"]
OUTCOME_COLUMNS = ["run_id", "release", "started", "claim_id", "protocol", "statement",
                   "outcome"]
RATIO_COLUMNS = ["run_id", "release", "started", "ratio", "kind", "method", "direction",
                 "protocol", "reference", "median", "low", "high"]


@dataclass(frozen=True)
class History:
    """The runs (oldest first), their claim results and their ratios as DataFrames."""

    runs: pd.DataFrame
    outcomes: pd.DataFrame
    ratios: pd.DataFrame


def load(run_dirs: list[Path], registry: Registry | None = None) -> History:
    """Read every run directory (a missing or malformed one is one line, before anything
    is written). A statement with several results in one run keeps the last, as the
    matrix does."""
    words = Words(registry or load_default())
    runs, outcomes, ratios = [], [], []
    seen: dict[str, Path] = {}
    for directory in run_dirs:
        run = store.load(directory)
        release = run.release
        if run.run_id in seen:
            raise PodnetError(f"run {run.run_id} is given twice ({seen[run.run_id]} and "
                              f"{directory}): name each run once")
        seen[run.run_id] = directory
        versions = run.environment.get("versions") or {}
        podman = str(versions.get("podman", "?")) if isinstance(versions, dict) else "?"
        runs.append((run.run_id, release, run.started, podman, run.status,
                     record_label(run.guide)))
        last = {r.key: r for r in run.results}
        outcomes += [(run.run_id, release, run.started, claim_id, protocol,
                      words.statement(r) + (f" ({protocol.upper()})" if protocol else ""),
                      r.outcome) for (claim_id, protocol), r in last.items()]
        ratios += [(run.run_id, release, run.started, ratio_label(e), e.kind, e.method,
                    e.direction, e.protocol, e.reference, e.median, e.low, e.high)
                   for e in PerformanceSummary.of(run).ratios]
    order = ["release", "started", "run_id"]
    return History(
        pd.DataFrame(runs, columns=RUN_COLUMNS).sort_values(order, ignore_index=True),
        pd.DataFrame(outcomes, columns=OUTCOME_COLUMNS).sort_values(order, ignore_index=True),
        pd.DataFrame(ratios, columns=RATIO_COLUMNS).sort_values(order, ignore_index=True))


def statement_histories(history: History) -> pd.DataFrame:
    """One row per statement (claim and protocol) and release: its outcome in each run of
    that release oldest first (None: not run), the first run where it changed ("" if it
    never did) and how often it changed."""
    rows = []
    for release, runs in history.runs.groupby("release", sort=True):
        run_ids = list(runs["run_id"])
        of_release = history.outcomes[history.outcomes["release"] == release]
        table = of_release.pivot(index=["claim_id", "protocol"], columns="run_id",
                                 values="outcome").reindex(columns=run_ids)
        statements = of_release.groupby(["claim_id", "protocol"])["statement"].last()
        for (claim_id, protocol), sequence in table.iterrows():
            outcomes = [None if pd.isna(o) else str(o) for o in sequence]
            changed = [after for _, after in change_points(outcomes)]
            rows.append((release, claim_id, protocol, statements[(claim_id, protocol)],
                         outcomes, run_ids[changed[0]] if changed else "", len(changed)))
    return pd.DataFrame(rows, columns=["release", "claim_id", "protocol", "statement",
                                       "outcomes", "first_change", "changes"])


def chart_name(row: pd.Series) -> str:
    """``ratio-<kind>-<method>-<direction>-<protocol>.png``, also naming the reference
    when it is not the native one."""
    parts = [row["kind"], row["method"], row["direction"], row["protocol"]]
    if row["reference"] not in ("", "native"):
        parts.append(f"to-{row['reference']}")
    slug = re.sub(r"[^a-z0-9]+", "-", "-".join(str(p) for p in parts if p).lower()).strip("-")
    return f"ratio-{slug}.png"


def _arrow(items: list[str]) -> str:
    return " → ".join(items)


def sequence_words(outcomes: list[str | None]) -> str:
    """A statement's results in words, oldest first, repeats counted: "as the guide says
    (29 runs) → differs" (a month of nights stays one short cell)."""
    return _arrow([outcome_words(o) + (f" ({n} runs)" if (n := len(list(group))) > 1 else "")
                   for o, group in itertools.groupby(outcomes)])


def _run_title(history: History, run_id: str) -> str:
    run = history.runs[history.runs["run_id"] == run_id].iloc[0]
    day = time.strftime("%Y-%m-%d", time.gmtime(float(run["started"])))
    interrupted = ", interrupted" if run["status"] == "interrupted" else ""
    return f"{run_id} ({day}, podman {run['podman']}{interrupted})"


def markdown(history: History, statements: pd.DataFrame, charts: dict[str, str]) -> str:
    runs = history.runs
    changed = statements[statements["changes"] > 0]
    ratios = [[str(label), str(release),
               _arrow([ratio_words(_entry(r)) for r in group.itertuples()]),
               f"![chart]({charts[label]})"]
              for (label, release), group in history.ratios.groupby(["ratio", "release"], sort=True)]
    return "\n".join(to_markdown([
        Heading(1, f"History of {counted(len(runs), 'run')} of "
                   f"{counted(runs['release'].nunique(), 'release')}"),
        Para(f"Guide: {', '.join(dict.fromkeys(runs['guide']))}"),
        Grid(["release", "runs", "oldest first"], [
            [str(release), str(len(group)),
             _arrow([_run_title(history, r) for r in group["run_id"]])]
            for release, group in runs.groupby("release", sort=True)]),
        Heading(2, f"Statements whose result changed ({len(changed)})"),
        Grid(["release", "statement", "results, oldest first", "first changed in"], [
            [r.release, r.statement, sequence_words(r.outcomes),
             _run_title(history, r.first_change)] for r in changed.itertuples()])
        if len(changed) else Para("No statement changed its result."),
        Heading(2, f"Every statement ({len(statements)} rows)"), Para("<details>"),
        Grid(["release", "statement", "results, oldest first"], [
            [r.release, r.statement, sequence_words(r.outcomes)]
            for r in statements.itertuples()]), Para("</details>"),
        Heading(2, f"Ratios ({len(charts)})"),
        Grid(["ratio", "release", "median and interval, oldest first", "chart"], ratios)
        if ratios else Para("No run has performance ratios.")]))


def _entry(row: Any) -> PerfRatio:
    """A row of ``History.ratios`` as the entry the matrix words it from."""
    return PerfRatio(row.method, row.direction, row.protocol, float(row.median),
                     float(row.low), float(row.high), kind=row.kind, reference=row.reference)


def render_history(run_dirs: list[Path], results_root: Path,
                   registry: Registry | None = None) -> list[Path]:
    """Write ``history-<time>/`` under ``results_root`` (every run is read first; a failed
    write removes the directory)."""
    history = load(run_dirs, registry)
    statements = statement_histories(history)
    charts: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for label, group in history.ratios.groupby("ratio", sort=True):
        name = chart_name(group.iloc[0])
        charts[str(label)] = name
        files[name] = series_chart(group, str(label))
    table = statements.assign(outcomes=statements["outcomes"].map(
        lambda seq: " ".join(o or "-" for o in seq)))
    files = {"history.md": markdown(history, statements, charts).encode(),
             "outcomes.csv": table.to_csv(index=False).encode(),
             "ratios.csv": history.ratios.to_csv(index=False).encode(), **files}
    out = results_root / f"history-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
    return write_directory(out, files, results_root)
