"""podnet's documents: one model of blocks (headings, paragraphs, lists, preformatted
text, tables) and inline spans that :func:`to_markdown` and :func:`to_html` render;
Markdown tables through tabulate in one compact style (``| a | b |`` under ``|-|-|``),
HTML tables as one grid, and one escape for each language."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tabulate import DataRow, TableFormat, tabulate

_ROW = DataRow("| ", " | ", " |")


def md_escape(text: str) -> str:
    """Text for a Markdown table cell or list item: pipes escaped, on one line."""
    return text.replace("|", "\\|").replace("\n", " ")


def counted(n: int, noun: str) -> str:
    """``1 statement``, ``2 statements``."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


def flat(text: str) -> str:
    """``text`` on one line: each run of white space one space."""
    return " ".join(text.split())


def shortened(text: str, width: int) -> str:
    """``text`` if it has at most ``width`` characters, else cut to them, ending in "…"."""
    return text if len(text) <= width else text[:width - 1] + "…"


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
               cls: str = "", sections: bool = False) -> str:
    """An HTML table: ``header`` as cell texts (escaped) or one ready ``<tr>``; each row as
    cell texts (escaped) or one ready ``<tr>``; ``sections`` puts them in ``<thead>`` and
    ``<tbody>``."""
    head = header if isinstance(header, str) else (
        "<tr>" + "".join(f"<th>{html_escape(h)}</th>" for h in header) + "</tr>")
    body = "".join(row if isinstance(row, str) else "<tr>" + "".join(
        f"<td>{html_escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    if sections:
        head, body = f"<thead>{head}</thead>", f"<tbody>{body}</tbody>"
    return f"<table{_attrs(cls=cls)}>{head}{body}</table>"


def _attrs(**values: object) -> str:
    """HTML attributes, escaped, those without a value left out (``cls`` is ``class``)."""
    return "".join(f' {"class" if name == "cls" else name}="{html_escape(str(value))}"'
                   for name, value in values.items() if value)


# --- one document, two languages ------------------------------------------------------
# A report section is a list of blocks, rendered to Markdown lines (each block followed
# by a blank line) or to one HTML string; inline spans say what differs between the two.

@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class Strong:
    text: Inline


@dataclass(frozen=True)
class Small:
    """Set small after the text: ``<sub>`` in Markdown, ``<small>`` in HTML."""

    text: Inline


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


@dataclass(frozen=True)
class Link:
    """A link to ``href``; the text alone without one."""

    text: Inline
    href: str | None


@dataclass(frozen=True)
class Span:
    """Text of an HTML class (``<span>``); as it is in Markdown."""

    text: Inline
    cls: str


Inline = str | Code | Strong | Small | Details | Ref | Break | Link | Span | tuple["Inline", ...]


#: How each span reads: in Markdown, and in HTML.
_SPANS: dict[type, tuple[Callable[[Any], str], Callable[[Any], str]]] = {
    Code: (lambda s: f"`{md_text(s.text)}`", lambda s: f"<code>{html_text(s.text)}</code>"),
    Strong: (lambda s: f"**{md_text(s.text)}**", lambda s: f"<strong>{html_text(s.text)}</strong>"),
    Small: (lambda s: f"<sub>{md_text(s.text)}</sub>", lambda s: f"<small>{html_text(s.text)}</small>"),
    Details: (lambda s: f" ({s.summary}: {s.text})",
              lambda s: f"<details><summary>{html_escape(s.summary)}</summary>"
                        f"{html_escape(s.text)}</details>"),
    Ref: (lambda s: f"[^{s.number}]",
          lambda s: f'<sup><a href="#note-{s.number}">[{s.number}]</a></sup>'),
    Break: (lambda s: " · ", lambda s: "<br>"),
    Link: (lambda s: f"[{md_text(s.text)}]({s.href})" if s.href else md_text(s.text),
           lambda s: f"<a{_attrs(href=s.href)}>{html_text(s.text)}</a>" if s.href
           else html_text(s.text)),
    Span: (lambda s: md_text(s.text),
           lambda s: f"<span{_attrs(cls=s.cls)}>{html_text(s.text)}</span>")}


def md_text(text: Inline) -> str:
    if isinstance(text, tuple):
        return "".join(md_text(part) for part in text)
    return text if isinstance(text, str) else _SPANS[type(text)][0](text)


def html_text(text: Inline) -> str:
    if isinstance(text, tuple):
        return "".join(html_text(part) for part in text)
    return html_escape(text) if isinstance(text, str) else _SPANS[type(text)][1](text)


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
    #: The HTML list's class.
    cls: str = ""


@dataclass(frozen=True)
class Pre:
    """Preformatted text: fenced in Markdown (``info`` after the fence)."""

    text: str
    info: str = ""


@dataclass(frozen=True)
class Raw:
    """Text as it is, different in each language (nothing where it is empty)."""

    markdown: str = ""
    html: str = ""


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
    #: HTML only: a heading (``<th>``) of its ``row`` or ``col``; columns it spans.
    scope: str = ""
    span: int = 1


@dataclass(frozen=True)
class Row:
    cells: Sequence[Inline | Cell]
    #: The HTML row's id and class.
    id: str = ""
    cls: str = ""


@dataclass(frozen=True)
class Grid:
    """A table; ``right``: columns aligned right in Markdown."""

    header: Sequence[str | Cell]
    rows: Sequence[Sequence[Inline | Cell] | Row]
    right: Sequence[int] = ()
    #: HTML only: in ``<thead>`` and ``<tbody>``; the table's class.
    sections: bool = False
    cls: str = ""


@dataclass(frozen=True)
class Group:
    """Blocks kept together: an HTML ``<section>`` of class ``cls``."""

    blocks: Sequence[Block]
    cls: str


Block = Heading | Para | Items | Pre | Raw | Notes | Grid | Group


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
        elif isinstance(block, Raw):
            if not block.markdown:
                continue
            lines += block.markdown.split("\n")
        elif isinstance(block, Notes):
            lines += [f"[^{n}]: {md_escape(text)}" for n, text in block.notes]
        else:
            lines += markdown_table([md_text(_cell(h).text) for h in block.header],
                                    [[md_text(_cell(c).text) for c in _cells(row)]
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
            out.append(f"<section{_attrs(cls=block.cls)}>{to_html(block.blocks)}</section>")
        elif isinstance(block, Heading):
            out.append(f"<h{block.level}{_attrs(id=block.id)}>{html_text(block.text)}"
                       f"</h{block.level}>")
        elif isinstance(block, Para):
            out.append(f"<p{_attrs(cls=block.cls)}>{html_text(block.text)}</p>")
        elif isinstance(block, Raw):
            out.append(block.html)
        elif isinstance(block, Items):
            out.append(f"<ul{_attrs(cls=block.cls)}>" + "".join(
                f"<li>{html_text(i.text)}{to_html(i.blocks)}</li>" if isinstance(i, Item)
                else f"<li>{html_text(i)}</li>" for i in block.items) + "</ul>")
        elif isinstance(block, Notes):
            out.append('<ol class="notes">' + "".join(
                f'<li id="note-{n}">{html_escape(text)}</li>' for n, text in block.notes) + "</ol>")
        elif isinstance(block, Pre):
            out.append(f"<pre>{html_escape(block.text)}</pre>")
        else:
            out.append(html_table(
                _tr(Row([Cell(h, header=True) if isinstance(h, str) else h
                         for h in block.header])),
                [_tr(row if isinstance(row, Row) else Row(row)) for row in block.rows],
                sections=block.sections, cls=block.cls))
    return "".join(out)


def _tr(row: Row) -> str:
    return f"<tr{_attrs(id=row.id, cls=row.cls)}>" + "".join(
        _td(_cell(c)) for c in row.cells) + "</tr>"


def _td(cell: Cell) -> str:
    tag = "th" if cell.header or cell.scope else "td"
    span = cell.span if cell.span > 1 else 0
    return (f"<{tag}{_attrs(scope=cell.scope, cls=cell.cls, colspan=span)}>"
            f"{html_text(cell.text)}</{tag}>")


def html_document(title: str, blocks: Iterable[Block], *, css: str, script: str) -> str:
    """The blocks as one self-contained HTML page: inline CSS and script."""
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html_escape(title)}</title><style>{css}</style><script>{script}</script>"
            f"</head><body>{to_html(blocks)}</body></html>\n")
