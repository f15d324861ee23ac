"""Errata of the guide per revision: every contradiction a run observed, shown against
every revision of the guide podnet knows.

An erratum is a text of the guide that an observation contradicts: the quote of a claim
whose check failed; the quote of a claim's wording in another revision that the same
observation contradicts (the check records it as ``evidence["wordings"]``, e.g. --map-gw's
10.0.2.2 in a run of the newest); the output an example of the guide shows and the run
did not print, or the first line of the block that failed. Each is found in every shipped
revision by its section and quote: it *still stands* in the newest (with its line there),
or was *reworded* in the first revision after the last one that has it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from harness.claims import Claim, Registry
from harness.errors import UsageError
from harness.examples import report as examples
from harness.examples.outputs import normalise
from harness.guide import revisions
from harness.guide.revisions import Revision
from harness.markup import Block, Grid, Heading, Para, Raw, html_escape, md_escape
from harness.results.schema import ClaimResult, Run

HEADING = "Errata of the guide"


@dataclass(frozen=True)
class Erratum:
    """A text of the guide a run contradicted, and where it is in each known revision."""

    #: The claim's id, or ``guide-example:<example>``.
    source: str
    section: str
    anchor: str
    quote: str
    #: What the guide states, in podnet's words, and what podnet observed.
    statement: str
    observed: str
    evidence: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def found(self) -> tuple[tuple[Revision, int], ...]:
        """Each known revision whose section has the quote, with its line there (oldest
        first)."""
        lines = ((revision, revision.line_in_section(self.quote, self.anchor))
                 for revision in revisions.known()) if self.quote else ()
        return tuple((revision, line) for revision, line in lines if line is not None)

    @property
    def stands(self) -> bool:
        """The newest revision still has it."""
        return bool(self.found) and self.found[-1][0] is revisions.newest()

    @property
    def newest_line(self) -> int | None:
        return self.found[-1][1] if self.stands else None

    @property
    def status(self) -> str:
        """``still stands in 19f4819 (line 1775)`` or ``reworded in ca0550c (2026-01-03)``."""
        if not self.found:
            return "in no revision podnet knows"
        last = self.found[-1][0]
        if self.stands:
            return f"still stands in {last.short} (line {self.found[-1][1]})"
        known = revisions.known()
        after = known[known.index(last) + 1]
        return f"reworded in {after.short} ({after.date})"

    @property
    def history(self) -> str:
        """Where it stood: ``707d6f6 (2025-01-01) to 0975204 (2025-12-11)``."""
        if not self.found:
            return ""
        first, last = self.found[0][0], self.found[-1][0]
        return first.label if first is last else f"{first.label} to {last.label}"


def _wording(claim: Claim, result: ClaimResult) -> Claim:
    """The wording the result judged: the one whose statement it recorded."""
    return next((w for w in claim.all_wordings() if w.statement == result.statement), claim)


def _claim_errata(run: Run, registry: Registry) -> list[Erratum]:
    out = []
    for result in run.results:
        if result.claim_id.startswith(examples.PREFIX):
            continue
        try:
            claim = registry.get(result.claim_id)
        except UsageError:  # a claim this podnet no longer has
            continue
        judged = _wording(claim, result)
        if result.outcome == "failed":
            out.append(Erratum(result.claim_id, judged.section, judged.anchor, judged.quote,
                               f"{judged.statement} (expected {result.expected!r})",
                               repr(result.observed), _evidence(result)))
        for other in result.evidence.get("wordings") or []:
            if not isinstance(other, dict) or other.get("held") is not False:
                continue
            wording = next((w for w in claim.all_wordings() if w.quote == other.get("quote")),
                           None)
            if wording is None:
                continue
            out.append(Erratum(result.claim_id, wording.section, wording.anchor, wording.quote,
                               f"{wording.statement} (expected {wording.expected!r})",
                               f"{not wording.expected!r} (observed with the check of "
                               f"'{judged.quote}')", _evidence(result)))
    return out


def _evidence(result: ClaimResult) -> dict[str, Any]:
    scope = {k: v for k, v in (("method", result.method), ("protocol", result.protocol)) if v}
    return {**scope, **{k: v for k, v in result.evidence.items() if k != "wordings"}}


def _example_quote(erratum: examples.Erratum, judged: Revision) -> str:
    """The guide's text of an example's erratum: the first output line the guide shows
    and the run did not print (the diff shows it normalised: the guide's own line is the
    one of the example that normalises to it), else the first line of the block that went
    wrong (also for output the lab's substitutions changed)."""
    lines = judged.text.splitlines()
    after = lines[max(erratum.line - 1, 0):erratum.line + 80]
    start, end = judged.sections.get(f"#{erratum.example}", (erratum.line, erratum.line + 80))
    section = lines[max(start - 1, 0):end]
    for line in erratum.diff.splitlines():
        if line.startswith("-") and not line.startswith("---") and line[1:].strip():
            found = next((text.strip() for text in [*after, *section]
                          if normalise(text.strip()) == [line[1:].strip()]), "")
            if found:
                return found
            break  # shown with the lab's substitutions: cite the block instead
    for text in after[:6]:
        if text.strip() and not re.match(r"\s*(```|~~~)", text):
            return text.strip()
    return ""


def _example_errata(run: Run, judged: Revision) -> list[Erratum]:
    return [Erratum(f"{examples.PREFIX}{found.example}", found.section, f"#{found.example}",
                    _example_quote(found, judged),
                    f"the example's step {found.step} runs and prints what the guide shows",
                    found.happened, {k: v for k, v in (("block", found.block), ("diff", found.diff),
                                                       ("correction", found.correction)) if v})
            for found in examples.errata(run)]


def collect(run: Run, registry: Registry) -> list[Erratum]:
    """The run's errata (``registry``: every claim with all its wordings), each text
    once, those standing in the newest revision first, in the newest's order."""
    judged = revisions.judged(run.guide)
    seen: dict[tuple[str, str], Erratum] = {}
    for erratum in [*_claim_errata(run, registry), *_example_errata(run, judged)]:
        seen.setdefault((erratum.anchor, erratum.quote), erratum)
    return sorted(seen.values(), key=lambda e: (not e.stands, e.newest_line or 0, e.source))


#: The errata table's columns.
HEADER = ("in the newest revision", "stood in", "the guide's text", "statement", "observed")


def blocks(run: Run, registry: Registry) -> list[Block]:
    """The report's errata section ([] when the run contradicted nothing): a table of
    every erratum against the known revisions, then :func:`tracker_lines`."""
    if not (found := collect(run, registry)):
        return []
    tracker = "\n".join(tracker_lines(run, found)).strip()
    intro = (f"Every contradiction of the guide this run observed, against every revision "
             f"podnet knows ({revisions.seed().label} to {revisions.newest().label}).")
    return [Heading(2, HEADING), Para(intro),
            Grid(HEADER, [[e.status, e.history, e.quote, e.statement, e.observed] for e in found]),
            *((Heading(3, f"Errata of {revisions.newest().label}, for the guide's tracker"),
               Raw(tracker, f"<pre>{html_escape(tracker)}</pre>")) if tracker else ())]


def tracker_lines(run: Run, found: list[Erratum]) -> list[str]:
    """Each erratum standing in the newest revision as Markdown that can be pasted into
    an issue on the guide's tracker: line, quote, statement, observation, evidence, run."""
    newest = revisions.newest()
    lines = []
    for erratum in [e for e in found if e.stands]:
        lines += [f"**{erratum.section.split(' > ')[-1]}** (README.md line "
                  f"{erratum.newest_line} at {newest.commit[:7]}):", "",
                  f"> {erratum.quote}", "",
                  f"- the guide: {erratum.statement}",
                  f"- observed: {erratum.observed}",
                  *(line for key, value in erratum.evidence.items()
                    for line in _evidence_lines(key, value)),
                  f"- podnet run {run.run_id}, {_environment(run)}", ""]
    return lines


def _evidence_lines(key: str, value: Any) -> list[str]:
    """One item of evidence: a line, or a fenced block for text of several lines."""
    text = str(value)
    if "\n" not in text.strip():
        return [f"- {key}: {md_escape(' '.join(text.split()))}"]
    fence = "````" if "```" in text else "```"
    return [f"- {key}:", "", f"  {fence}", *(f"  {line}" for line in text.strip().splitlines()),
            f"  {fence}", ""]


def _environment(run: Run) -> str:
    versions = run.environment.get("versions") or {}
    parts = [f"podman {versions['podman']}" if "podman" in versions else "",
             str(run.environment.get("target") or "")]
    return ", ".join(p for p in parts if p) or "environment not recorded"
