"""The release matrix as Markdown (for CI job summaries) and as one HTML page (inline
CSS and script, no external requests): what changes first, a summary per release, then
every statement in the guide's order, then performance ratios side by side; written
together into a ``matrix-<time>`` directory."""

from __future__ import annotations

import time
from pathlib import Path

from harness import matrix_upstream
from harness.atomic import write_directory
from harness.claims import Registry, load_default
from harness.guide.revisions import records_label
from harness.markup import Block, Grid, Heading, Items, Para, html_table, to_markdown
from harness.markup import html_escape as escape
from harness.markup import md_escape as _md
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


# --- Markdown ---------------------------------------------------------------------------

def _observed(matrix: Matrix, row: Row) -> str:
    """What the guide says and what the releases that checked a row saw instead."""
    seen = "; ".join(f"on {col.release}: {cell.detail}"
                     for col, cell in zip(matrix.columns, row.cells, strict=True)
                     if cell.outcome == "failed")
    return f"{row.expectation_label}: {row.guide}; {seen}"


def _bold(text: str) -> str:
    return f"**{text}**"


def _md_link(text: str, link: str | None) -> str:
    return f"[{text}]({link})" if link else text


def _md_cell(cell: Cell) -> str:
    if cell.outcome is None:
        return cell.text
    return _md_link(cell.label, cell.link) + f": {cell.detail}"


def _md_row(row: Row) -> list[str]:
    return [f"{row.statement} <sub>`{row.key[0]}`</sub>", row.guide,
            *(_md_cell(c) for c in row.cells)]


def _guides(matrix: Matrix) -> str:
    """The guide revision(s) the columns' runs judged."""
    return records_label([c.run.guide for c in matrix.columns])


def markdown(matrix: Matrix) -> str:
    titles = [c.title for c in matrix.columns]
    blocks: list[Block] = [
        Heading(1, TITLE), Para(f"Guide: {_guides(matrix)}"), Para(INTRO),
        Para("Releases: " + "; ".join(titles) + "."), Heading(2, CHANGES)]
    for group in change_groups(matrix):
        blocks += [Para(f"{group_words(matrix, group, _md, _bold)}:"), Items([
            f"{change.row.statement} — {item_words(matrix, group, change)}; "
            + _md_link("evidence", change.row.cells[change.after].link)
            for change in group.changes])]
    if not matrix.changes():
        blocks.append(Para(NO_CHANGES))
    if throughout := matrix.differ_throughout():
        blocks += [Para(f"{THROUGHOUT}:"), Items([
            f"{row.statement} — {_observed(matrix, row)}; "
            + _md_link("evidence", row.cells[-1].link) for row in throughout])]
    blocks += [Heading(2, SUMMARY), Grid(
        ["release", *(label for label, _ in matrix.summary(0))],
        [[_md_link(column.title, column.report(matrix.out)), *(str(n) for _, n in matrix.summary(i))]
         for i, column in enumerate(matrix.columns)]), Heading(2, EVERY)]
    for section, rows in matrix.sections():
        blocks += [Heading(3, section), Grid(["statement", rows[0].expectation_label, *titles],
                                             [_md_row(row) for row in rows])]
    if ratios := matrix.ratios():
        blocks += [Heading(2, RATIOS), Para("Median ratio to the reference, with its 95% interval."),
                   Grid(["ratio", *titles], [[ratio_label(first), *(ratio_words(e) for e in entries)]
                                             for first, entries in ratios])]
    return "\n".join(to_markdown(blocks) + matrix_upstream.markdown_lines(
        [c.run for c in matrix.columns]))


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


def _a(text: str, link: str | None) -> str:
    return f'<a href="{escape(link)}">{escape(text)}</a>' if link else escape(text)


def _strong(text: str) -> str:
    return f"<strong>{text}</strong>"


def _td(cell: Cell) -> str:
    if cell.outcome is None:
        return f'<td class="o-none">{escape(cell.text)}</td>'
    label = _a(cell.label, cell.link)
    return (f'<td class="o-{escape(cell.outcome)}"><span class="label">{label}</span>: '
            f"{escape(cell.detail)}</td>")


def _tr(row: Row, changing: bool) -> str:
    classes = " ".join(c for c, on in (("differs", row.differs), ("changes", changing)) if on)
    head = (f'<th scope="row">{escape(row.statement)} <small><code>{escape(row.key[0])}'
            f'</code></small><br><span class="guide">{row.expectation_label}: '
            f'{escape(row.guide)}</span>'
            + ('<br><span class="flag">changes across the releases</span>' if changing else "")
            + "</th>")
    return f'<tr class="{classes}">{head}{"".join(_td(c) for c in row.cells)}</tr>'


def _changes(matrix: Matrix) -> str:
    groups = []
    for group in change_groups(matrix):
        items = "".join(
            f"<li>{escape(c.row.statement)} <span class=\"guide\">— "
            f"{item_words(matrix, group, c, escape)}</span>; "
            f"{_a('evidence', c.row.cells[c.after].link)}</li>" for c in group.changes)
        groups.append(f'<p class="when">{group_words(matrix, group, escape, _strong)}:</p>'
                      f'<ul class="changes">{items}</ul>')
    throughout = "".join(
        f"<li>{escape(row.statement)} <span class=\"guide\">— "
        f"{escape(_observed(matrix, row))}</span>; {_a('evidence', row.cells[-1].link)}</li>"
        for row in matrix.differ_throughout())
    if throughout:
        groups.append(f'<p class="when">{THROUGHOUT}:</p><ul class="changes">{throughout}</ul>')
    return "".join(groups) or f"<p>{NO_CHANGES}</p>"


def _summary(matrix: Matrix) -> str:
    head = "".join(f'<th scope="col">{escape(label)}</th>' for label, _ in matrix.summary(0))
    body = [f'<tr><th scope="row">{_a(c.title, c.report(matrix.out))}</th>'
            + "".join(f"<td>{n}</td>" for _, n in matrix.summary(i)) + "</tr>"
            for i, c in enumerate(matrix.columns)]
    return html_table(f"<tr><th>release</th>{head}</tr>", body, cls="summary")


def _table(matrix: Matrix) -> str:
    changing = matrix.changing()
    head = "".join(f'<th scope="col">{escape(c.title)}</th>' for c in matrix.columns)
    body = []
    for section, rows in matrix.sections():
        body.append(f'<tr class="section"><th colspan="{len(matrix.columns) + 1}">'
                    f"{escape(section)}</th></tr>")
        body += [_tr(row, row.key in changing) for row in rows]
    return html_table(f'<tr><th scope="col">statement, and what the guide says</th>{head}</tr>',
                      body, cls="matrix", sections=True)


def _ratios(matrix: Matrix) -> str:
    ratios = matrix.ratios()
    if not ratios:
        return ""
    head = "".join(f'<th scope="col">{escape(c.title)}</th>' for c in matrix.columns)
    body = [f'<tr><th scope="row">{escape(ratio_label(first))}</th>'
            + "".join(f"<td>{escape(ratio_words(e))}</td>" for e in entries) + "</tr>"
            for first, entries in ratios]
    return (f"<h2>{RATIOS}</h2><p>Median ratio to the reference, with its 95% interval.</p>"
            + html_table(f"<tr><th>ratio</th>{head}</tr>", body))


FILTER = ('<p class="filter"><label for="show">Show</label> <select id="show">'
          '<option value="all">every statement</option>'
          '<option value="differs">statements that differ from the guide on some release</option>'
          '<option value="changes">statements that change across the releases</option>'
          "</select></p>")


def _count(n: int) -> str:
    return "1 statement" if n == 1 else f"{n} statements"


def html_page(matrix: Matrix) -> str:
    titles = "; ".join(c.title for c in matrix.columns)
    body = [f"<h1>{TITLE}</h1>", f"<p>Guide: {escape(_guides(matrix))}</p>",
            f'<p class="intro">{escape(INTRO)} Releases: '
            f"{escape(titles)}.</p>", f"<h2>{CHANGES} ({_count(len(matrix.changes()))})</h2>",
            _changes(matrix), f"<h2>{SUMMARY}</h2>", _summary(matrix), f"<h2>{EVERY}</h2>",
            FILTER, _table(matrix), _ratios(matrix),
            matrix_upstream.html_fragment([c.run for c in matrix.columns])]
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{TITLE}</title><style>{CSS}</style><script>{SCRIPT}</script></head>"
            f"<body>{''.join(body)}</body></html>\n")


def render_matrix(run_dirs: list[Path], results_root: Path,
                  registry: Registry | None = None) -> list[Path]:
    """Write ``matrix-<time>/matrix.md`` and ``matrix.html`` under ``results_root``. Every
    run is read and checked before the directory is made; a failed write removes it."""
    columns = [read_column(d) for d in run_dirs]
    out = results_root / f"matrix-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
    matrix = build(columns, registry or load_default(), out)
    return write_directory(out, {"matrix.md": markdown(matrix),
                                 "matrix.html": html_page(matrix)}, results_root)
