"""The release matrix's section "podman's own tests": one row per test (bats file and
name, without podman's ``[505]`` prefix), one cell per release whose run ran podman's
tests (``podnet upstream-tests``); the tests whose result differs between releases
first, then the counts per release and every test."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.markup import Block, Cell, Grid, Heading, Items, Para, Row
from harness.matrix import side_by_side
from harness.reports.upstream import HEADING, outcome_class
from harness.results.schema import Run
from harness.results.upstream import UpstreamTest, counts, counts_text
from harness.upstream.tap import bare_name
from harness.words import NOT_RUN


@dataclass(frozen=True)
class UpstreamRow:
    file: str
    name: str
    #: one per release: the test's result, None when that release's run had no such test
    cells: tuple[UpstreamTest | None, ...]

    @property
    def differs(self) -> bool:
        # A release without the test counts as an outcome of its own.
        return len({c.outcome if c is not None else None for c in self.cells}) > 1


def column_title(run: Run) -> str:
    suite = run.upstream
    if suite is None:
        return f"{run.release} (no podman tests)"
    return f"{run.release} (tests {suite.source_version or '?'}, podman {suite.podman_version})"


def rows(runs: Sequence[Run]) -> list[UpstreamRow]:
    aligned = side_by_side([{(t.file, bare_name(t.name)): t for t in
                             (run.upstream.tests if run.upstream is not None else [])}
                            for run in runs])
    return [UpstreamRow(file, name, tuple(cells)) for (file, name), cells in aligned.items()]


def _per_release(runs: Sequence[Run]) -> tuple[list[str], str, list[str]]:
    """The columns' titles, the counts per release, and where the tests' version is not
    the target's podman's."""
    titles = [column_title(run) for run in runs]
    ran = [(title, run.upstream) for title, run in zip(titles, runs, strict=True)
           if run.upstream is not None]
    return (titles, "; ".join(f"{title}: {counts_text(counts(suite.tests))}"
                              for title, suite in ran),
            [f"{title}: {mismatch}" for title, suite in ran
             if (mismatch := suite.version_mismatch())])


def blocks(runs: Sequence[Run]) -> list[Block]:
    """The section for the matrix ([] when no run ran podman's tests); in HTML the rows
    that differ between releases are also marked at the left."""
    if all(run.upstream is None for run in runs):
        return []
    titles, summary, mismatches = _per_release(runs)
    found = rows(runs)
    differing = [row for row in found if row.differs]
    return [
        Heading(2, HEADING), Para(f"Per release: {summary}."),
        *([Items(mismatches)] if mismatches else []),
        Heading(3, f"Tests whose result differs between releases ({len(differing)})"),
        _grid(titles, differing) if differing else Para("None."),
        Heading(3, "Every test"), _grid(titles, found)]


def _grid(titles: list[str], found: list[UpstreamRow]) -> Grid:
    return Grid(["file", "test", *titles], [
        Row([row.file, Cell(row.name, scope="row"),
             *(Cell(NOT_RUN, "o-none") if c is None
               else Cell(c.words, f"o-{outcome_class(c.outcome)}") for c in row.cells)],
            cls="changes" if row.differs else "") for row in found],
        cls="matrix", sections=True)

