"""Coverage of the guide: every registry claim is recorded by a scenario or says why not
(``unchecked``), scenarios record only registry claims, ``podnet coverage`` lists every
statement once, and docs/coverage.md is what it prints."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness import cli, coverage
from harness.claims import Claim, Registry, load_default
from harness.errors import UsageError
from tests.scenario_scan import Scan, scan

ROOT = Path(__file__).resolve().parent.parent
COVERAGE_DOC = ROOT / "docs" / "coverage.md"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_default()


@pytest.fixture(scope="module")
def scanned() -> Scan:
    return scan()


def recorded(claim: Claim, found: Scan) -> bool:
    return claim.property in found.properties or claim.id in found.ids


def test_no_orphan_claims(registry: Registry, scanned: Scan) -> None:
    """A claim no scenario records carries ``unchecked`` with the reason."""
    orphans = [c.id for c in registry.claims if not c.unchecked and not recorded(c, scanned)]
    assert orphans == [], "give these a scenario, or unchecked = \"<why>\""


def test_scenarios_record_only_registry_claims(registry: Registry, scanned: Scan) -> None:
    ids = {c.id for c in registry.claims}
    properties = {c.property for c in registry.claims}
    assert {i: w for i, w in scanned.ids.items() if i not in ids} == {}
    assert {p: w for p, w in scanned.properties.items() if p not in properties} == {}


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


def test_recorded_properties_match_the_scenarios(registry: Registry, scanned: Scan) -> None:
    """harness.coverage.RECORDED_PROPERTIES is what the scenarios record, claim by claim."""
    differ = [(c.id, c.property) for c in registry.claims
              if (c.property in coverage.RECORDED_PROPERTIES) != recorded(c, scanned)]
    assert differ == []
    unused = coverage.RECORDED_PROPERTIES - {c.property for c in registry.claims}
    assert unused == set()


def test_every_statement_has_one_status(registry: Registry) -> None:
    found = coverage.sections(registry)
    listed = [j.claim.id for s in found for j in s.claims]
    assert sorted(listed) == sorted(c.id for c in registry.guide_claims)
    assert all(j.status in coverage.STATUSES for s in found for j in s.claims)
    assert all(j.reason for s in found for j in s.claims if j.status != "observed")


def test_claims_beyond_the_guide_are_not_counted(registry: Registry) -> None:
    """Coverage counts the guide's statements only: a claim beyond the guide (podman 6's
    pasta port forwarder) is in the registry but in no section and not in the total."""
    beyond = [c for c in registry.claims if c.beyond_guide]
    assert beyond, "the registry has claims beyond the guide"
    listed = {j.claim.id for s in coverage.sections(registry) for j in s.claims}
    assert listed.isdisjoint(c.id for c in beyond)
    total = coverage.summary(coverage.sections(registry)).split(" of ")[1].split()[0]
    assert int(total) == len(registry.claims) - len(beyond)


def test_sections_follow_the_guide(registry: Registry) -> None:
    titles = [s.title for s in coverage.sections(registry)]
    assert titles[0] == "Overview"
    assert titles.index("Performance") < titles.index("HTTP reverse proxy")
    assert len(titles) == len(set(titles))


def test_coverage_command(registry: Registry, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["coverage"]) == 0
    lines = capsys.readouterr().out.splitlines()
    observed = sum(1 for c in registry.guide_claims if coverage.judge(c).status == "observed")
    assert lines[-1] == f"{observed} of {len(registry.guide_claims)} statements observed"
    for claim in registry.claims:
        if claim.unchecked:
            assert any(claim.id in line and claim.unchecked in line for line in lines)


def test_docs_coverage_is_up_to_date(registry: Registry) -> None:
    assert COVERAGE_DOC.read_text() == coverage.document(registry), (
        "regenerate it: podnet coverage --markdown > docs/coverage.md")


def test_status_of_a_claim() -> None:
    base = load_default().get("ports.unprivileged.read")
    assert coverage.judge(base).status == "observed"
    weak = Claim(**{**base.__dict__, "weak": "cannot fail"})
    assert (coverage.judge(weak).status, coverage.judge(weak).reason) == ("weak", "cannot fail")
    both = Claim(**{**weak.__dict__, "unchecked": "no scenario yet"})
    assert coverage.judge(both).status == "unchecked"
    unknown = Claim(**{**base.__dict__, "property": "nobody_records_this"})
    assert (coverage.judge(unknown).status, coverage.judge(unknown).reason) == (
        "unchecked", coverage.NO_SCENARIO)


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


def test_every_report_carries_the_coverage_table(registry: Registry) -> None:
    from harness.reports import html, markdown
    from harness.results.schema import Run

    run = Run("20261128T000000Z-abcdef", 0.0)
    last = coverage.summary(coverage.sections(registry))
    text = markdown.render(run, [], registry)
    assert "## Coverage of the guide" in text and last in text
    page = html.render(run, [], None, registry)
    assert "Coverage of the guide" in page and last in page
