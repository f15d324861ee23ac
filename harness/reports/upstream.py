"""The report's section "podman's own tests": what ``podnet upstream-tests`` ran (the
checkout's version against the target's podman, stated when they differ), the counts
per bats file, every failure with its output, every test that needs the internet and
every skip with upstream's reason, then every test's result."""

from __future__ import annotations

from harness.markup import Block, Cell, Grid, Heading, Item, Items, Para, Pre, Strong
from harness.results.schema import Run
from harness.results.upstream import OUTCOME_WORDS, UpstreamSuite, counts

HEADING = "podman's own tests"
ANCHOR = "podmans-own-tests"
#: A failure's output in the report: its last lines (the record keeps all of it).
OUTPUT_LINES = 40
_FILE_HEADER = ["file", "tests", *OUTCOME_WORDS.values(), "seconds", "bats exit"]
_TEST_HEADER = ["file", "#", "test", "result", "seconds"]


def summary_sentence(suite: UpstreamSuite) -> str:
    found = counts(suite.tests)
    parts = ", ".join(f"{found[o]} {word}" for o, word in OUTCOME_WORDS.items())
    version = suite.source_version or "(version unknown)"
    return (f"podman {version}'s system tests from {suite.source}, run as host1's rootless "
            f"user against podman {suite.podman_version} with {suite.bats_version or 'bats'} "
            f"and {suite.image} built from Debian packages: {parts} of {len(suite.tests)}, "
            f"in {suite.seconds:.0f} s.")


def _file_rows(suite: UpstreamSuite) -> list[list[str]]:
    rows = []
    for ran in suite.files:
        found = counts([t for t in suite.tests if t.file == ran.file])
        rows.append([ran.file, str(sum(found.values())), *(str(n) for n in found.values()),
                     f"{ran.seconds:.0f}", str(ran.exit_status)])
    return rows


def _tail(output: str) -> str:
    lines = output.splitlines()
    cut = lines[-OUTPUT_LINES:]
    return "\n".join(([f"... ({len(lines) - len(cut)} lines above, in run.json)"]
                      if len(cut) < len(lines) else []) + cut)


def blocks(run: Run) -> list[Block]:
    """The section for the reports ([] when the run did not run podman's tests)."""
    suite = run.upstream
    if suite is None:
        return []
    failed = [t for t in suite.tests if t.outcome == "failed"]
    others = [t for t in suite.tests if t.outcome in ("needs_internet", "skipped")]
    return [
        Heading(2, HEADING, id=ANCHOR), Para(summary_sentence(suite)),
        *([Para((Strong("Note:"), f" {mismatch}."))]
          if (mismatch := suite.version_mismatch()) else []),
        Grid(_FILE_HEADER, _file_rows(suite)),
        Heading(3, f"Failed ({len(failed)})"),
        Items([Item((f"{t.file} #{t.number}: ", Strong(t.name)), [Pre(_tail(t.output))])
               for t in failed]) if failed else Para("None."),
        *((Heading(3, "Needs the internet or skipped by upstream"),
           Items([f"{t.file} #{t.number}: {t.name}: {t.words}" for t in others]))
          if others else ()),
        Heading(3, "Every test"),
        Grid(_TEST_HEADER, [[t.file, str(t.number), t.name,
                             Cell(t.words, f"outcome-{outcome_class(t.outcome)}"),
                             "" if t.seconds is None else f"{t.seconds:.1f}"] for t in suite.tests])]


def outcome_class(outcome: str) -> str:
    """The report's outcome classes: a test that needs the internet is shown as a skip."""
    return "skipped" if outcome == "needs_internet" else outcome
