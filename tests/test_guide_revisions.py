"""The guide's revisions shipped as data (harness/data/guide), and choosing one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.guide import revisions
from harness.guide.revisions import Revision, _apply

DATA = Path(__file__).resolve().parent.parent / "harness" / "data" / "guide"


def test_the_seed_and_the_newest_are_shipped_with_the_license() -> None:
    known = revisions.known()
    assert (known[0].short, known[0].date) == ("707d6f6", "2025-01-01")
    assert (known[-1].short, known[-1].date) == ("19f4819", "2026-08-10")
    assert revisions.seed() is known[0] and revisions.newest() is known[-1]
    assert all(len(r.commit) == 40 and r.subject for r in known)
    assert [r.date for r in known] == sorted(r.date for r in known)
    assert "Apache License" in (DATA / "LICENSE").read_text()
    assert len(known[0].text.splitlines()) == 1664
    assert len(known[-1].text.splitlines()) == 3461


def test_every_patch_applied_in_turn_gives_the_newest_text() -> None:
    """The newest's full text is checked against the seed with every patch applied
    (known() refuses a chain that does not arrive at it)."""
    text = revisions.seed().text
    for name in sorted(DATA.glob("patches/*.diff"), key=lambda p: [
            r.short for r in revisions.known()].index(p.stem)):
        text = _apply(text, name.read_text(), name.name)
    assert text == revisions.newest().text


def test_a_patch_that_does_not_match_the_text_is_refused() -> None:
    with pytest.raises(ValueError, match="does not match"):
        _apply("a\nb\nc\n", "@@ -2 +2 @@\n-x\n+y\n", "bad.diff")
    assert _apply("a\nb\nc\n", "@@ -2 +2 @@\n-b\n+y\n", "ok.diff") == "a\ny\nc\n"
    assert _apply("a\nb\n", "@@ -1,0 +2 @@\n+new\n", "insert.diff") == "a\nnew\nb\n"
    assert _apply("a\nb\nc\n", "@@ -2 +1,0 @@\n-b\n", "delete.diff") == "a\nc\n"


@pytest.mark.parametrize(("spec", "short"), [
    (None, "19f4819"), ("", "19f4819"), ("707d6f6", "707d6f6"), ("CA0550C", "ca0550c"),
    ("707d6f6ea2ed69def3172f5e6eff4b056e1290be", "707d6f6"),
    ("2026-01-03", "ca0550c"), ("2026-01-10", "ca0550c"), ("2030-01-01", "19f4819"),
    ("2025-01-01", "707d6f6"),
])
def test_a_revision_by_commit_or_date(spec: str | None, short: str) -> None:
    assert revisions.resolve(spec).short == short


def test_a_file_is_its_known_revision_or_one_of_its_own(tmp_path: Path) -> None:
    same = tmp_path / "README.md"
    same.write_text(revisions.newest().text)
    assert revisions.resolve(str(same)) is revisions.newest()
    edited = tmp_path / "edited.md"
    edited.write_text(revisions.newest().text.replace("default gateway", "gateway"))
    own = revisions.resolve(str(edited))
    assert not own.known and own.label == f"file {edited}"
    assert own.record() == {"commit": "", "date": "", "subject": "", "source": str(edited)}
    assert revisions.record_label(own.record()) == f"file {edited}"


@pytest.mark.parametrize("spec", ["0000000", "nosuch", "2020-01-01", "19f"])
def test_an_unknown_revision_is_one_line_naming_the_known_ones(spec: str) -> None:
    with pytest.raises(UsageError) as info:
        revisions.resolve(spec)
    text = str(info.value)
    assert len(text.splitlines()) == 1
    assert "707d6f6 (2025-01-01)" in text


def test_a_quote_is_found_across_line_breaks_with_its_line() -> None:
    revision = Revision("# A\n\nThe quick\n  brown fox\njumps.\n")
    assert revision.line_of("quick brown fox jumps") == 3
    assert revision.line_of("brown") == 4 and revision.line_of("A") == 1
    assert revision.line_of("slow fox") is None and revision.line_of("  ") is None
    assert revision.headings == {"#a": 1}


def test_the_statements_podnet_found_contradicted_where_they_are() -> None:
    """The issue's examples: --map-gw's 10.0.2.2 is gone from the newest, reworded."""
    seed, newest = revisions.seed(), revisions.newest()
    quote = "Add the pasta option `--map-gw` and connect to `10.0.2.2:8080`"
    assert seed.line_of(quote) == 681 and newest.line_of(quote) is None
    assert revisions.resolve("ca0550c").line_of(quote) is None
    assert revisions.resolve("0975204").line_of(quote) is not None
    assert newest.line_of("If the container process connects to the default gateway") == 1092


def test_a_run_record_names_its_revision() -> None:
    assert revisions.judged(None) is revisions.seed()
    assert revisions.judged(revisions.resolve("ca0550c").record()).short == "ca0550c"
    assert revisions.record_label(None).startswith("707d6f6 (2025-01-01) (recorded before")


def test_the_generator_writes_what_is_shipped(tmp_path: Path) -> None:
    """scripts/guide-revisions is runnable (its usage line without arguments)."""
    done = subprocess.run([sys.executable, str(DATA.parents[2] / "scripts" / "guide-revisions")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "REPOSITORY" in done.stderr
