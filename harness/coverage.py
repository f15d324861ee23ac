"""How much of the guide podnet has observed, computed from run records.

Every statement of the guide is a claim of the registry. Given runs, a statement is
*observed* when a run recorded a decided verdict for it (passed or failed: for a
benchmark, a verdict the run's A/A resolution separated; an undecided one is
``inconclusive``, and one decided in a run without that resolution does not count),
naming each run that did; *weak* when it was decided but the registry
says its check could pass in a wrong world (``weak``); *not observed* otherwise, with the
reasons the runs gave (skipped, not applicable, inconclusive, unsupported, error), the
registry's ``unchecked`` reason, or that no run recorded it. A claim not applicable on
every release the lab builds, all of them run, applies on none: coverage says so.

Without runs nothing is observed: the registry's plan is shown instead (*planned*,
*weak*, *unchecked*). Sections are the guide's headings each claim cites, in the guide's
order; claims beyond the guide are not the guide's and are not counted.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from harness.bench.summary import PerformanceSummary
from harness.claims import Claim, Registry
from harness.guide.revisions import Revision, selected
from harness.guide_sections import headings, position
from harness.lab.releases import RELEASES
from harness.markup import Block, Cell, Code, Grid, Para, counted, flat, shortened, to_markdown
from harness.results.schema import DECIDED, ClaimResult, Run

STATUSES = ("observed", "weak", "not observed")
#: Without runs: what the registry plans.
PLAN_STATUSES = ("planned", "weak", "unchecked")
NO_RESULT = "no run recorded a result for it"
UNSEPARATED = ("decided without the run's A/A resolution (no host against native control "
               "measured), so not separated from the noise")
NO_RUNS = "0 statements observed (no runs given)"
#: A reason from a run is cut to this many characters.
REASON_CHARS = 240


@dataclass(frozen=True)
class Judged:
    claim: Claim
    status: str
    #: Why it is weak or not observed (empty when observed).
    reason: str = ""
    #: The runs that decided it (release and run id).
    decided_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Section:
    title: str
    claims: tuple[Judged, ...]

    def count(self, status: str) -> int:
        return sum(1 for j in self.claims if j.status == status)


@dataclass(frozen=True)
class Coverage:
    sections: tuple[Section, ...]
    #: The runs it was computed from, each named by :func:`run_name`.
    runs: tuple[str, ...] = ()
    #: The guide revision whose statements are counted, and the registry's claims that
    #: are not in it (not counted).
    revision: str = ""
    absent: tuple[str, ...] = ()

    @property
    def statuses(self) -> tuple[str, ...]:
        return STATUSES if self.runs else PLAN_STATUSES

    def count(self, status: str) -> int:
        return sum(s.count(status) for s in self.sections)

    @property
    def total(self) -> int:
        return sum(len(s.claims) for s in self.sections)

    @property
    def summary(self) -> str:
        if not self.runs:
            return NO_RUNS
        return f"{self.count('observed')} of {self.total} statements observed"

    @property
    def absent_line(self) -> str:
        """The registry's claims this revision does not state ("" when none)."""
        if not self.absent:
            return ""
        return (f"{len(self.absent)} claims of the registry are not in this revision (not "
                f"counted): {', '.join(self.absent)}")


def run_name(run: Run) -> str:
    return run.run_id if run.release == run.run_id else f"{run.release} {run.run_id}"


def judge(claim: Claim, runs: Sequence[Run]) -> Judged:
    """One statement against the runs (the plan when there are none)."""
    if not runs:
        if claim.unchecked:
            return Judged(claim, "unchecked", claim.unchecked)
        return Judged(claim, "weak", claim.weak) if claim.weak else Judged(claim, "planned")
    results = [(run, r) for run in runs for r in run.results if r.claim_id == claim.id]
    deciding = tuple(dict.fromkeys(run_name(run) for run, r in results
                                   if r.outcome in DECIDED and separated(run, r)))
    if deciding:
        return Judged(claim, "weak" if claim.weak else "observed", claim.weak, deciding)
    return Judged(claim, "not observed", _why_not(claim, runs, results))


def separated(run: Run, result: ClaimResult) -> bool:
    """A benchmark's verdict (one of the run's performance verdicts) is decided only
    against the run's A/A resolution: without one, nothing told it from the noise."""
    summary = PerformanceSummary.of(run)
    if result.claim_id in summary.verdicts:
        return summary.resolution is not None
    return True


def _why_not(claim: Claim, runs: Sequence[Run], results: list[tuple[Run, ClaimResult]]) -> str:
    if not results:
        return f"unchecked: {claim.unchecked}" if claim.unchecked else NO_RESULT
    # The runs (an ordered set) that gave each outcome and reason.
    said: dict[tuple[str, str], dict[str, None]] = {}
    for run, result in results:
        reason = shortened(flat(UNSEPARATED if result.outcome in DECIDED else
                                result.reason or "no reason recorded"), REASON_CHARS)
        said.setdefault((result.outcome.replace("_", " "), reason), {})[run_name(run)] = None
    text = "; ".join(f"{outcome} ({', '.join(names)}): {reason}"
                     for (outcome, reason), names in said.items())
    releases = {run.release for run in runs}
    if all(r.outcome == "not_applicable" for _, r in results) and releases >= set(RELEASES):
        return f"applies on no release the lab builds ({', '.join(RELEASES)} all run): {text}"
    return text


def section_title(claim: Claim) -> str:
    """The guide's heading the claim cites (its anchor), else its section path."""
    return dict(headings()).get(claim.anchor, claim.section)


def of(registry: Registry, runs: Sequence[Run] = (), revision: Revision | None = None
       ) -> Coverage:
    """The statements of the guide ``revision`` (default: the one this process judges)
    per section, sections and claims in the guide's order."""
    revision = revision or selected()
    absent = tuple(c.id for c in registry.guide_claims if c.wording_in(revision) is None)
    ordered = sorted((c for c in registry.guide_claims if c.id not in absent),
                     key=lambda c: position(c.anchor, c.section))
    groups: dict[str, list[Judged]] = {}
    for claim in ordered:
        groups.setdefault(section_title(claim), []).append(judge(claim, runs))
    return Coverage(tuple(Section(title, tuple(judged)) for title, judged in groups.items()),
                    tuple(dict.fromkeys(run_name(run) for run in runs)), revision.label, absent)


def _counts(found: Coverage, section: Section) -> list[str]:
    return [str(section.count(status)) for status in found.statuses]


def _detail(judged: Judged) -> str:
    """What a claim's line says after its status: the deciding runs, then why."""
    runs = f"decided by {', '.join(judged.decided_by)}" if judged.decided_by else ""
    return "; ".join(part for part in (runs, judged.reason) if part)


def _listed(found: Coverage, section: Section) -> list[Judged]:
    """The claims of ``section`` each listing names: all of them given runs (every
    observed statement names its runs), else the plan's weak and unchecked ones."""
    return [j for j in section.claims if found.runs or j.status != "planned"]


def _runs_line(found: Coverage) -> str:
    runs = (f"from {counted(len(found.runs), 'run')}: "
            + ", ".join(found.runs) if found.runs else "the registry's plan (no runs given)")
    return f"guide {found.revision}, {runs}" if found.revision else runs


def text_lines(found: Coverage) -> list[str]:
    """For the terminal: one line per section with its counts, then its claims with
    status and detail."""
    lines = [_runs_line(found)]
    for section in found.sections:
        counts = ", ".join(f"{n} {status}" for n, status in zip(
            _counts(found, section), found.statuses, strict=True))
        lines.append(f"{section.title}: {counts}")
        lines += [f"    {j.status:<12}  {j.claim.id}: {_detail(j)}" for j in _listed(found, section)]
    return [*lines, *([found.absent_line] if found.absent else []), found.summary]


def blocks(found: Coverage) -> list[Block]:
    """The per-section table, then each listed claim with its status and detail."""
    heads = found.statuses
    return [Para(_runs_line(found) + "."),
            Grid(["section", *heads], [[s.title, *(Cell(n, "num") for n in _counts(found, s))]
                                       for s in found.sections],
                 right=range(1, len(heads) + 1), sections=True),
            Grid(["claim", "status", "decided by, or why not"],
                 [[Code(j.claim.id), j.status, _detail(j)]
                  for s in found.sections for j in _listed(found, s)],
                 sections=True),
            *([Para(found.absent_line)] if found.absent else []), Para(found.summary)]


DOC_TITLE = "# Coverage of the guide\n"
DOC_HEADER = """Every verifiable statement of [the guide](guide.md) is a claim of the registry
([claims.md](claims.md)). *observed*: a run recorded a decided verdict for it (passed or
failed), named in the table; *weak*: decided, but the check could pass in a wrong world;
*not observed*: every result was skipped, not applicable, inconclusive, unsupported or an
error (the runs' reasons are given), or no run recorded one. Generated by
`podnet coverage --markdown RUN... > docs/coverage.md`; do not edit.
"""


def _described(run: Run) -> str:
    podman = (run.environment.get("versions") or {}).get("podman", "unknown")
    when = time.strftime("%Y-%m-%d", time.gmtime(run.started))
    chosen = ("selection not recorded" if run.selection is None
              else f"checks `-m {run.selection}`" if run.selection else "every check")
    return (f"`{run.run_id}` ({run.environment.get('release') or 'no release recorded'}, "
            f"podman {podman}, {when}, {run.environment.get('target') or 'unknown target'}, "
            f"{chosen}, {len(run.results)} claim results)")


def document(registry: Registry, runs: Sequence[Run] = (),
             revision: Revision | None = None) -> str:
    revision = revision or selected()
    source = (f"Produced from {', '.join(_described(r) for r in runs)}.\n" if runs else
              "Produced from no run: the registry's plan only.\n")
    return (DOC_TITLE + f"\nGuide revision: {revision.label}.\n\n" + DOC_HEADER + "\n" + source + "\n"
            + "\n".join(to_markdown(blocks(of(registry, runs, revision)))[:-1]) + "\n")
