"""podnet's documents: one model of blocks (headings, paragraphs, lists, preformatted
text, tables) and inline spans that :func:`to_markdown` and :func:`to_html` render;
Markdown tables through tabulate in one compact style (``| a | b |`` under ``|-|-|``),
HTML tables as one grid, and one escape for each language."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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


# --- one document, two languages ------------------------------------------------------
# A report section is a list of blocks, rendered to Markdown lines (each block followed
# by a blank line) or to one HTML string; inline spans say what differs between the two.

@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class Strong:
    text: str


@dataclass(frozen=True)
class Small:
    """Set small after the text: ``<sub>`` in Markdown, ``<small>`` in HTML."""

    content: Inline


@dataclass(frozen=True)
class Details:
    """More text on demand: `` (summary: text)`` in Markdown, ``<details>`` in HTML."""

    summary: str
    text: str


@dataclass(frozen=True)
class Ref:
    """A footnote's number (see :class:`Notes`)."""

    number: int


@dataclass(frozen=True)
class Break:
    """A line break in a table cell: `` · `` in Markdown."""


Inline = str | Code | Strong | Small | Details | Ref | Break | tuple["Inline", ...]


def md_text(text: Inline) -> str:
    if isinstance(text, str):
        return text
    if isinstance(text, Code):
        return f"`{text.text}`"
    if isinstance(text, Strong):
        return f"**{text.text}**"
    if isinstance(text, Small):
        return f"<sub>{md_text(text.content)}</sub>"
    if isinstance(text, Details):
        return f" ({text.summary}: {text.text})"
    if isinstance(text, Ref):
        return f"[^{text.number}]"
    if isinstance(text, Break):
        return " · "
    return "".join(md_text(part) for part in text)


def html_text(text: Inline) -> str:
    if isinstance(text, str):
        return html_escape(text)
    if isinstance(text, Code):
        return f"<code>{html_escape(text.text)}</code>"
    if isinstance(text, Strong):
        return f"<strong>{html_escape(text.text)}</strong>"
    if isinstance(text, Small):
        return f"<small>{html_text(text.content)}</small>"
    if isinstance(text, Details):
        return (f"<details><summary>{html_escape(text.summary)}</summary>"
                f"{html_escape(text.text)}</details>")
    if isinstance(text, Ref):
        return f'<sup><a href="#note-{text.number}">[{text.number}]</a></sup>'
    if isinstance(text, Break):
        return "<br>"
    return "".join(html_text(part) for part in text)


@dataclass(frozen=True)
class Heading:
    level: int
    text: Inline
    #: The HTML heading's id.
    id: str = ""


@dataclass(frozen=True)
class Para:
    text: Inline
    #: The HTML paragraph's class.
    cls: str = ""


@dataclass(frozen=True)
class Item:
    """A list item with blocks under its text (indented in Markdown, where such items
    stand a blank line apart)."""

    text: Inline
    blocks: Sequence[Block]


@dataclass(frozen=True)
class Items:
    """A list; its items' Markdown escaped (:func:`md_escape`)."""

    items: Sequence[Inline | Item]


@dataclass(frozen=True)
class Pre:
    """Preformatted text: fenced in Markdown (``info`` after the fence)."""

    text: str
    info: str = ""


@dataclass(frozen=True)
class Source:
    """Markdown to paste elsewhere: as it is in Markdown, preformatted in HTML."""

    text: str


@dataclass(frozen=True)
class Notes:
    """Footnotes by number (:class:`Ref` points to them)."""

    notes: Sequence[tuple[int, str]]


@dataclass(frozen=True)
class Cell:
    text: Inline
    #: The HTML cell's class.
    cls: str = ""
    #: A row's heading (``<th>`` in HTML).
    header: bool = False


@dataclass(frozen=True)
class Row:
    cells: Sequence[Inline | Cell]
    #: The HTML row's id.
    id: str


@dataclass(frozen=True)
class Grid:
    """A table; ``right``: columns aligned right in Markdown."""

    header: Sequence[str]
    rows: Sequence[Sequence[Inline | Cell] | Row]
    right: Sequence[int] = ()
    #: HTML only: in ``<thead>`` and ``<tbody>``.
    sections: bool = False


@dataclass(frozen=True)
class Group:
    """Blocks kept together: an HTML ``<section>`` of class ``cls``."""

    blocks: Sequence[Block]
    cls: str


Block = Heading | Para | Items | Pre | Source | Notes | Grid | Group


def _cells(row: Sequence[Inline | Cell] | Row) -> Sequence[Inline | Cell]:
    return row.cells if isinstance(row, Row) else row


def _cell(cell: Inline | Cell) -> Cell:
    return cell if isinstance(cell, Cell) else Cell(cell)


def to_markdown(blocks: Iterable[Block]) -> list[str]:
    """The blocks as Markdown lines, a blank line after each."""
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Group):
            lines += to_markdown(block.blocks)
            continue
        if isinstance(block, Heading):
            lines.append(f"{'#' * block.level} {md_text(block.text)}")
        elif isinstance(block, Para):
            lines.append(md_text(block.text))
        elif isinstance(block, Items):
            lines += _md_items(block.items)
        elif isinstance(block, Pre):
            fence = "````" if "```" in block.text else "```"
            lines += [fence + block.info, *block.text.rstrip("\n").split("\n"), fence]
        elif isinstance(block, Source):
            lines += block.text.split("\n")
        elif isinstance(block, Notes):
            lines += [f"[^{n}]: {md_escape(text)}" for n, text in block.notes]
        else:
            lines += markdown_table(block.header, [[md_text(_cell(c).text) for c in _cells(row)]
                                                   for row in block.rows], right=block.right)
        lines.append("")
    return lines


def _md_items(items: Sequence[Inline | Item]) -> list[str]:
    lines: list[str] = []
    for n, item in enumerate(items):
        if not isinstance(item, Item):
            lines.append(f"- {md_escape(md_text(item))}")
            continue
        lines += [*([""] if n else []), f"- {md_escape(md_text(item.text))}"]
        for block in item.blocks:
            lines += ["", *(f"  {line}" for line in to_markdown([block])[:-1])]
    return lines


def to_html(blocks: Iterable[Block]) -> str:
    out = []
    for block in blocks:
        if isinstance(block, Group):
            out.append(f'<section class="{block.cls}">{to_html(block.blocks)}</section>')
        elif isinstance(block, Heading):
            ident = f' id="{html_escape(block.id)}"' if block.id else ""
            out.append(f"<h{block.level}{ident}>{html_text(block.text)}</h{block.level}>")
        elif isinstance(block, Para):
            cls = f' class="{block.cls}"' if block.cls else ""
            out.append(f"<p{cls}>{html_text(block.text)}</p>")
        elif isinstance(block, Items):
            out.append("<ul>" + "".join(
                f"<li>{html_text(i.text)}{to_html(i.blocks)}</li>" if isinstance(i, Item)
                else f"<li>{html_text(i)}</li>" for i in block.items) + "</ul>")
        elif isinstance(block, Notes):
            out.append('<ol class="notes">' + "".join(
                f'<li id="note-{n}">{html_escape(text)}</li>' for n, text in block.notes) + "</ol>")
        elif isinstance(block, Pre | Source):
            out.append(f"<pre>{html_escape(block.text)}</pre>")
        else:
            out.append(html_table(block.header, [
                (f'<tr id="{html_escape(row.id)}">' if isinstance(row, Row) else "<tr>")
                + "".join(_td(_cell(c)) for c in _cells(row)) + "</tr>" for row in block.rows],
                sections=block.sections))
    return "".join(out)


def _td(cell: Cell) -> str:
    cls = f' class="{cell.cls}"' if cell.cls else ""
    tag = "th" if cell.header else "td"
    return f"<{tag}{cls}>{html_text(cell.text)}</{tag}>"
