"""Terminal output: progress of long steps and summary tables (rich)."""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Iterable, Iterator

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness.claims import Claim, Registry, load_default
from harness.lab.lab import Step
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


def claims_table(claims: Iterable[Claim], prop: str | None = None) -> None:
    table = Table(title="claims registry")
    for col in ("id", "method", "expected", "section"):
        table.add_column(col)
    for claim in claims:
        if prop is None or claim.property == prop:
            table.add_row(*(escape(text) for text in (
                claim.id, claim.method or "-", str(claim.expected), claim.section)))
    Console().print(table)


def summary_table(run: Run, registry: Registry | None = None) -> Table:
    """Outcomes per area (the claim id's first two parts), then every failure; claims
    beyond the guide last, each area marked "beyond the guide"."""
    beyond = {c.id for c in (registry or load_default()).claims if c.beyond_guide}
    counts: dict[tuple[bool, str], Counter[str]] = {}
    for result in run.results:
        outside = result.claim_id in beyond
        area = ".".join(result.claim_id.split(".")[int(outside):2])
        key = (outside, f"{BEYOND_GUIDE}: {area}" if outside else area)
        counts.setdefault(key, Counter())[result.outcome] += 1
    title = f"podnet run {run.run_id}" + (" (interrupted)" if run.status != "complete" else "")
    # Short outcome headers leave an 80-column console room for whole area names.
    table = Table(title=escape(title), caption="unsup.: unsupported by this podman; n/a: not applicable")
    headers = {"passed": "pass", "failed": "fail", "error": "error", "unsupported": "unsup.",
               "skipped": "skip", "not_applicable": "n/a"}
    outcomes = tuple(headers)
    table.add_column("area", overflow="fold")
    for outcome in outcomes:
        table.add_column(headers[outcome], justify="right", no_wrap=True)
    for (_, area), counter in sorted(counts.items()):
        table.add_row(escape(area), *(_cell(counter[o], o) for o in outcomes))
    return table


def _cell(n: int, outcome: str) -> str:
    if not n:
        return "[dim]0[/]"
    colour = {"passed": "green", "failed": "red", "error": "red",
              "unsupported": "magenta"}.get(outcome, "yellow")
    return f"[{colour}]{n}[/]"


def failures(run: Run) -> list[ClaimResult]:
    return [r for r in run.results if r.outcome in ("failed", "error")]
