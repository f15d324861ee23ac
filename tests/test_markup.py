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
