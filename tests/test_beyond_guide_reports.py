"""Claims beyond the guide (podman 6's pasta port forwarder) in every report: the run's
Markdown and HTML reports list them in a group of their own, the verify summary marks
their area, and the release matrix words them against the documentation, in a section of
their own and outside the per-release count of the guide's statements."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from harness.bench.summary import PerformanceSummary
from harness.claims import load_default
from harness.matrix import Column, build
from harness.matrix_changes import change_groups, group_words
from harness.matrix_render import markdown as matrix_markdown
from harness.reports import html, markdown
from harness.results.schema import ClaimResult, Run
from harness.ui import summary_table
from harness.words import Words, result_words

BEYOND = "beyond.source-address.pasta-custom-network-pesto"
GUIDE = "inbound.source-address.pasta-custom-network"
#: What podman 5.4.2 reports where it does not offer the setting (trixie).
PODMAN5 = ("podman 5.4.2 does not offer rootless_port_forwarder: 'podman info --format json' "
           "reports no host.rootlessPortForwarder (podman ignores containers.conf keys it does "
           "not know)")


def _result(claim_id: str, outcome: str, observed: object, reason: str = "") -> ClaimResult:
    claim = load_default().get(claim_id)
    return ClaimResult(claim_id=claim_id, section=claim.section, statement=claim.statement,
                       expected=claim.expected, observed=observed, outcome=outcome,
                       method=claim.method, protocol="tcp", reason=reason,
                       evidence={"podman_message": reason} if reason else {})


def _run(release: str, podman: str, beyond_outcome: str) -> Run:
    beyond = (_result(BEYOND, "unsupported", "unsupported", PODMAN5)
              if beyond_outcome == "unsupported" else _result(BEYOND, beyond_outcome, True))
    return Run(release, 0.0, {"release": release, "versions": {"podman": podman}},
               [_result(GUIDE, "passed", False), beyond])


def test_words_say_as_documented() -> None:
    words = Words(load_default())
    run = _run("experimental", "6.1.1", "passed")
    assert result_words(words, run.results[0]) == "as the guide says: not preserved"
    assert result_words(words, run.results[1]) == "as documented: preserved"
    failed = _result(BEYOND, "failed", False)
    assert result_words(words, failed) == "differs from the documentation: not preserved"


def test_run_reports_group_them_apart() -> None:
    run = _run("experimental", "6.1.1", "passed")
    text = markdown.render(run, [], load_default())
    claims, beyond = text.split("### Beyond the guide", 1)
    assert GUIDE in claims and BEYOND not in claims.split("## Claim results", 1)[1]
    assert BEYOND in beyond.split("## Coverage of the guide", 1)[0]
    assert "| statement | protocol | documented | what happened | source |" in beyond
    assert "podman-run(1) --network" in beyond and "as documented: preserved" in beyond
    assert BEYOND not in text.split("## Coverage of the guide", 1)[1]
    page = html.render(run, [], None, load_default())
    assert page.index(GUIDE) < page.index('id="beyond-the-guide"') < page.index(BEYOND)


def test_verify_summary_marks_their_area() -> None:
    console = Console(width=100, record=True)
    console.print(summary_table(_run("experimental", "6.1.1", "passed")))
    lines = console.export_text().splitlines()
    guide = next(i for i, line in enumerate(lines) if "Overview" in line)
    beyond = next(i for i, line in enumerate(lines)
                  if 'beyond the guide: podman 6: rootless_port_forwarder = "pasta"' in line)
    assert guide < beyond


def test_matrix_shows_them_apart_and_counts_only_the_guide(tmp_path: Path) -> None:
    columns = [Column(_run("trixie", "5.4.2", "unsupported"), tmp_path),
               Column(_run("experimental", "6.1.1", "passed"), tmp_path)]
    matrix = build(columns, load_default(), tmp_path)
    sections = [section for section, _ in matrix.sections()]
    assert sections[-1].startswith("Beyond the guide")
    (row,) = [r for r in matrix.rows if r.key[0] == BEYOND]
    assert row.beyond_guide and row.expectation_label == "documented"
    assert [c.text for c in row.cells] == [f"unsupported: {PODMAN5}",
                                           "as documented: preserved"]
    # The per-release summary counts the guide's one statement, not the claim beyond it.
    assert sum(n for _, n in matrix.summary(0)) == 1
    assert dict(matrix.summary(0))["unsupported"] == 0
    (group,) = [g for g in change_groups(matrix) if g.beyond_guide]
    words = group_words(matrix, group)
    assert "1 statement beyond the guide, unsupported on trixie, is now as documented" in words
    text = matrix_markdown(matrix)
    assert "| statement | documented |" in text


def test_performance_tables_mark_the_method() -> None:
    from harness.reports.perf import method_words

    assert method_words("pasta-custom-network-pesto") == (
        "pasta-custom-network-pesto (beyond the guide)")
    assert method_words("pasta-custom-network") == "pasta-custom-network"
    assert method_words("native") == "native"


def _summary(method: str) -> PerformanceSummary:
    return PerformanceSummary.from_dict({
        "settings": {"rounds": 5, "for": method},
        "ratios": [{"method": method, "median": 1.0}], "verdicts": {f"{method}.claim": {}},
        "resolution": {"value": 0.1} if method == "host" else None})


def test_one_performance_summary_whichever_measurement_ran_first() -> None:
    """The guide's measurement leads the run's performance summary (its settings, noise
    control); the method beyond the guide, measured on its own, adds its ratios
    and verdicts and is listed under ``separate``, also when it ran first."""
    from harness.bench.summary import publish

    for separate_first in (False, True):
        run = Run("r", 0.0)
        steps = [(_summary("host"), ["host"], False),
                 (_summary("pesto"), ["pasta-custom-network-pesto"], True)]
        for summary, methods, separate in (steps[::-1] if separate_first else steps):
            returned = publish(run, summary, methods, separate=separate)
            assert returned is run.summaries["performance"]
        published = Run.from_dict(json.loads(json.dumps(run.to_dict()))).summaries["performance"]
        assert published["settings"] == {"rounds": 5, "for": "host"}
        assert published["resolution"]["value"] == 0.1
        assert [r["method"] for r in published["ratios"]] == ["host", "pesto"]
        assert set(published["verdicts"]) == {"host.claim", "pesto.claim"}
        assert published["separate"] == [{"methods": ["pasta-custom-network-pesto"],
                                          "settings": {"rounds": 5, "for": "pesto"}}]
