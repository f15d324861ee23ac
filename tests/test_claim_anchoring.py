"""Claims cite the guide by section and quote: each wording's quote checked against every
shipped revision, the wording a revision has chosen for it, and a claim that is not in
the revision judged ending "not in this revision" (not applicable), never a verdict."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.claims import DEFAULT_REGISTRY, Registry, load_default
from harness.errors import UsageError
from harness.guide import revisions
from harness.guide.revisions import Revision
from harness.results.recorder import Recorder
from harness.results.schema import Run


def presence(registry: Registry) -> dict[str, list[str]]:
    """For each guide claim, the shipped revisions it is in (by short commit id)."""
    return {c.id: [r.short for r in revisions.known() if c.wording_in(r) is not None]
            for c in registry.guide_claims}


def test_every_claim_is_in_a_shipped_revision_and_every_quote_occurs() -> None:
    """Which claims exist in which revision (printed on failure); every quote of every
    wording occurs in some shipped revision, so none is a typo."""
    registry = Registry.load(DEFAULT_REGISTRY)
    found = presence(registry)
    listing = "\n".join(f"{claim}: {', '.join(shorts) or 'none'}"
                        for claim, shorts in found.items())
    assert [c for c, shorts in found.items() if not shorts] == [], listing
    assert [c.id for c in registry.guide_claims if not c.quote] == []
    stray = [(c.id, q) for c in registry.guide_claims for q in c.quotes
             if q and not any(r.contains(q) for r in revisions.known())]
    assert stray == []


def test_a_reworded_claim_is_in_every_revision_between() -> None:
    """A claim with a wording per revision is in every shipped revision: no gap where
    neither wording's quote occurs (the wrong world: a wording quoting text that a later
    commit changed again)."""
    registry = Registry.load(DEFAULT_REGISTRY)
    gaps = [(c.id, r.label) for c in registry.guide_claims if c.wordings
            for r in revisions.known() if c.wording_in(r) is None]
    assert gaps == []


def test_a_quote_counts_only_in_its_own_section() -> None:
    """The same table row in a later section does not anchor a claim whose section lacks
    it (the internet table's rows were reworded; the localhost table has the old text)."""
    text = "## Internet\n\n| host | :heavy_check_mark: |\n\n## Localhost\n\n| host | x |\n"
    revision = Revision(text)
    assert revision.line_in_section("| host | :heavy_check_mark: |", "#internet") == 3
    assert revision.line_in_section("| host | x |", "#internet") is None
    assert revision.line_in_section("| host | x |", "#localhost") == 7
    assert revision.line_in_section("| host | x |", "#nosuch") is None


def test_the_seed_and_the_newest_each_word_the_map_gw_claim() -> None:
    seed, newest = revisions.seed(), revisions.newest()
    old = load_default(seed).get("outbound.localhost.pasta-map-gw")
    new = load_default(newest).get("outbound.localhost.pasta-map-gw")
    assert old.extra["connect"] == ["10.0.2.2"] and "10.0.2.2" in old.statement
    assert new.extra["connect"] == ["{gateway}"] and "default gateway" in new.statement
    assert load_default(seed).placements(seed)[old.id].line == 681
    assert load_default(newest).placements(newest)[new.id].line == 1092


REGISTRY = """
[[claim]]
id = "x.reworded"
section = "A"
anchor = "#a"
quote = "connect to 10.0.2.2"
statement = "reaches 10.0.2.2"
property = "p"
expected = "10.0.2.2"

[[claim.wording]]
quote = "connect to the default gateway"
statement = "reaches the gateway"
expected = "gateway"

[[claim]]
id = "x.heading-only"
section = "B"
anchor = "#b"
statement = "s"
property = "p"
expected = true
"""


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    path = tmp_path / "a.toml"
    path.write_text(REGISTRY)
    return Registry.load(path)


def test_each_revision_gets_its_wording_and_its_lines(registry: Registry) -> None:
    old = Revision("# A\n\nPlease connect to\n10.0.2.2 now.\n\n# B\n", "a" * 40, "2025-01-01")
    new = Revision("# A\n\nconnect to the default gateway\n", "b" * 40, "2026-01-01")
    neither = Revision("# A\n\nconnect to 127.0.0.1\n", source="README.md")
    assert registry.for_revision(old).get("x.reworded").expected == "10.0.2.2"
    assert registry.for_revision(new).get("x.reworded").expected == "gateway"
    assert registry.for_revision(new).get("x.reworded").statement == "reaches the gateway"
    assert registry.placements(old)["x.reworded"].line == 3
    assert registry.placements(new)["x.reworded"].line == 3
    assert registry.placements(old)["x.heading-only"].line == 6
    again = registry.for_revision(new).for_revision(old)  # a worded registry, worded again
    assert again.get("x.reworded").expected == "10.0.2.2"
    assert again.placements(old)["x.reworded"].line == 3
    gone = registry.placements(neither)
    assert gone["x.reworded"].line is None
    assert gone["x.reworded"].absent == (
        "not in this revision: the guide at file README.md has no 'connect to 10.0.2.2' or "
        "'connect to the default gateway'")
    assert gone["x.heading-only"].absent.endswith("has no '#b'")


def test_a_claim_not_in_the_revision_ends_not_applicable(registry: Registry,
                                                         tmp_path: Path) -> None:
    """A check of a claim the revision does not state records "not in this revision",
    keeping what it observed, and raises no contradiction."""
    neither = Revision("# A\n\nconnect to 127.0.0.1\n", source="README.md")
    recorder = Recorder(Run("r", 0.0), tmp_path, placements=registry.placements(neither))
    claim = registry.get("x.reworded")
    recorder.check(claim, "something else")  # would contradict the seed's wording
    (result,) = recorder.run.results
    assert result.outcome == "not_applicable" and result.line is None
    assert result.reason.startswith("not in this revision: ")
    assert result.evidence == {"observed": "something else"}


def test_a_claim_in_the_revision_is_judged_with_its_line(registry: Registry,
                                                         tmp_path: Path) -> None:
    """The wrong world for the above: the claim is there, so a mismatch is a failure."""
    new = Revision("# A\n\nconnect to the default gateway\n", "b" * 40, "2026-01-01")
    recorder = Recorder(Run("r", 0.0), tmp_path, placements=registry.placements(new))
    with pytest.raises(AssertionError, match="does not hold"):
        recorder.check(registry.for_revision(new).get("x.reworded"), "10.0.2.2")
    (result,) = recorder.run.results
    assert (result.outcome, result.line, result.expected) == ("failed", 3, "gateway")


@pytest.mark.parametrize("wording", ['statement = "no quote"', 'quote = "  "',
                                     'quote = "q"\nid = "other"'])
def test_a_wording_needs_a_quote_and_keeps_the_id(tmp_path: Path, wording: str) -> None:
    path = tmp_path / "a.toml"
    path.write_text(REGISTRY.split("[[claim.wording]]")[0] + "[[claim.wording]]\n"
                    + textwrap.dedent(wording) + "\n")
    with pytest.raises(UsageError, match="needs a quote"):
        Registry.load(path)
