"""What a report shows, independent of its format: the guide's tables with observed cells.

A cell of a guide table is the set of claims whose ``table``/``column``/``method`` name
it. The guide repeats some columns in several tables (``native performance`` is in the
overview and in the performance table); a table without claims of its own for a column
shows the results of the claims for the same column and method in another table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from harness.claims import Claim, Registry
from harness.markup import Block, Break, Code, Grid, Heading, Inline, Notes, Para, Ref
from harness.markup import Cell as MarkupCell
from harness.results.schema import ClaimResult, Run

CHECK, CROSS = "✔", "✘"
WARN = "⚠"


def show_value(value: Any) -> str:
    """A value as the guide writes it: booleans as ✔/✘, lists comma-separated."""
    if value is True:
        return CHECK
    if value is False:
        return CROSS
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, list | tuple):
        return ", ".join(show_value(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class Note:
    """A footnote: why a cell was not checked (not applicable, skipped, error)."""

    outcome: str
    text: str


NOTE_WORDS = {"not_applicable": "not applicable", "skipped": "skipped", "error": "error",
              "inconclusive": "inconclusive", "unsupported": "unsupported (podman's message)"}


@dataclass
class Footnotes:
    """Numbered footnotes, one per distinct reason, shared by all tables of a report."""

    notes: dict[Note, int] = field(default_factory=dict)

    def number(self, note: Note) -> int:
        return self.notes.setdefault(note, len(self.notes) + 1)

    def items(self) -> list[tuple[int, str]]:
        return [(n, f"{NOTE_WORDS.get(note.outcome, note.outcome)}: {note.text}")
                for note, n in self.notes.items()]


@dataclass
class Part:
    """One result inside a cell (one protocol, say)."""

    label: str
    outcome: str
    observed: str
    guide: str
    note: Note | None = None

    @property
    def differs(self) -> bool:
        return self.outcome == "failed"


@dataclass
class Cell:
    guide: str
    parts: list[Part] = field(default_factory=list)
    has_claim: bool = True

    @property
    def differs(self) -> bool:
        return any(p.differs for p in self.parts)

    @property
    def state(self) -> str:
        """One word for styling: differs, agrees, untested, no-claim."""
        if not self.has_claim:
            return "no-claim"
        if self.differs:
            return "differs"
        if any(p.outcome == "error" for p in self.parts):
            return "error"
        if self.parts and all(p.outcome == "passed" for p in self.parts):
            return "agrees"
        return "untested"


@dataclass
class Table:
    id: str
    title: str
    section: str
    anchor: str
    columns: list[str]
    rows: list[tuple[str, str]]  # (row id, row title)
    cells: dict[tuple[str, str], Cell]


def _part(result: ClaimResult, label: str) -> Part:
    guide = show_value(result.expected)
    if result.outcome not in NOTE_WORDS:
        return Part(label, result.outcome, show_value(result.observed), guide)
    # An outcome that decided nothing: the cell names it, its footnote says why.
    word = "n/a" if result.outcome == "not_applicable" else result.outcome
    return Part(label, result.outcome, word, guide,
                Note(result.outcome, result.reason or "(no reason recorded)"))


def _labels(results: list[ClaimResult]) -> list[str]:
    """Tell apart several results of one claim: by protocol, numbered if repeated."""
    labels = [r.protocol or "" for r in results]
    seen: dict[str, int] = {}
    for i, label in enumerate(labels):
        if labels.count(label) > 1:
            seen[label] = seen.get(label, 0) + 1
            labels[i] = f"{label} #{seen[label]}".strip()
    return labels


def _claim_labels(claims: list[Claim]) -> list[str]:
    """Short names for several claims in one cell: their ids without the common prefix."""
    if len(claims) < 2:
        return [""]
    split = [c.id.split(".") for c in claims]
    common = 0
    while all(len(s) > common + 1 and s[common] == split[0][common] for s in split):
        common += 1
    return [".".join(s[common:]) for s in split]


def build_cell(claims: list[Claim], results_by_claim: dict[str, list[ClaimResult]],
               text: str = "") -> Cell:
    """The cell of ``claims``; ``text`` is what the guide writes in a cell no claim
    checks (a comment, say)."""
    if not claims:
        return Cell(guide=text, has_claim=False)
    cell = Cell(guide=" / ".join(dict.fromkeys(show_value(c.expected) for c in claims)))
    for claim, name in zip(claims, _claim_labels(claims), strict=True):
        results = results_by_claim.get(claim.id, [])
        for result, label in zip(results, _labels(results), strict=True):
            cell.parts.append(_part(result, " ".join(p for p in (name, label) if p)))
    return cell


def shown_parts(cell: Cell) -> list[Part]:
    """The parts a cell shows: one, unlabelled, when every result reads the same."""
    unlabelled = [replace(part, label="") for part in cell.parts]
    return unlabelled[:1] if all(p == unlabelled[0] for p in unlabelled) else cell.parts


def _row_title(row: str, titles: dict[str, str], table: dict[str, Any]) -> str:
    custom = table.get("row_titles", {})
    if isinstance(custom, dict) and row in custom:
        return str(custom[row])
    return titles.get(row, row)


def build_tables(run: Run, registry: Registry, titles: dict[str, str]) -> list[Table]:
    """One :class:`Table` per ``[table.*]`` of the registry, in registry order."""
    results_by_claim = group_results(run.results)
    tables = []
    for table_id, spec in registry.tables.items():
        columns = [str(c) for c in spec.get("columns", [])]
        rows = [(str(r), _row_title(str(r), titles, spec)) for r in spec.get("rows", [])]
        cells = {}
        row_key = spec.get("row_key")
        for row, _ in rows:
            in_row = [c for c in registry.claims if c.table == table_id
                      and _row_of(c, row_key) == row]
            for column in columns:
                claims = [c for c in in_row if c.column == column] or (
                    [] if row_key else _same_cell_elsewhere(registry, spec, column, row))
                text = " ".join(dict.fromkeys(
                    str(c.extra[column]) for c in in_row if c.extra.get(column)))
                cells[(row, column)] = build_cell(claims, results_by_claim, text)
        tables.append(Table(
            id=table_id, title=str(spec.get("title", table_id)),
            section=str(spec.get("section", "")), anchor=str(spec.get("anchor", "")),
            columns=columns, rows=rows, cells=cells,
        ))
    return tables


def _row_of(claim: Claim, row_key: Any) -> Any:
    """The row a claim is a cell of: its method, or the field the table names."""
    return claim.extra.get(row_key) if isinstance(row_key, str) else claim.method


def _area(section: str) -> str:
    return section.split(" > ", 1)[0]


def _same_cell_elsewhere(registry: Registry, spec: dict[str, Any], column: str,
                         row: str) -> list[Claim]:
    """Claims of another table of the same part of the guide for this column and method:
    the guide repeats the overview's columns in tables of their own."""
    area = _area(str(spec.get("section", "")))
    return [c for c in registry.claims
            if c.table is not None and c.column == column and c.method == row
            and _area(c.section) == area]


def group_results(results: Iterable[ClaimResult]) -> dict[str, list[ClaimResult]]:
    grouped: dict[str, list[ClaimResult]] = {}
    for result in results:
        grouped.setdefault(result.claim_id, []).append(result)
    return grouped


def outcome_counts(run: Run) -> Counter[str]:
    return Counter(result.outcome for result in run.results)


def flatten_environment(env: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """The fingerprint as (key, value) rows; nested dicts become ``versions.podman`` etc."""
    rows: list[tuple[str, str]] = []
    for key, value in env.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows += flatten_environment(value, f"{name}.")
        else:
            rows.append((name, str(value)))
    return rows


def status_note(run: Run) -> str | None:
    """A line for the top of a report when the run did not complete."""
    if run.status == "interrupted":
        return ("This run was interrupted (Ctrl-C): it holds only the results gathered "
                "until then.")
    return None


def podnet_text(run: Run) -> str:
    """The podnet that made the run: ``0.1.0 (commit 8f95d977fd54)``, or ``unknown``
    (a record of an older podnet)."""
    version, commit = run.podnet.get("version"), run.podnet.get("commit")
    if not version:
        return "unknown"
    return f"{version} (commit {str(commit)[:12]})" if commit else str(version)


def environment_blocks(run: Run) -> list[Block]:
    env = flatten_environment(run.environment)
    return [Heading(2, "Environment"),
            Grid(["key", "value"], env) if env else Para("(none recorded)")]


def _cell_text(cell: Cell, notes: Footnotes) -> Inline:
    if not cell.has_claim:
        return cell.guide
    parts = shown_parts(cell)
    if not parts:
        return f"not run (guide: {cell.guide})"
    return tuple(
        (*([Break()] if i else []), f"{part.label}: " if part.label else "", part.observed,
         f" (guide: {part.guide}) {WARN}" if part.differs else "",
         Ref(notes.number(part.note)) if part.note is not None else "")
        for i, part in enumerate(parts))


def table_blocks(table: Table, notes: Footnotes) -> list[Block]:
    """One of the guide's tables as observed (its cells' notes numbered in ``notes``)."""
    where = ("The guide, § ", table.section,
             *((" (", Code(table.anchor), ")") if table.anchor else ()), ".")
    rows = [[MarkupCell(title, header=True),
             *(MarkupCell(_cell_text(c, notes), c.state)
               for c in (table.cells[(row, column)] for column in table.columns))]
            for row, title in table.rows]
    return [Heading(3, table.title, id=f"table-{table.id}"), Para(where, cls="where"),
            Grid(["method", *table.columns], rows)]


def notes_blocks(notes: Footnotes) -> list[Block]:
    return [Heading(2, "Notes"), Notes(notes.items())] if notes.notes else []
