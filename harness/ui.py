"""Terminal output: progress of long steps and summary tables (rich)."""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness.claims import Claim, Placement, Registry, load_default
from harness.coverage import section_title
from harness.errors import UsageError
from harness.guide_sections import headings, position
from harness.lab.lab import Step
from harness.markup import flat, shortened
from harness.results.schema import ClaimResult, Run
from harness.words import BEYOND_GUIDE

console = Console(stderr=True, log_path=False)


@contextlib.contextmanager
def step_printer() -> Iterator[Step]:
    """Show each step of a long operation with the time it took."""
    started = time.monotonic()
    with console.status("starting") as status:
        def step(text: str) -> None:
            console.log(f"[dim]{time.monotonic() - started:6.1f}s[/] {escape(text)}")
            status.update(escape(text))

        yield step


def claims_table(claims: Iterable[Claim], prop: str | None = None,
                 placements: Mapping[str, Placement] | None = None) -> None:
    """The registry's claims; with ``placements``, each claim's line in the revision
    (or "not in this revision")."""
    table = Table("id", "method", "expected", "section", "line", title="claims registry")
    for claim in claims:
        if prop is None or claim.property == prop:
            where = (placements or {}).get(claim.id)
            line = ("-" if where is None else "not in this revision" if where.absent
                    else str(where.line or "-"))
            table.add_row(*(escape(text) for text in (
                claim.id, claim.method or "-", str(claim.expected), claim.section, line)))
    Console().print(table)


#: The summary's outcome columns, short so an 80-column console keeps section titles whole.
SUMMARY_HEADERS = {"passed": "pass", "failed": "fail", "inconclusive": "incon.",
                   "unsupported": "unsup.", "skipped": "skip", "not_applicable": "n/a",
                   "error": "error"}
#: The caption explains the abbreviations the table shows.
ABBREVIATIONS = {"inconclusive": "incon.: inconclusive",
                 "unsupported": "unsup.: unsupported by this podman",
                 "not_applicable": "n/a: not applicable"}


def summary_group(result: ClaimResult, registry: Registry) -> tuple[int, str]:
    """Where a result is counted: the guide's section its claim cites (the coverage's
    sections, in the guide's order), claims beyond the guide after them."""
    try:
        claim = registry.get(result.claim_id)
    except UsageError:  # a claim the registry no longer has: its recorded section
        return (len(headings()), result.section)
    if claim.beyond_guide:
        return (len(headings()) + 1, f"{BEYOND_GUIDE}: {claim.section.split(' > ')[-1]}")
    return (position(claim.anchor, claim.section), section_title(claim))


def summary_table(run: Run, registry: Registry | None = None) -> Table:
    """Outcomes per section of the guide, in the guide's order; claims beyond the guide
    last, marked "beyond the guide"."""
    known = registry or load_default()
    counts: dict[tuple[int, str], Counter[str]] = {}
    for result in run.results:
        counts.setdefault(summary_group(result, known), Counter())[result.outcome] += 1
    title = f"podnet run {run.run_id}" + (" (interrupted)" if run.status != "complete" else "")
    shown = [o for o in SUMMARY_HEADERS if any(c[o] for c in counts.values())]
    caption = "; ".join(ABBREVIATIONS[o] for o in shown if o in ABBREVIATIONS)
    table = Table(title=escape(title), caption=caption or None)
    table.add_column("section of the guide", overflow="fold")
    for outcome in shown:
        table.add_column(SUMMARY_HEADERS[outcome], justify="right", no_wrap=True)
    for (_, section), counter in sorted(counts.items()):
        table.add_row(escape(section), *(_cell(counter[o], o) for o in shown))
    return table


def outcome_line(run: Run) -> str:
    """``N claim results: a passed, b failed, ...`` in the summary's order."""
    counts = Counter(r.outcome for r in run.results)
    parts = [f"{counts[o]} {o.replace('_', ' ')}" for o in SUMMARY_HEADERS if counts[o]]
    return f"{len(run.results)} claim results" + (f": {', '.join(parts)}" if parts else "")


def one_line(text: str, width: int = 200) -> str:
    return shortened(flat(str(text)), width)


def contradiction_line(result: ClaimResult) -> str:
    """A contradiction of the guide in one line: claim, scope, expected and observed."""
    scope = ", ".join(part for part in (result.method, result.protocol) if part)
    reason = f"; {result.reason}" if result.reason else ""
    return one_line(f"{result.claim_id}{f' ({scope})' if scope else ''}: expected "
                    f"{result.expected!r}, observed {result.observed!r}{reason}")


def error_line(result: ClaimResult) -> str:
    return one_line(f"{result.claim_id}: {result.reason or 'no reason recorded'}")


def _cell(n: int, outcome: str) -> str:
    if not n:
        return "[dim]0[/]"
    colour = {"passed": "green", "failed": "red", "error": "red",
              "unsupported": "magenta"}.get(outcome, "yellow")
    return f"[{colour}]{n}[/]"
