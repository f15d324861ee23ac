"""The report's section "podman's own tests": what ``podnet upstream-tests`` ran (the
checkout's version against the target's podman, stated when they differ), the counts
per bats file, every failure with its output, every test that needs the internet and
every skip with upstream's reason, then every test's result."""

from __future__ import annotations

from harness.markup import html_escape as escape
from harness.markup import html_table, markdown_table
from harness.markup import md_escape as _md
from harness.results.schema import Run
from harness.results.upstream import OUTCOME_WORDS, UpstreamSuite, UpstreamTest, counts

HEADING = "podman's own tests"
ANCHOR = "podmans-own-tests"
#: A failure's output in the report: its last lines (the record keeps all of it).
OUTPUT_LINES = 40
_FILE_HEADER = ["file", "tests", *OUTCOME_WORDS.values(), "seconds", "bats exit"]
_TEST_HEADER = ["file", "#", "test", "result", "seconds"]


def summary_sentence(suite: UpstreamSuite) -> str:
    found = counts(suite.tests)
    parts = ", ".join(f"{found[o]} {word}" for o, word in OUTCOME_WORDS.items())
    version = suite.source_version or "(version unknown)"
    return (f"podman {version}'s system tests from {suite.source}, run as host1's rootless "
            f"user against podman {suite.podman_version} with {suite.bats_version or 'bats'} "
            f"and {suite.image} built from Debian packages: {parts} of {len(suite.tests)}, "
            f"in {suite.seconds:.0f} s.")


def _file_rows(suite: UpstreamSuite) -> list[list[str]]:
    rows = []
    for ran in suite.files:
        found = counts([t for t in suite.tests if t.file == ran.file])
        rows.append([ran.file, str(sum(found.values())), *(str(n) for n in found.values()),
                     f"{ran.seconds:.0f}", str(ran.exit_status)])
    return rows


def _test_rows(suite: UpstreamSuite) -> list[list[str]]:
    return [[t.file, str(t.number), t.name, _result(t),
             "" if t.seconds is None else f"{t.seconds:.1f}"] for t in suite.tests]


def _result(test: UpstreamTest) -> str:
    word = OUTCOME_WORDS[test.outcome]
    return f"{word}: {test.reason}" if test.reason else word


def _tail(output: str) -> str:
    lines = output.splitlines()
    cut = lines[-OUTPUT_LINES:]
    return "\n".join(([f"... ({len(lines) - len(cut)} lines above, in run.json)"]
                      if len(cut) < len(lines) else []) + cut)


def markdown_lines(run: Run) -> list[str]:
    """The section for report.md ([] when the run did not run podman's tests)."""
    suite = run.upstream
    if suite is None:
        return []
    out = [f"## {HEADING}", "", summary_sentence(suite), ""]
    if mismatch := suite.version_mismatch():
        out += [f"**Note:** {mismatch}.", ""]
    out += [*markdown_table(_FILE_HEADER, _file_rows(suite)), ""]
    failed = [t for t in suite.tests if t.outcome == "failed"]
    out += [f"### Failed ({len(failed)})", ""]
    if not failed:
        out += ["None.", ""]
    for test in failed:
        fence = "````" if "```" in test.output else "```"
        out += [f"- {test.file} #{test.number}: **{_md(test.name)}**", "",
                *(f"  {line}" for line in [fence, *_tail(test.output).splitlines(), fence]),
                ""]
    others = [t for t in suite.tests if t.outcome in ("needs_internet", "skipped")]
    if others:
        out += ["### Needs the internet or skipped by upstream", ""]
        out += [f"- {t.file} #{t.number}: {_md(t.name)}: {_md(_result(t))}" for t in others]
        out.append("")
    out += ["### Every test", "", *markdown_table(_TEST_HEADER, _test_rows(suite)), ""]
    return out


def _html_table(header: list[str], rows: list[list[str]], css_column: int | None = None,
                outcomes: list[str] | None = None) -> str:
    body = []
    for i, row in enumerate(rows):
        cells = []
        for j, cell in enumerate(row):
            css = (f' class="outcome-{_css(outcomes[i])}"'
                   if outcomes is not None and j == css_column else "")
            cells.append(f"<td{css}>{escape(cell)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return html_table(header, body)


def _css(outcome: str) -> str:
    """The report's outcome classes: a test that needs the internet is shown as a skip."""
    return "skipped" if outcome == "needs_internet" else outcome


def html_fragment(run: Run) -> str:
    """The section for report.html ("" when the run did not run podman's tests)."""
    suite = run.upstream
    if suite is None:
        return ""
    out = [f'<h2 id="{ANCHOR}">{escape(HEADING)}</h2>',
           f"<p>{escape(summary_sentence(suite))}</p>"]
    if mismatch := suite.version_mismatch():
        out.append(f"<p><strong>Note:</strong> {escape(mismatch)}.</p>")
    out.append(_html_table(_FILE_HEADER, _file_rows(suite)))
    failed = [t for t in suite.tests if t.outcome == "failed"]
    out.append(f"<h3>Failed ({len(failed)})</h3>")
    out.append("<p>None.</p>" if not failed else "<ul>" + "".join(
        f"<li>{escape(t.file)} #{t.number}: <strong>{escape(t.name)}</strong>"
        f"<pre>{escape(_tail(t.output))}</pre></li>" for t in failed) + "</ul>")
    out.append("<h3>Every test</h3>")
    out.append(_html_table(_TEST_HEADER, _test_rows(suite), 3,
                           [t.outcome for t in suite.tests]))
    return "".join(out)
