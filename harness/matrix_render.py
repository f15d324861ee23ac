"""The release matrix as Markdown (for CI job summaries) and as one HTML page (inline
CSS and script, no external requests): what changes first, a summary per release, then
every statement in the guide's order, then performance ratios side by side; written
together into a ``matrix-<time>`` directory."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from harness import matrix_upstream
from harness.atomic import write_directory
from harness.claims import Registry, load_default
from harness.guide.revisions import records_label
from harness.markup import (
    Block,
    Break,
    Code,
    Grid,
    Heading,
    Inline,
    Items,
    Link,
    Para,
    Raw,
    Small,
    Span,
    Strong,
    counted,
    html_document,
    to_markdown,
)
from harness.markup import Cell as Td
from harness.markup import Row as MarkupRow
from harness.matrix import Cell, Matrix, Row, build, ratio_label, ratio_words, read_column
from harness.matrix_changes import change_groups, group_words, item_words

TITLE = "podnet release matrix"
INTRO = ("Which of the guide's statements hold on which release. Each cell says what that "
         "release showed, in words, and links to the result in that release's own report.")
CHANGES = "What changes across the releases"
NO_CHANGES = "No statement changes its result across these releases."
THROUGHOUT = "Differs from the guide on every release that checked it"
SUMMARY = "Per release"
EVERY = "Every statement, in the guide's order"
RATIOS = "Performance relative to the reference"


# --- both pages ------------------------------------------------------------------------

def _observed(matrix: Matrix, row: Row) -> str:
    """What the guide says and what the releases that checked a row saw instead."""
    seen = "; ".join(f"on {col.run.release}: {cell.detail}"
                     for col, cell in zip(matrix.columns, row.cells, strict=True)
                     if cell.outcome == "failed")
    return f"{row.expectation_label}: {row.guide}; {seen}"


def _cell(cell: Cell) -> Td:
    if cell.outcome is None:
        return Td(cell.text, "o-none")
    return Td((Span(Link(cell.label, cell.link), "label"), f": {cell.detail}"),
              f"o-{cell.outcome}")


def _statement(row: Row) -> tuple[Inline, ...]:
    return row.statement, " ", Small(Code(row.key[0]))


def _item(statement: str, words: str, link: str | None) -> Inline:
    return statement, " ", Span(f"— {words}", "guide"), "; ", Link("evidence", link)


def _changes(matrix: Matrix) -> list[Block]:
    """The changes grouped (:mod:`harness.matrix_changes`), then the statements that differ
    from the guide throughout."""
    blocks: list[Block] = []
    for group in change_groups(matrix):
        blocks += [
            Para(("With ", Strong(matrix.columns[group.after].title), ": ",
                  group_words(matrix, group), ":"), cls="when"),
            Items([_item(c.row.statement, item_words(matrix, group, c),
                         c.row.cells[c.after].link) for c in group.changes], "changes")]
    if not matrix.changes():
        blocks.append(Para(NO_CHANGES))
    if throughout := matrix.differ_throughout():
        blocks += [Para(f"{THROUGHOUT}:", cls="when"), Items([
            _item(row.statement, _observed(matrix, row), row.cells[-1].link)
            for row in throughout], "changes")]
    return blocks


def _summary(matrix: Matrix) -> Grid:
    return Grid(["release", *(Td(label, scope="col") for label, _ in matrix.summary(0))],
                [[Td(Link(c.title, c.report(matrix.out)), scope="row"),
                  *(str(n) for _, n in matrix.summary(i))]
                 for i, c in enumerate(matrix.columns)], cls="summary")


def _ratios(matrix: Matrix) -> list[Block]:
    if not (ratios := matrix.ratios()):
        return []
    return [Heading(2, RATIOS), Para("Median ratio to the reference, with its 95% interval."),
            Grid(["ratio", *(Td(c.title, scope="col") for c in matrix.columns)],
                 [[Td(ratio_label(first), scope="row"), *(ratio_words(e) for e in entries)]
                  for first, entries in ratios])]


# --- HTML -------------------------------------------------------------------------------

CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 0 1.5em 2em; color: #1d2430; }
h1 { font-size: 1.45em; margin: .6em 0 .2em; } h2 { font-size: 1.15em; margin: 1.1em 0 .4em; }
p.intro { margin: 0 0 .4em; color: #57606a; }
p.when { margin: .5em 0 .15em; }
ul.changes { margin: 0; padding-left: 1.4em; } ul.changes li { margin: .1em 0; }
.guide { color: #57606a; } small code { color: #6e7781; font-size: .85em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #d0d7de; padding: .3em .5em; vertical-align: top; text-align: left; }
table.summary td { text-align: right; }
table.matrix { width: 100%; }
table.matrix thead th { position: sticky; top: 0; background: #eaeef2; z-index: 1;
                        box-shadow: 0 1px 0 #8c959f; }
table.matrix th[scope=row] { font-weight: normal; width: 40%; }
tr.section th { background: #f6f8fa; font-size: 1.02em; padding-top: .6em; }
td.o-passed { background: #eaf6ec; } td.o-failed { background: #fde5e2; }
td.o-unsupported { background: #f1e8fd; } td.o-error { background: #fff1cc; }
td.o-not_applicable, td.o-skipped, td.o-inconclusive, td.o-none { background: #f6f6f6; color: #57606a; }
.label { font-weight: 600; }
tr.changes th[scope=row] { border-left: 4px solid #8250df; }
.flag { color: #8250df; font-weight: 600; font-size: .9em; }
.filter { margin: .4em 0; }
@media print { table.matrix thead th { position: static; } .filter { display: none; } }
"""

SCRIPT = """
document.addEventListener('DOMContentLoaded', function () {
  var choice = document.getElementById('show');
  function apply() {
    var want = choice.value, rows = document.querySelectorAll('table.matrix tbody tr');
    var section = null, shown = 0;
    function close() { if (section) { section.hidden = shown === 0; } }
    rows.forEach(function (tr) {
      if (tr.classList.contains('section')) { close(); section = tr; shown = 0; return; }
      var show = want === 'all' || tr.classList.contains(want);
      tr.hidden = !show; if (show) { shown += 1; }
    });
    close();
  }
  choice.addEventListener('change', apply);
  apply();
});
"""


def _table(matrix: Matrix) -> Grid:
    changing = {row.key for row, _ in matrix.changes()}
    rows: list[Sequence[Inline | Td] | MarkupRow] = []
    for section, found in matrix.sections():
        rows.append(MarkupRow([Td(section, header=True, span=len(matrix.columns) + 1)],
                              cls="section"))
        for row in found:
            classes = [c for c, on in (("differs", row.differs),
                                       ("changes", row.key in changing)) if on]
            head = (*_statement(row), Break(),
                    Span(f"{row.expectation_label}: {row.guide}", "guide"),
                    *((Break(), Span("changes across the releases", "flag"))
                      if row.key in changing else ()))
            rows.append(MarkupRow([Td(head, scope="row"), *(_cell(c) for c in row.cells)],
                                  cls=" ".join(classes)))
    return Grid([Td("statement, and what the guide says", scope="col"),
                 *(Td(c.title, scope="col") for c in matrix.columns)], rows, cls="matrix",
                sections=True)


FILTER = ('<p class="filter"><label for="show">Show</label> <select id="show">'
          '<option value="all">every statement</option>'
          '<option value="differs">statements that differ from the guide on some release</option>'
          '<option value="changes">statements that change across the releases</option>'
          "</select></p>")


def page(matrix: Matrix, every: Sequence[Block]) -> list[Block]:
    """Both pages: what changes first, the summary per release, ``every`` statement (each
    page's own table), the ratios and podman's own tests."""
    titles = "; ".join(c.title for c in matrix.columns)
    runs = [c.run for c in matrix.columns]
    return [
        Heading(1, TITLE), Para(f"Guide: {records_label([run.guide for run in runs])}"),
        Para(f"{INTRO} Releases: {titles}.", cls="intro"),
        Heading(2, f"{CHANGES} ({counted(len(matrix.changes()), 'statement')})"), *_changes(matrix),
        Heading(2, SUMMARY), _summary(matrix), Heading(2, EVERY), *every, *_ratios(matrix),
        *matrix_upstream.blocks(runs)]


def markdown(matrix: Matrix) -> str:
    """The page for CI job summaries: a table per section of the guide."""
    titles = [c.title for c in matrix.columns]
    every: list[Block] = []
    for section, rows in matrix.sections():
        every += [Heading(3, section), Grid(["statement", rows[0].expectation_label, *titles], [
            [_statement(row), row.guide, *(_cell(c) for c in row.cells)] for row in rows])]
    return "\n".join(to_markdown(page(matrix, every)))


def html_page(matrix: Matrix) -> str:
    """One page: a table of every statement, its rows filtered on choice."""
    return html_document(TITLE, page(matrix, [Raw(html=FILTER), _table(matrix)]), css=CSS,
                         script=SCRIPT)


def render_matrix(run_dirs: list[Path], results_root: Path,
                  registry: Registry | None = None) -> list[Path]:
    """Write ``matrix-<time>/matrix.md`` and ``matrix.html`` under ``results_root``. Every
    run is read and checked before the directory is made; a failed write removes it."""
    columns = [read_column(d) for d in run_dirs]
    out = results_root / f"matrix-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
    matrix = build(columns, registry or load_default(), out)
    return write_directory(out, {"matrix.md": markdown(matrix),
                                 "matrix.html": html_page(matrix)}, results_root)
