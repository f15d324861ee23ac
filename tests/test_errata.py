"""Errata per revision: a run's contradictions of the guide located in every shipped
revision, as still standing in the newest (with its line) or reworded (where)."""

from __future__ import annotations

from harness.claims import load_default
from harness.examples.outputs import normalise
from harness.guide import revisions
from harness.reports import errata, markdown
from harness.results.schema import ClaimResult, Run

SEED_MAP_GW = "Add the pasta option `--map-gw` and connect to `10.0.2.2:8080`"
PASTA_8088 = ("851253 /usr/bin/pasta --config-net -t 8088-8088:80-80 --dns-forward 169.254.0.1 "
              "-u none -T none -U none --no-map-gw --quiet --netns "
              "/run/user/1004/netns/netns-830a424a-0592-361f-556b-7bef910405cf")


def _run(guide: revisions.Revision, *results: ClaimResult) -> Run:
    return Run("20261207T120000Z-abcdef", 0.0, {"versions": {"podman": "5.4.2"},
                                                 "target": "lab:trixie"},
               list(results), guide=guide.record())


def _result(claim_id: str, outcome: str, revision: revisions.Revision,
            evidence: dict[str, object] | None = None) -> ClaimResult:
    claim = load_default(revision).get(claim_id)
    return ClaimResult(claim.id, claim.section, claim.statement, claim.expected,
                       claim.expected if outcome == "passed" else not claim.expected, outcome,
                       method=claim.method, evidence=evidence or {})


def _example(example: str, line: int, diff: str) -> ClaimResult:
    return ClaimResult(f"guide-example:{example}", "s", "the example runs", "ran as written",
                       "output differs", "failed", evidence={
                           "lines": [line, line + 40],
                           "actions": [{"line": line + 20, "step": "3", "command": "pgrep",
                                        "diff": diff, "observed": "x"}]})


def test_a_reworded_statement_contradicted_in_a_run_of_the_newest() -> None:
    """--map-gw passes as the newest words it (the default gateway); the same observation
    contradicts the seed's 10.0.2.2: an erratum reworded in ca0550c."""
    newest = revisions.newest()
    run = _run(newest, _result("outbound.localhost.pasta-map-gw", "passed", newest, {
        "wordings": [{"quote": SEED_MAP_GW, "held": False}]}))
    (found,) = errata.collect(run, load_default(newest))
    assert found.quote == SEED_MAP_GW and not found.stands
    assert found.status == "reworded in ca0550c (2026-01-03)"
    assert found.history == "707d6f6 (2025-01-01) to 0975204 (2025-12-11)"
    assert found.found[0][1] == 681


def test_the_same_erratum_from_a_run_of_the_seed() -> None:
    seed = revisions.seed()
    run = _run(seed, _result("outbound.localhost.pasta-map-gw", "failed", seed))
    (found,) = errata.collect(run, load_default(seed))
    assert found.status == "reworded in ca0550c (2026-01-03)"
    assert "10.0.2.2" in found.statement


def test_contradictions_that_still_stand_with_their_lines_in_the_newest() -> None:
    newest = revisions.newest()
    claim = load_default(newest).get("ports.troubleshooting.no-network-pasta-fails")
    example = "example-use-pasta-option--t-to-publish-a-port"
    # The runner's diff shows both sides normalised (process and user ids, namespaces).
    shown, printed = normalise(PASTA_8088)[0], normalise(PASTA_8088.replace("8088", "8080"))[0]
    assert shown.startswith("PID /usr/bin/pasta") and "netns-ID" in shown
    diff = f"--- the guide\n+++ observed\n@@ -1 +1 @@\n-{shown}\n+{printed}"
    run = _run(newest, _result(claim.id, "failed", newest),
               _example(example, newest.headings[f"#{example}"], diff))
    found = errata.collect(run, load_default(newest))
    assert [e.status for e in found] == ["still stands in 19f4819 (line 1775)",
                                          f"still stands in 19f4819 (line {newest.line_of(claim.quote)})"]
    assert found[0].history == "707d6f6 (2025-01-01) to 19f4819 (2026-08-10)"
    text = "\n".join(markdown.render(run, []).splitlines())
    assert "## Errata of the guide" in text
    assert "### Errata of 19f4819 (2026-08-10), for the guide's tracker" in text
    assert "(README.md line 1775 at 19f4819):" in text


def test_a_run_without_contradictions_has_no_errata_section() -> None:
    newest = revisions.newest()
    run = _run(newest, _result("outbound.localhost.pasta-map-gw", "passed", newest, {
        "wordings": [{"quote": SEED_MAP_GW, "held": True}]}))
    assert errata.collect(run, load_default(newest)) == []
    assert errata.HEADING not in markdown.render(run, [])
