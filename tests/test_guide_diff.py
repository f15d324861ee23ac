"""``podnet guide diff`` on two small hand-made revisions: each kind of change, and the
seed to the newest on the shipped revisions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness import cli
from harness.claims import Registry
from harness.guide import revisions
from harness.guide.revisions import Revision
from harness.guide_diff import GONE, diff

FIXTURES = Path(__file__).parent / "fixtures" / "guide_diff"
REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "guide-today"


def _changes(found: object) -> dict[str, list[tuple[str, str, str]]]:
    return {s.title: [(c.kind, c.claim, c.text) for c in s.changes]
            for s in found.sections}  # type: ignore[attr-defined]


def test_each_kind_of_change_between_two_small_revisions() -> None:
    old = Revision((FIXTURES / "old.md").read_text(), source="old.md")
    new = Revision((FIXTURES / "new.md").read_text(), source="new.md")
    found = diff(old, new, Registry.load(FIXTURES / "claims.toml"))
    changes = _changes(found)
    assert changes["Ports"] == [
        ("claim reworded", "x.ports", "'Pasta publishes ports.' -> 'Pasta publishes ports quickly.'"),
        ("new paragraph", "", "A brand new statement."),
        ("new table row", "", "| slirp4netns | no |"),
    ]
    assert changes["Example one"] == [("changed example", "", "example-one")]
    assert changes["New section"] == [
        ("new section", "", "New section"),
        ("claim moved", "x.gone", "from 'Old section'"),
        ("new example", "", "new-section (1 blocks)"),
    ]
    assert changes[GONE] == [("claim vanished", "x.old",
                              "'The old statement stands.' (line 13 of old.md)")]
    assert found.uncovered == 2 and not found.unchanged
    assert found.lines()[0] == ("guide diff file old.md -> file new.md: changed; 2 new "
                                "statements (paragraphs and table rows) no claim quotes yet")


def test_the_same_revision_is_unchanged() -> None:
    same = revisions.newest()
    assert diff(same, same, Registry.load(FIXTURES / "claims.toml")).lines() == [
        f"guide diff {same.label} -> {same.label}: unchanged"]


def test_seed_to_newest_names_the_new_sections_and_the_reworded_claims(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["guide", "diff"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("guide diff 707d6f6 (2025-01-01) -> 19f4819 (2026-08-10): changed")
    sections = [line for line in lines if line.startswith("## ")]
    for title in ("Using the same port from multiple services",
                  "Podman can inherit a connected socket", "Number of Pasta processes",
                  "Quadlets", "Restricting network access", "Debugging"):
        assert any(s.startswith(f"## {title} (line ") for s in sections), title
    assert "claim reworded (line 1092): outbound.localhost.pasta-map-gw: " in out
    assert "claim reworded (line 1252): outbound.localhost.tcp-ns-better-than-map-gw: " in out
    assert "claim vanished (line 1437): reverse-proxy.comment.caddy: " in out


def test_an_edited_readme_names_the_claim_whose_sentence_changed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A copy of the newest README with one claimed sentence edited: the claim is no
    longer in it (and a verify of it records "not in this revision")."""
    edited = tmp_path / "README.md"
    quote = "Slirp4netns was the default rootlessNetworkCmd before Podman 5.0.0"
    assert quote in revisions.newest().text
    edited.write_text(revisions.newest().text.replace(quote, "Slirp4netns was the default"))
    assert cli.main(["guide", "diff", "19f4819", str(edited)]) == 0
    out = capsys.readouterr().out
    assert "claim vanished (line 2064): slirp4netns.default-before-podman-5: " in out
    assert "new paragraph" in out


def _guide_today(readme: Path, out: Path) -> str:
    podnet = Path(sys.executable).with_name("podnet")
    done = subprocess.run([str(SCRIPT), str(readme), str(out)], env={
        **os.environ, "PODNET": str(podnet)}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return (out / "summary.md").read_text()


def test_the_nightly_summary_says_whether_todays_guide_changed(tmp_path: Path) -> None:
    """scripts/guide-today, as the nightly runs it on the downloaded README, here on
    files: unchanged is one line; an edited sentence makes the summary say the guide
    changed and list the statement no claim quotes yet."""
    same = tmp_path / "same.md"
    same.write_text(revisions.newest().text)
    assert _guide_today(same, tmp_path / "same").startswith(
        "The guide is unchanged since 19f4819")
    edited = tmp_path / "README.md"
    edited.write_text(revisions.newest().text.replace(
        "Slirp4netns was the default rootlessNetworkCmd before Podman 5.0.0",
        "Slirp4netns was the default before Podman 5"))
    summary = _guide_today(edited, tmp_path / "edited").splitlines()
    assert summary[0] == "## The guide changed since 19f4819"
    assert summary[2].endswith("changed; 1 new statements (paragraphs and table rows) no "
                               "claim quotes yet")
    assert [line for line in summary if line.startswith("- ")] == [
        "- new paragraph (line 2063): Slirp4netns is similar to Pasta but is slower and has "
        "less functionality. Slirp4netns was the default before Podman 5 (released March "
        "2024)."]
    assert "claim vanished (line 2064): slirp4netns.default-before-podman-5" in (
        tmp_path / "edited" / "diff.txt").read_text()


def test_the_nightly_verifies_todays_guide_and_summarises_it_first() -> None:
    text = (REPO / ".github" / "workflows" / "nightly.yml").read_text()
    assert "GUIDE_URL: https://raw.githubusercontent.com/eriksjolund/podman-networking-docs/" in text
    assert "scripts/guide-today guide-today.md guide" in text
    assert 'guide=(--guide guide/README.md)' in text
    assert "cat guide/summary.md 2>/dev/null ||" in text
