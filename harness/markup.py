"""Every table of podnet's documents, and their escapes: Markdown tables through tabulate
in one compact style (``| a | b |`` under ``|-|-|``), HTML tables as one grid, and one
escape for each language."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from tabulate import DataRow, TableFormat, tabulate

_ROW = DataRow("| ", " | ", " |")


def md_escape(text: str) -> str:
    """Text for a Markdown table cell or list item: pipes escaped, on one line."""
    return text.replace("|", "\\|").replace("\n", " ")


def html_escape(text: str) -> str:
    """Text for HTML content or an attribute value."""
    return html.escape(text)


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]], *,
                   right: Sequence[int] = ()) -> list[str]:
    """A Markdown table, one line per row; every header and cell escaped
    (:func:`md_escape`); the columns numbered in ``right`` aligned right."""
    rule = "|" + "".join("-:|" if i in right else "-|" for i in range(len(header)))
    style = TableFormat(lineabove=None, linebelowheader=lambda *_: rule, linebetweenrows=None,
                        linebelow=None, headerrow=_ROW, datarow=_ROW, padding=0,
                        with_header_hide=None)
    text = tabulate([[md_escape(str(c)) for c in row] for row in rows],
                    headers=[md_escape(h) for h in header], tablefmt=style, stralign=None,
                    numalign=None, disable_numparse=True)
    return str(text).split("\n")


def html_table(header: Sequence[str] | str, rows: Iterable[Sequence[str] | str], *,
               cls: str = "", sections: bool = False, raw: bool = False) -> str:
    """An HTML table: ``header`` as cell texts (escaped) or one ready ``<tr>``; each row as
    cell texts (escaped unless ``raw``) or one ready ``<tr>``; ``sections`` puts them in
    ``<thead>`` and ``<tbody>``."""
    head = header if isinstance(header, str) else (
        "<tr>" + "".join(f"<th>{html_escape(h)}</th>" for h in header) + "</tr>")
    body = "".join(row if isinstance(row, str) else "<tr>" + "".join(
        f"<td>{c if raw else html_escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    if sections:
        head, body = f"<thead>{head}</thead>", f"<tbody>{body}</tbody>"
    attrs = f' class="{cls}"' if cls else ""
    return f"<table{attrs}>{head}{body}</table>"
