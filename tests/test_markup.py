"""The one table renderer and the escapes every report uses."""

from __future__ import annotations

from harness.markup import html_table, markdown_table, md_escape


def test_markdown_table_is_compact_escaped_and_aligned() -> None:
    assert markdown_table(["name", "n"], [["a|b\nc", 3], ["", 10]], right=[1]) == [
        "| name | n |", "|-|-:|", "| a\\|b c | 3 |", "|  | 10 |"]
    assert markdown_table(["x"], []) == ["| x |", "|-|"]
    assert md_escape("1 | 2\n3") == "1 \\| 2 3"


def test_html_table_escapes_text_and_keeps_ready_rows() -> None:
    assert html_table(["a<b"], [["x&y"], "<tr><td>raw</td></tr>"], cls="c") == (
        '<table class="c"><tr><th>a&lt;b</th></tr><tr><td>x&amp;y</td></tr>'
        "<tr><td>raw</td></tr></table>")
    assert html_table("<tr><th>h</th></tr>", [], sections=True) == (
        "<table><thead><tr><th>h</th></tr></thead><tbody></tbody></table>")


def test_one_document_renders_to_markdown_and_html() -> None:
    from harness.markup import (
        Break,
        Cell,
        Code,
        Grid,
        Group,
        Heading,
        Item,
        Items,
        Para,
        Pre,
        Ref,
        Small,
        Strong,
        to_html,
        to_markdown,
    )

    doc = [Heading(2, "T<", id="t"), Para(("a ", Code("b|c")), cls="legend"),
           Group([Items(["x|y", Item((Strong("L"), " z"), [Pre("p ```", "diff"), Para("q")])]),
                  Grid(["h"], [[Cell(("s ", Small(Code("id"))), "num")]], right=[0])], "f")]
    assert to_markdown(doc) == [
        "## T<", "", "a `b|c`", "", "- x\\|y", "", "- **L** z", "", "  ````diff", "  p ```",
        "  ````", "", "  q", "", "| h |", "|-:|", "| s <sub>`id`</sub> |", ""]
    assert to_html(doc) == (
        '<h2 id="t">T&lt;</h2><p class="legend">a <code>b|c</code></p><section class="f">'
        "<ul><li>x|y</li><li><strong>L</strong> z<pre>p ```</pre><p>q</p></li></ul>"
        '<table><tr><th>h</th></tr><tr><td class="num">s <small><code>id</code></small>'
        "</td></tr></table></section>")
    cell = [Cell(("a", Ref(1), Break(), "b"), header=True)]
    assert to_markdown([Grid(["x"], [cell])]) == ["| x |", "|-|", "| a[^1] · b |", ""]
    assert to_html([Grid(["x"], [cell])]) == (
        '<table><tr><th>x</th></tr><tr><th>a<sup><a href="#note-1">[1]</a></sup><br>b</th>'
        "</tr></table>")
