"""The release matrix, rendered from recorded runs of two releases (tests/fixtures/matrix:
sid with podman 5.8.6 and experimental with podman 6.1.1, see trim.py there)."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_claims_registry import guide_anchors

from harness import guide_sections
from harness.claims import load_default
from harness.guide import revisions
from harness.matrix import Column, build
from harness.matrix_changes import BECAME
from harness.matrix_render import THROUGHOUT, markdown, render_matrix
from harness.reports import render_run
from harness.results import store
from harness.results.schema import ClaimResult, Run
from harness.words import NOT_RUN, OUTCOME_WORDS, PROPERTY_WORDS, value_words
from tests import recorded

FIXTURES = Path(__file__).parent / "fixtures" / "matrix"
RELEASES = ("sid", "experimental")


class Cells(HTMLParser):
    """The text of every matrix cell (td) and of every change item (li), and the ids
    of the page."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self.items: list[str] = []
        self.links: list[str] = []
        self.ids: set[str] = set()
        self._into: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        if tag == "td" and "o-" in (found.get("class") or ""):
            self.cells.append("")
            self._into = self.cells
        elif tag == "li":
            self.items.append("")
            self._into = self.items
        elif tag == "a" and found.get("href"):
            self.links.append(str(found["href"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "li"):
            self._into = None

    def handle_data(self, data: str) -> None:
        if self._into is not None:
            self._into[-1] += data


def parse(text: str) -> Cells:
    cells = Cells()
    cells.feed(text)
    return cells


@pytest.fixture
def run_dirs(tmp_path: Path) -> list[Path]:
    """The recorded runs, each with its own report rendered (the matrix links to it)."""
    dirs = []
    for release in RELEASES:
        run_dir = tmp_path / "results" / release
        run_dir.mkdir(parents=True)
        shutil.copy(FIXTURES / release / "run.json", run_dir / "run.json")
        render_run(run_dir)
        dirs.append(run_dir)
    return dirs


@pytest.fixture
def rendered(run_dirs: list[Path], tmp_path: Path) -> tuple[str, str, Path]:
    md, page = render_matrix(run_dirs, tmp_path / "results")
    assert md.parent == page.parent and md.parent.parent == tmp_path / "results"
    return md.read_text(), page.read_text(), page.parent


def guide_order() -> list[str]:
    """The guide's anchors in the order the package records (every revision's)."""
    return [anchor for anchor, _ in guide_sections.headings()]


def test_the_section_order_recorded_in_the_package_is_each_revisions() -> None:
    """Every shipped revision's headings are in the recorded order, in that revision's
    order, with its titles."""
    recorded = guide_order()
    assert len(recorded) == len(set(recorded))
    titles = dict(guide_sections.headings())
    for revision in (revisions.seed(), revisions.newest()):
        anchors = guide_anchors(revision.text)
        assert [a for a in recorded if a in anchors] == list(anchors), revision.label
        assert all(titles[a] == title for a, title in anchors.items())


def test_rows_follow_the_guides_section_order(rendered: tuple[str, str, Path]) -> None:
    md, _, _ = rendered
    registry = load_default()
    anchor_of = {c.section: c.anchor for c in registry.claims}
    headings = [line[4:] for line in md.splitlines() if line.startswith("### ")]
    assert len(headings) >= 8
    order = guide_order()
    positions = [order.index(anchor_of[h]) for h in headings]
    assert positions == sorted(positions), headings
    assert headings[0] == "Inbound TCP/UDP connections > Overview"
    assert headings[-1].startswith("Documentation relevant to older Podman versions")


def test_rows_follow_the_guide_whatever_order_a_run_recorded(tmp_path: Path) -> None:
    """The wrong world: results recorded back to front still come out in guide order."""
    run = store.load(FIXTURES / "sid")
    run.results.reverse()
    matrix = build([Column(run, tmp_path)], load_default(), tmp_path)
    order = guide_order()
    registry = load_default()
    positions = [order.index(registry.get(row.key[0]).anchor) for row in matrix.rows]
    assert positions == sorted(positions)
    assert next(s for s, _ in matrix.sections()) == "Inbound TCP/UDP connections > Overview"


def test_every_cell_names_its_outcome_in_words(rendered: tuple[str, str, Path]) -> None:
    md, page, _ = rendered
    words = (*OUTCOME_WORDS.values(), NOT_RUN)
    cells = parse(page).cells
    rows = len(load_default().claims)
    assert len(cells) >= 2 * 40 and len(cells) <= 2 * rows * 2
    assert [c for c in cells if not c.startswith(words)] == []
    # not a dump of values: no Python reprs, no symbol without words
    assert not [c for c in cells if re.search(r"\b(True|False|None)\b|[✔✘]", c)]
    for line in md.splitlines():
        if line.startswith("| ") and "<sub>" in line:
            for cell in line.split(" | ")[2:]:
                assert re.sub(r"\[([^]]*)\]\([^)]*\)", r"\1", cell).startswith(words), line


def test_cells_say_what_the_guide_says_and_what_happened(
        rendered: tuple[str, str, Path]) -> None:
    md, _, _ = rendered
    row = next(line for line in md.splitlines()
               if line.startswith("| pasta + custom network does not preserve the client's "
                                  "source address; checked over IPv4 (TCP)"))
    assert "| not preserved | [as the guide says](" in row
    assert row.count("): not preserved") == 2
    port = next(line for line in md.splitlines()
                if "<sub>`inbound.minimum-port.pasta`</sub>" in line)
    assert "| port 80 needs ip_unprivileged_port_start ≤ 80 |" in port


def expected_changes() -> dict[tuple[str, str], tuple[str, str]]:
    """Rows whose outcome differs between the two recorded runs, from run.json alone."""
    outcomes = []
    for release in RELEASES:
        data = json.loads((FIXTURES / release / "run.json").read_text())
        outcomes.append({(r["claim_id"], r["protocol"] or ""): r["outcome"]
                         for r in data["results"]})
    return {key: (outcomes[0][key], outcomes[1][key]) for key in outcomes[0]
            if key in outcomes[1] and outcomes[0][key] != outcomes[1][key]}


def test_the_change_list_names_where_each_change_happens(
        rendered: tuple[str, str, Path]) -> None:
    md, page, _ = rendered
    changes = expected_changes()
    assert changes, "the fixtures should hold at least one change"
    top = md.split("## Per release")[0].split("## What changes across the releases")[1]
    changed = top.split(THROUGHOUT)[0]
    heading, under = "", {}
    for line in changed.splitlines():
        if line.startswith("With "):
            heading = line
        elif line.startswith("- "):
            under[line[2:].split(" — ")[0]] = heading
    assert len(parse(page).items) == len(under) + top.count("\n- ") - changed.count("\n- ")
    registry = load_default()
    statements = {registry.get(claim_id).statement for claim_id, _ in changes}
    assert {s.removesuffix(" (TCP)").removesuffix(" (UDP)") for s in under} == statements
    for (claim_id, protocol), (before, after) in changes.items():
        statement = registry.get(claim_id).statement
        found = under.get(statement) or under[f"{statement} ({protocol.upper()})"]
        assert found.startswith("With **experimental (podman 6.1.1, pasta"), found
        assert f", {OUTCOME_WORDS[before]} on sid, " in found
        assert BECAME[after][0] in found or BECAME[after][1] in found


def test_statements_that_differ_on_every_release_are_named_too(
        rendered: tuple[str, str, Path]) -> None:
    md, _, _ = rendered
    top = md.split("## Per release")[0]
    throughout = top.split(f"{THROUGHOUT}:")[1]
    statement = load_default().get("ports.troubleshooting.no-network-pasta-fails").statement
    assert f"- {statement} — the guide: says “External interface not usable”; on sid: " \
        "says “hello world”; on experimental: says “hello world”" in throughout


def test_the_changes_come_first_then_the_summary(rendered: tuple[str, str, Path]) -> None:
    md, page, _ = rendered
    assert page.index("What changes across the releases") < page.index("Per release") \
        < page.index('<table class="matrix"')
    summary = md.split("## Per release")[1].split("##")[0]
    assert ("| release | as the guide says | differs | unsupported | inconclusive | not run "
            "| error |") in summary
    for release in RELEASES:
        assert f"[{release} (podman" in summary


def test_every_cell_links_to_its_result_in_that_releases_report(
        rendered: tuple[str, str, Path]) -> None:
    _, page, out = rendered
    links = [link for link in parse(page).links if "report.html" in link]
    assert links
    for link in links:
        path, _, anchor = link.partition("#")
        report = (out / path).resolve()
        assert report.exists(), link
        if anchor:
            assert anchor in parse(report.read_text()).ids, link


def test_the_page_filters_and_needs_nothing_from_outside(
        rendered: tuple[str, str, Path]) -> None:
    _, page, _ = rendered
    assert 'id="show"' in page and "<script>" in page
    assert 'class="differs' in page and "changes" in page
    assert "position: sticky" in page
    assert "http://" not in page and "https://" not in page


def test_performance_ratios_side_by_side() -> None:
    runs = [store.load(Path(__file__).parent / "fixtures" / "runs" / "base"),
            Run.from_dict(recorded.new_record())]
    matrix = build([Column(r, Path("/nonexistent")) for r in runs], load_default(),
                   Path("/nonexistent"))
    ratios = matrix.ratios()
    assert ratios and all(len(entries) == 2 for _, entries in ratios)
    text = markdown(matrix)
    assert "## Performance relative to the reference" in text
    assert re.search(r"\| latency of pasta, inbound TCP, relative to host "
                     r"\| \d\.\d{3} \(95% interval \d\.\d{3} to \d\.\d{3}\)", text)


def test_unsupported_cells_give_podmans_message(tmp_path: Path) -> None:
    def run(release: str, outcome: str, reason: str = "") -> Run:
        result = ClaimResult(
            claim_id="inbound.source-address.slirp4netns-rootlesskit", section="x",
            statement="x", expected=False, observed=False if outcome == "passed" else None,
            outcome=outcome, protocol="tcp", reason=reason,
            evidence={"podman_message": reason} if reason else {})
        return Run(release, 0.0, {"release": release, "versions": {"podman": release}},
                   [result])

    message = "Error: slirp4netns is not supported"
    matrix = build([Column(run("5.8.6", "passed"), tmp_path),
                    Column(run("6.1.1", "unsupported", message), tmp_path)],
                   load_default(), tmp_path)
    (row,) = matrix.rows
    assert [c.text for c in row.cells] == ["as the guide says: not preserved",
                                           f"unsupported: {message}"]
    assert row.differs and matrix.summary(1)[2] == ("unsupported", 1)
    assert [r.key for r, _ in matrix.changes()] == [row.key]


def test_every_property_of_the_registry_has_words() -> None:
    missing = {c.property for c in load_default().claims} - set(PROPERTY_WORDS)
    assert missing == set()


@pytest.mark.parametrize(("prop", "value", "words"), [
    ("source_address_preserved", False, "not preserved"),
    ("bind_device_supported", True, "supported"),
    ("minimum_port", "ip_unprivileged_port_start", "port 80 needs ip_unprivileged_port_start ≤ 80"),
    ("minimum_port", 0, "any port, whatever ip_unprivileged_port_start says"),
    ("etc_hosts_addresses", {"host.containers.internal": "169.254.1.2"},
     "/etc/hosts: host.containers.internal at 169.254.1.2"),
    ("no_such_property", True, "yes"),
    ("source_address_preserved", None, "nothing observed"),
])
def test_values_in_words(prop: str, value: object, words: str) -> None:
    assert value_words(prop, value) == words


def test_the_run_report_words_its_claims_like_the_matrix(run_dirs: list[Path]) -> None:
    page = (run_dirs[1] / "report.html").read_text()
    md = (run_dirs[1] / "report.md").read_text()
    assert 'id="claim-inbound.source-address.pasta-custom-network-tcp"' in page
    assert ("| pasta + custom network does not preserve the client's source address; checked over IPv4 "
            "<sub>`inbound.source-address.pasta-custom-network`</sub> | tcp | not preserved "
            "| as the guide says: not preserved |") in md


def test_an_error_is_not_a_change_of_the_guides_statement(tmp_path: Path) -> None:
    """A run that broke off (every result an error) changes nothing the guide says."""
    broken = store.load(FIXTURES / "experimental")
    for result in broken.results:
        result.outcome, result.reason = "error", "not recorded: the session ended early"
    columns = [Column(store.load(FIXTURES / "sid"), tmp_path), Column(broken, tmp_path)]
    matrix = build(columns, load_default(), tmp_path)
    assert matrix.changes() == []
    assert dict(matrix.summary(1))["error"] == len(matrix.rows)
