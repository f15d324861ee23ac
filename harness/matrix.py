"""The release matrix: the guide's statements across Podman versions, one column per run.

Rows are the registry's statements grouped by the guide's sections in the guide's
order; each cell says in words what that release showed and links to the result in
that release's own report. On top: the statements whose result changes across the
releases, with the release where it first changes, and a summary per release.
"""

from __future__ import annotations

import itertools
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from harness.bench.summary import PerformanceSummary, PerfRatio
from harness.claims import Registry
from harness.errors import PodnetError
from harness.guide_sections import position
from harness.reports.claim_list import claim_anchors
from harness.reports.render import method_titles
from harness.results import store
from harness.results.schema import ClaimResult, Run
from harness.words import Words, cell_words, outcome_words

#: A row: one claim, for one protocol ("" when the claim has none).
RowKey = tuple[str, str]
Key = TypeVar("Key")
Entry = TypeVar("Entry")
#: The per-release counts, in the order the summary shows them: each named by the words of
#: its first outcome (None: no result, "not run").
SUMMARY = (("passed",), ("failed",), ("unsupported",), ("inconclusive",),
           (None, "not_applicable", "skipped"), ("error",))


@dataclass(frozen=True)
class Column:
    """One run: a release, its versions, its results by row, and where its report is."""

    run: Run
    directory: Path

    @property
    def title(self) -> str:
        versions = self.run.environment.get("versions") or {}
        interrupted = ", interrupted" if self.run.status == "interrupted" else ""
        return (f"{self.run.release} (podman {versions.get('podman', '?')}, "
                f"pasta {versions.get('pasta', '?')}{interrupted})")

    def results(self) -> dict[RowKey, tuple[ClaimResult, str]]:
        """The last result of each row, with its anchor in the run's report."""
        anchors = claim_anchors(self.run.results)
        return {r.key: (r, a) for r, a in zip(self.run.results, anchors, strict=True)}

    def report(self, out: Path, anchor: str = "") -> str | None:
        """The link from the matrix directory ``out`` to this run's report."""
        page = self.directory / "report.html"
        if not page.exists():
            return None
        rel = os.path.relpath(page.resolve(), out.resolve())
        return rel + (f"#{anchor}" if anchor else "")


@dataclass(frozen=True)
class Cell:
    outcome: str | None  # None: no result for this row in this run
    detail: str  # the observation in words, or the reason
    link: str | None
    #: The row's claim is beyond the guide: "as documented" instead of "as the guide says".
    beyond_guide: bool = False

    @property
    def label(self) -> str:
        return outcome_words(self.outcome, self.beyond_guide)

    @property
    def text(self) -> str:
        return cell_words(self.outcome, self.detail, self.beyond_guide)


@dataclass(frozen=True)
class Row:
    key: RowKey
    section: str
    statement: str
    guide: str
    cells: tuple[Cell, ...]
    #: Not a statement of the guide (claims.Claim.beyond_guide): its expectation is the
    #: documentation's; not counted in the per-release summary of the guide's statements.
    beyond_guide: bool = False

    @property
    def expectation_label(self) -> str:
        """Whose expectation ``guide`` is: "the guide", or "documented"."""
        return "documented" if self.beyond_guide else "the guide"

    @property
    def differs(self) -> bool:
        return any(c.outcome in ("failed", "unsupported", "error") for c in self.cells)


@dataclass(frozen=True)
class Change:
    """A row whose outcome changes between two neighbouring columns that both ran it."""

    row: Row
    before: int  # column index
    after: int


@dataclass(frozen=True)
class Matrix:
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    out: Path

    def sections(self) -> list[tuple[str, list[Row]]]:
        grouped: dict[str, list[Row]] = {}
        for row in self.rows:
            grouped.setdefault(row.section, []).append(row)
        return list(grouped.items())

    def changes(self) -> list[tuple[Row, list[Change]]]:
        """The rows whose outcome changes across the columns, with each change."""
        return [(row, found) for row in self.rows if (found := changes_of(row))]

    def differ_throughout(self) -> list[Row]:
        """Rows that differ from the guide on every release that checked them."""
        checked = [[c for c in row.cells if c.outcome not in (None, "error")]
                   for row in self.rows]
        return [row for row, cells in zip(self.rows, checked, strict=True)
                if cells and all(c.outcome == "failed" for c in cells)]

    def summary(self, index: int) -> list[tuple[str, int]]:
        """The guide's statements per outcome word for column ``index`` (rows it lacks
        count as not run; rows beyond the guide are not the guide's)."""
        outcomes = [row.cells[index].outcome for row in self.rows if not row.beyond_guide]
        return [(outcome_words(kinds[0]), sum(o in kinds for o in outcomes)) for kinds in SUMMARY]

    def ratios(self) -> list[tuple[PerfRatio, list[PerfRatio | None]]]:
        """Performance ratios side by side: each ratio once, with every column's entry."""
        aligned = side_by_side([{e.key: e for e in PerformanceSummary.of(c.run).ratios}
                                for c in self.columns])
        return [(next(e for e in entries if e is not None), entries)
                for entries in aligned.values()]


def side_by_side(per_column: Sequence[dict[Key, Entry]]) -> dict[Key, list[Entry | None]]:
    """Each key of the columns once, in the order first seen, with every column's entry
    (None where a column has none)."""
    keys = dict.fromkeys(key for entries in per_column for key in entries)
    return {key: [entries.get(key) for entries in per_column] for key in keys}


def changes_of(row: Row) -> list[Change]:
    """Where ``row``'s outcome changes (:func:`change_points`)."""
    return [Change(row, a, b) for a, b in change_points([c.outcome for c in row.cells])]


def change_points(outcomes: Sequence[str | None]) -> list[tuple[int, int]]:
    """Where a sequence of outcomes changes, as (before, after) indexes: between results
    that both say something about podman (None: no result; an error is the harness's,
    shown in its cell and counted in the summary, never a change of the guide's
    statement)."""
    ran = [i for i, outcome in enumerate(outcomes) if outcome not in (None, "error")]
    return [(a, b) for a, b in itertools.pairwise(ran) if outcomes[a] != outcomes[b]]


def build(columns: list[Column], registry: Registry, out: Path) -> Matrix:
    """The matrix of ``columns``: rows in the guide's order (the order of the guide's
    sections, then the registry's order within a section)."""
    words = Words(registry)
    order = {c.id: i for i, c in enumerate(registry.claims)}
    aligned = side_by_side([c.results() for c in columns])
    # A row reads as its first column's result.
    first = {key: next(f[0] for f in found if f is not None) for key, found in aligned.items()}
    protocols = Counter(claim_id for claim_id, _ in aligned)

    def sort_key(key: RowKey) -> tuple[int, int, str, str]:
        claim = words.claim(key[0])
        section = claim.section if claim else first[key].section
        return (position(claim.anchor if claim else None, section),
                order.get(key[0], len(order)), key[0], key[1])

    rows = []
    for key in sorted(first, key=sort_key):
        result, claim = first[key], words.claim(key[0])
        statement = words.statement(result)
        if protocols[key[0]] > 1 and key[1]:
            statement += f" ({key[1].upper()})"
        beyond = claim is not None and claim.beyond_guide
        cells = tuple(Cell(found[0].outcome, words.detail(found[0]),
                           column.report(out, found[1]), beyond) if found
                      else Cell(None, "", column.report(out), beyond)
                      for column, found in zip(columns, aligned[key], strict=True))
        rows.append(Row(key, claim.section if claim else result.section, statement,
                        words.guide(result), cells, beyond))
    return Matrix(tuple(columns), tuple(rows), out)


def ratio_words(entry: PerfRatio | None) -> str:
    if entry is None:
        return "not measured"
    interval = (f"95% interval {entry.low:.3f} to {entry.high:.3f}"
                if entry.low < entry.high else "no interval: too few rounds")
    split = ", split into two groups of rounds" if entry.split else ""
    return f"{entry.median:.3f} ({interval}{split})"


def ratio_label(entry: PerfRatio) -> str:
    """A ratio named as the guide names its method: "throughput of pasta, inbound TCP,
    relative to native"."""
    titles = method_titles()
    where = " ".join(p for p in (entry.direction, entry.protocol.upper()) if p)
    reference = titles.get(entry.reference, entry.reference) or "native"
    return (f"{entry.kind} of {titles.get(entry.method, entry.method)}"
            + (f", {where}" if where else "") + f", relative to {reference}")


def read_column(run_dir: Path) -> Column:
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
    return Column(run, run_dir if run_dir.is_dir() else run_dir.parent)
