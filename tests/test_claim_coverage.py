"""Coverage of the guide: every registry claim is recorded by a scenario or says why not
(``unchecked``), scenarios record only registry claims; ``podnet coverage`` counts a
statement observed only when a run decided it, lists every statement once, and
docs/coverage.md is what it printed for a real run."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from harness import cli, coverage
from harness.claims import Claim, Registry, load_default
from harness.errors import UsageError
from harness.guide import revisions
from harness.lab.releases import RELEASES
from harness.results import store
from harness.results.schema import ClaimResult, Run
from tests.scenario_scan import Scan, scan

ROOT = Path(__file__).resolve().parent.parent
COVERAGE_DOC = ROOT / "docs" / "coverage.md"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_default()


@pytest.fixture(scope="module")
def scanned() -> Scan:
    return scan()


class OwedClaims:
    """Claim id -> the tests that owe it a result, looked up on the collected suites:
    each test's claim parameter and claims marker, as the plugin's bookkeeping reads
    them (harness.pytest_plugin.bookkeeping.owed)."""

    def __init__(self) -> None:
        self.tests: dict[str, list[str]] = {}

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        from harness.pytest_plugin.bookkeeping import owed

        for item in session.items:
            for want in owed(item):
                self.tests.setdefault(want.claim.id, []).append(item.nodeid)


@pytest.fixture(scope="module")
def owed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    collector = OwedClaims()
    code = pytest.main([str(ROOT / "scenarios"), "--collect-only", "-q", "-p", "podnet",
                        "-p", "no:cacheprovider", "-n", "0", "--results-dir",
                        str(tmp_path_factory.mktemp("results"))], plugins=[collector])
    assert code == pytest.ExitCode.OK, "the suites do not collect"
    return collector.tests


def test_no_orphan_claims(registry: Registry, owed: dict[str, list[str]]) -> None:
    """A claim no test owes carries ``unchecked`` with the reason."""
    orphans = [c.id for c in registry.claims if not c.unchecked and c.id not in owed]
    assert orphans == [], "give these a scenario, or unchecked = \"<why>\""


def test_tests_owe_only_registry_claims(registry: Registry, owed: dict[str, list[str]]
                                        ) -> None:
    assert set(owed) - {c.id for c in registry.claims} == set()


def test_tests_declare_the_claims_they_read(scanned: Scan) -> None:
    """A test that reads claims by id names them in @pytest.mark.claims, so the session
    knows what it owes when the test ends before recording them."""
    undeclared = {test: sorted(got - marked) for test, (got, marked) in scanned.tests.items()
                  if got - marked}
    assert undeclared == {}
    undeclared_selects = {test: sorted(selected - same)
                          for test, (selected, same) in scanned.selecting.items()
                          if selected - same}
    assert undeclared_selects == {}
    # Only tests that take the recorder fixture owe results (unit tests never do).
    assert [t for t, (_, marked) in scanned.tests.items()
            if marked and t not in scanned.recording] == []


def _result(claim: Claim, outcome: str, reason: str = "", protocol: str | None = None
            ) -> ClaimResult:
    return ClaimResult(claim.id, claim.section, claim.statement, claim.expected,
                       claim.expected if outcome in ("passed", "failed") else None, outcome,
                       method=claim.method, protocol=protocol, reason=reason)


def _run(run_id: str, release: str, results: list[ClaimResult]) -> Run:
    return Run(run_id, 0.0, {"release": release}, results)


def _judged(found: coverage.Coverage, claim_id: str) -> coverage.Judged:
    return next(j for s in found.sections for j in s.claims if j.claim.id == claim_id)


def test_only_a_decided_verdict_counts(registry: Registry) -> None:
    """A claim skipped everywhere is not observed (with the runs' reasons); one that
    passed is, naming the run that decided it."""
    skipped, passed = registry.guide_claims[:2]
    skipping = _run("r1", "trixie", [
        _result(skipped, "skipped", "pasta is not installed on the target", "tcp"),
        _result(skipped, "skipped", "pasta is not installed on the target", "udp"),
        _result(passed, "skipped", "no host3")])
    deciding = _run("r2", "sid", [_result(skipped, "inconclusive", "inconclusive: too few"),
                                  _result(passed, "passed")])
    found = coverage.of(registry, [skipping, deciding], revisions.seed())
    assert found.count("observed") == 1
    assert _judged(found, passed.id) == coverage.Judged(passed, "observed", "", ("sid r2",))
    not_seen = _judged(found, skipped.id)
    assert not_seen.status == "not observed" and not_seen.decided_by == ()
    assert not_seen.reason == ("skipped (trixie r1): pasta is not installed on the target; "
                               "inconclusive (sid r2): inconclusive: too few")
    in_seed = [c for c in registry.guide_claims if c.wording_in(revisions.seed())]
    assert found.summary == f"1 of {len(in_seed)} statements observed"


def test_a_claim_not_in_the_revision_is_not_counted(registry: Registry) -> None:
    """The newest revision lacks statements of the seed: coverage counts the revision's
    statements only and names the claims that are not in it."""
    newest, seed = revisions.newest(), revisions.seed()
    absent = [c.id for c in registry.guide_claims if c.wording_in(newest) is None]
    assert absent and all(registry.get(i).wording_in(seed) for i in absent)
    found = coverage.of(registry, [], newest)
    assert found.total == len(registry.guide_claims) - len(absent)
    assert found.absent == tuple(absent)
    assert found.revision == newest.label
    assert f"{len(absent)} claims of the registry are not in this revision" in found.absent_line


@pytest.mark.parametrize("outcome", ["skipped", "not_applicable", "inconclusive",
                                     "unsupported", "error"])
def test_an_undecided_outcome_is_never_observed(registry: Registry, outcome: str) -> None:
    claim = registry.guide_claims[0]
    found = coverage.of(registry, [_run("r", "trixie", [_result(claim, outcome, "why")])])
    assert found.count("observed") == 0
    assert _judged(found, claim.id).reason == f"{outcome.replace('_', ' ')} (trixie r): why"


def test_a_benchmark_verdict_counts_only_against_the_runs_resolution(
        registry: Registry) -> None:
    claim = registry.get("inbound.native-performance.pasta")
    run = _run("r", "trixie", [_result(claim, "passed")])
    run.summaries["performance"] = {"verdicts": {claim.id: {"verdict": "holds"}}}
    judged = _judged(coverage.of(registry, [run]), claim.id)
    assert judged.status == "not observed" and judged.reason == (
        f"passed (trixie r): {coverage.UNSEPARATED}")
    run.summaries["performance"]["resolution"] = {"value": 0.05}
    assert _judged(coverage.of(registry, [run]), claim.id).status == "observed"


def test_a_failed_verdict_is_observed(registry: Registry) -> None:
    claim = registry.guide_claims[0]
    found = coverage.of(registry, [_run("r", "trixie", [_result(claim, "failed")])])
    assert _judged(found, claim.id).status == "observed"


def test_weak_claims_are_reported_weak(registry: Registry) -> None:
    base = registry.guide_claims[0]
    weak = Claim(**{**base.__dict__, "weak": "the expectation is read from the observation"})
    patched = Registry(tuple(weak if c.id == base.id else c for c in registry.claims),
                       registry.tables)
    found = coverage.of(patched, [_run("r", "trixie", [_result(weak, "passed")])])
    assert _judged(found, base.id) == coverage.Judged(
        weak, "weak", "the expectation is read from the observation", ("trixie r",))
    assert found.count("observed") == 0 and found.count("weak") == 1


def test_claims_that_never_apply_say_so(registry: Registry) -> None:
    """older.map-guest-addr needs podman < 5.3 with passt >= 2024-08-21: not applicable on
    every release, so not observed, and with every release run coverage says it applies
    on none."""
    claim = registry.get("older.map-guest-addr")
    reason = "the guide's statement needs podman < 5.3; this target has 5.4.2"
    runs = [_run(f"r-{release}", release, [_result(claim, "not_applicable", reason)])
            for release in RELEASES]
    found = coverage.of(registry, runs)
    judged = _judged(found, claim.id)
    assert judged.status == "not observed"
    assert judged.reason.startswith("applies on no release the lab builds (bookworm, trixie, "
                                    "sid, experimental all run): not applicable (bookworm ")
    one = _judged(coverage.of(registry, runs[1:2]), claim.id)
    assert one.reason == f"not applicable (trixie r-trixie): {reason}"


def test_a_claim_no_run_recorded(registry: Registry) -> None:
    unchecked = next(c for c in registry.guide_claims if c.unchecked)
    other = next(c for c in registry.guide_claims if not c.unchecked)
    found = coverage.of(registry, [_run("r", "trixie", [])])
    assert _judged(found, unchecked.id).reason == f"unchecked: {unchecked.unchecked}"
    assert _judged(found, other.id).reason == coverage.NO_RESULT


def test_without_runs_the_plan_and_nothing_observed(registry: Registry) -> None:
    found = coverage.of(registry)
    assert found.statuses == coverage.PLAN_STATUSES and found.count("observed") == 0
    assert found.summary == "0 statements observed (no runs given)"
    assert all(j.reason for s in found.sections for j in s.claims if j.status != "planned")


def test_every_statement_has_one_status(registry: Registry) -> None:
    for found in (coverage.of(registry), coverage.of(registry, [_run("r", "trixie", [])])):
        listed = [j.claim.id for s in found.sections for j in s.claims]
        assert sorted([*listed, *found.absent]) == sorted(c.id for c in registry.guide_claims)
        assert all(j.status in found.statuses for s in found.sections for j in s.claims)


def test_claims_beyond_the_guide_are_not_counted(registry: Registry) -> None:
    """Coverage counts the guide's statements only: a claim beyond the guide (podman 6's
    pasta port forwarder) is in the registry but in no section and not in the total."""
    beyond = [c for c in registry.claims if c.beyond_guide]
    assert beyond, "the registry has claims beyond the guide"
    run = _run("r", "trixie", [_result(c, "passed") for c in beyond])
    found = coverage.of(registry, [run])
    listed = {j.claim.id for s in found.sections for j in s.claims}
    assert listed.isdisjoint(c.id for c in beyond)
    assert found.total == len(registry.claims) - len(beyond) - len(found.absent)
    assert found.count("observed") == 0


def test_sections_follow_the_guide(registry: Registry) -> None:
    titles = [s.title for s in coverage.of(registry).sections]
    assert titles[0] == "Overview"
    assert titles.index("Performance") < titles.index("HTTP reverse proxy")
    assert len(titles) == len(set(titles))


def test_coverage_command_without_runs(registry: Registry,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["coverage"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (f"guide {revisions.newest().label}, the registry's plan (no runs "
                        "given)")
    assert lines[-1] == "0 statements observed (no runs given)"
    for claim in registry.guide_claims:
        if claim.unchecked:
            assert any(claim.id in line and claim.unchecked in line for line in lines)


def test_coverage_command_with_runs(registry: Registry, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    claim = registry.guide_claims[0]
    run = _run("20261207T000000Z-abcdef", "trixie", [_result(claim, "passed")])
    directory = store.save(run, tmp_path / run.run_id).parent
    assert cli.main(["coverage", str(directory)]) == 0
    lines = capsys.readouterr().out.splitlines()
    # A run recorded without its revision judged the seed: coverage counts the seed's.
    assert lines[0] == f"guide {revisions.seed().label}, from 1 run: trixie 20261207T000000Z-abcdef"
    assert any(claim.id in line and "decided by trixie 20261207T000000Z-abcdef" in line
               for line in lines)
    in_seed = [c for c in registry.guide_claims if c.wording_in(revisions.seed())]
    assert lines[-1] == f"1 of {len(in_seed)} statements observed"
    assert cli.main(["coverage", "--markdown", str(directory)]) == 0
    doc = capsys.readouterr().out
    assert doc.startswith(coverage.DOC_TITLE) and coverage.DOC_HEADER in doc
    assert f"Guide revision: {revisions.seed().label}." in doc
    assert "Produced from `20261207T000000Z-abcdef` (trixie, podman unknown" in doc
    assert cli.main(["coverage", str(tmp_path / "nothing")]) == 2


def test_docs_coverage_comes_from_a_run(registry: Registry) -> None:
    """docs/coverage.md is what `podnet coverage --markdown RUN` printed for a real run:
    its header names the run, and every claim it lists is still in the registry."""
    text = COVERAGE_DOC.read_text()
    assert text.startswith(coverage.DOC_TITLE) and coverage.DOC_HEADER in text
    assert re.search(r"^Guide revision: [0-9a-f]{7} \(\d{4}-\d{2}-\d{2}\)\.$", text, re.MULTILINE)
    assert re.search(r"^Produced from `\d{8}T\d{6}Z-[0-9a-f]{6}` \(", text, re.MULTILINE)
    ids = {c.id for c in registry.claims}
    # The claims' table (a section's name may be in backticks too: `Network=`).
    listed = re.findall(r"^\| `([^`]+)` \| (?:observed|weak|not observed) \|", text, re.MULTILINE)
    assert listed and [i for i in listed if i not in ids] == []
    assert re.search(r"^\d+ of \d+ statements observed$", text, re.MULTILINE)


@pytest.mark.parametrize("value", ['""', '"  "', '"""two\nlines"""', "true"])
def test_reason_keys_are_one_line(tmp_path: Path, value: str) -> None:
    path = tmp_path / "a.toml"
    path.write_text(textwrap.dedent(f"""
        [[claim]]
        id = "x.one"
        section = "Overview"
        anchor = "#overview"
        statement = "s"
        property = "p"
        expected = true
        unchecked = {value}
        """))
    with pytest.raises(UsageError, match="'unchecked' must be one line"):
        Registry.load(path)


SCENARIO = '''
import pytest
from harness.claims import load_default

REGISTRY = load_default()
CLAIMS = REGISTRY.select("prop_a", method="pasta")


def _params(prop):
    return [pytest.param(c) for c in REGISTRY.select(prop)]


@pytest.mark.parametrize("claim", _params("prop_b"))
def test_by_property(claim):
    pass


@pytest.mark.claims("id.one")
def test_by_id(recorder):
    REGISTRY.select("prop_c", method="pasta")
    recorder.check(REGISTRY.get("id.one"), True)
    recorder.check(REGISTRY.get("id.two"), True)
'''


def test_scan_finds_each_way_of_selecting(tmp_path: Path) -> None:
    path = tmp_path / "test_x.py"
    path.write_text(SCENARIO)
    found = scan([path])
    assert sorted(found.properties) == ["prop_a", "prop_b", "prop_c"]
    assert sorted(found.ids) == ["id.one", "id.two"]
    assert found.tests["test_x.py::test_by_id"] == ({"id.one", "id.two"}, {"id.one"})
    assert found.recording == {"test_x.py::test_by_id"}
    assert found.selecting["test_x.py::test_by_id"] == ({"prop_c"}, set())


def test_every_report_carries_the_coverage_of_its_run(registry: Registry) -> None:
    from harness.reports import html, markdown

    claim = registry.guide_claims[0]
    run = _run("20261128T000000Z-abcdef", "trixie", [_result(claim, "passed")])
    last = coverage.of(registry, [run], revisions.judged(run.guide)).summary
    assert last.startswith("1 of ")
    text = markdown.render(run, [], registry)
    assert "## Coverage of the guide" in text and last in text
    assert "decided by trixie 20261128T000000Z-abcdef" in text
    page = html.render(run, [], None, registry)
    assert "Coverage of the guide" in page and last in page
