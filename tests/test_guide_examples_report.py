"""The report's section "The guide's examples", on a recorded run: every example of the
guide run in a trixie lab (tests/fixtures/guide_examples/run.json, other results left
out)."""

from __future__ import annotations

import copy
from pathlib import Path

from harness.examples import report
from harness.reports import html, markdown
from harness.results import store
from harness.results.schema import Run

RUN = Path(__file__).resolve().parent / "fixtures" / "guide_examples" / "run.json"
#: The seed revision of the guide, whose examples these tests cite by line.
GUIDE = Path(__file__).resolve().parent.parent / "harness" / "data" / "guide" / "707d6f6.md"


def _run() -> Run:
    return store.load(RUN)


def test_every_example_is_listed_with_its_result() -> None:
    run = _run()
    lines = report.example_lines(run)
    assert len(lines) == len(report.guide_example_results(run)) == 32
    assert report.counts(run) == {"ran as written": 1, "ran with substitutions": 10,
                                  "failed": 1, "output differs": 2, "not run": 18}
    by_id = {line.example: line for line in lines}
    loopback = by_id["example-connect-to-hosts-localhost-using-the-pasta-option---map-host-loopback"]
    assert loopback.result == "ran with substitutions"
    assert "docker.io/library/fedora -> localhost/podnet/web" in loopback.detail
    assert "prerequisite" not in loopback.detail  # shown once, as what was started first
    assert loopback.prerequisites and "127.0.0.1:8080" in loopback.prerequisites[0]
    assert by_id["network-backends"].result == "ran as written"
    assert by_id["network-backends"].detail == ""
    slirp = by_id["example-connect-to-hosts-main-network-interface-using-slirp4netns"]
    assert slirp.result == "not run" and "needs first" in slirp.detail


def test_every_erratum_has_its_guide_line_block_and_what_happened() -> None:
    found = report.errata(_run())
    assert [e.line for e in found] == [683, 903, 1582, 1597]
    guide = GUIDE.read_text(encoding="utf-8").splitlines()
    for erratum in found:
        assert guide[erratum.line - 1].startswith("```")  # the block's opening fence
    failed = found[0]
    assert failed.block.startswith("podman run --rm \\\n")
    assert "--network=pasta:--map-gw" in failed.block
    assert failed.happened.startswith("exited 28: curl: (28) Failed to connect to 10.0.2.2")
    differs = next(e for e in found if e.line == 903)
    assert "+mynet" in differs.diff.splitlines()
    assert differs.correction.startswith("if the observed output is right")
    silent = next(e for e in found if e.line == 1582)
    assert silent.correction == ""  # printed nothing: no evident correction


def test_the_section_is_in_both_reports() -> None:
    run = _run()
    text = markdown.render(run, [])
    assert "## The guide's examples" in text
    assert "32 examples: 1 ran as written, 10 ran with substitutions, 1 failed, " \
           "2 output differs, 18 not run." in text
    assert "### Errata (4)" in text and "- **Line 903** (step -)" in text
    assert "```diff" in text
    assert "started first: a web server on host1 listening on 127.0.0.1:8080 -> " in text
    page = html.render(run, [])
    assert '<h2 id="guide-examples">' in page and "<h3>Errata (4)</h3>" in page
    assert "&lt;title&gt;Welcome to nginx!&lt;/title&gt;" in page


def test_a_run_without_errata_says_so_and_one_without_examples_has_no_section() -> None:
    run = _run()
    clean = copy.deepcopy(run)
    clean.results = [r for r in clean.results
                     if r.observed not in report.ERRATA_RESULTS]
    assert report.errata(clean) == []
    assert "None: every example that ran did what the guide shows." in markdown.render(clean, [])
    none = copy.deepcopy(run)
    none.results = []
    assert "The guide's examples" not in markdown.render(none, [])
    assert "The guide's examples" not in html.render(none, [])


def test_a_correction_only_where_the_stderr_makes_it_evident() -> None:
    command = "podman run --rm\n  --network=pasta image"
    assert report.correction("bash: line 2: --network=pasta: command not found", command) \
        == "a line continuation (\\) is missing on the line before `--network=pasta`"
    assert "`jq` is not a command" in report.correction("bash: line 1: jq: command not found",
                                                         "podman info | jq")
    assert "`--map-foo`" in report.correction("Error: unknown flag: --map-foo", "podman run")
    assert report.correction("Error: no such container", "podman stop x") == ""
