"""The report's section "The guide's examples": every example of a run with its result,
and every erratum (an example that failed or printed something else) with the guide's
line, the block, what happened and, where it is evident, the correction. Read from the
run's claim-like results ``guide-example:<id>`` (scenarios/test_guide_examples.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from harness.errors import PodnetError
from harness.examples.structure import OUTCOME_OF_RESULT, PREREQUISITE
from harness.markup import (
    Block,
    Cell,
    Code,
    Grid,
    Heading,
    Inline,
    Item,
    Items,
    Para,
    Pre,
    Small,
    Strong,
)
from harness.results.schema import ClaimResult, Run

PREFIX = "guide-example:"
HEADING = "The guide's examples"
ERRATA_RESULTS = ("failed", "output differs")

#: Corrections evident from a failing command's stderr: (pattern on stderr, pattern the
#: failing line must match or "", correction; ``{0}`` is the stderr pattern's group).
CORRECTIONS: tuple[tuple[str, str, str], ...] = (
    (r"(-\S+): command not found", r"^\s*-",
     "a line continuation (\\) is missing on the line before `{0}`"),
    (r"(\S+): command not found", "",
     "`{0}` is not a command on the guide's hosts: install it first or correct the name"),
    (r"(?:unknown flag|unrecognized option|invalid option)[: ]+'?(-[-\w]+)", "",
     "the option `{0}` does not exist in this version: remove or replace it"),
    (r"Unit (\S+) not found", "",
     "the unit `{0}` does not exist at this point: create its file first or correct its name"),
)


@dataclass(frozen=True)
class ExampleLine:
    """One example of the run: its result and, in one line, why."""

    example: str
    section: str
    lines: tuple[int, int]
    result: str
    detail: str
    prerequisites: tuple[str, ...]


@dataclass(frozen=True)
class Erratum:
    """An example that failed or printed something else than the guide shows."""

    example: str
    section: str
    #: The guide's line of the block that went wrong (the example's first line if unknown).
    line: int
    step: str
    block: str
    happened: str
    diff: str
    correction: str


def guide_example_results(run: Run) -> list[ClaimResult]:
    return [r for r in run.results if r.claim_id.startswith(PREFIX)]


def _line_number(value: Any, result: ClaimResult, what: str) -> int:
    """A guide line number from a run record; a malformed one is bad input (one line)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise PodnetError(f"the run record is malformed: {result.claim_id}: {what} is "
                      f"{value!r}, not a line number (re-run the examples or restore run.json)")


def _lines(result: ClaimResult) -> tuple[int, int]:
    found = result.evidence.get("lines") or [0, 0]
    if not isinstance(found, list) or len(found) != 2:
        raise PodnetError(f"the run record is malformed: {result.claim_id}: evidence 'lines' "
                          f"is {found!r}, not [first, last] (re-run the examples or restore "
                          "run.json)")
    return (_line_number(found[0], result, "its first line"),
            _line_number(found[-1], result, "its last line"))


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list | tuple) else ()


def _detail(result: ClaimResult) -> str:
    if result.observed != "ran with substitutions":
        return result.reason
    started = set(_strings(result.evidence.get("prerequisites")))
    return "; ".join(s for s in _strings(result.evidence.get("substitutions")) if s not in started)


def _started(result: ClaimResult) -> tuple[str, ...]:
    return tuple(text.removeprefix(PREREQUISITE) for text in
                 _strings(result.evidence.get("prerequisites")))


def example_lines(run: Run) -> list[ExampleLine]:
    return [ExampleLine(r.claim_id[len(PREFIX):], r.section, _lines(r), str(r.observed),
                        _detail(r), _started(r))
            for r in guide_example_results(run)]


def counts(run: Run) -> dict[str, int]:
    found = [str(r.observed) for r in guide_example_results(run)]
    return {result: found.count(result) for result in OUTCOME_OF_RESULT}


def correction(stderr: str, command: str) -> str:
    """The correction a failing command's stderr makes evident, or ""."""
    for pattern, line_pattern, text in CORRECTIONS:
        match = re.search(pattern, stderr)
        if match is None:
            continue
        if line_pattern and not any(re.search(line_pattern, line)
                                    for line in command.splitlines()):
            continue
        return text.format(*match.groups())
    return ""


def _failing_action(result: ClaimResult) -> dict[str, Any] | None:
    """The last action that exited non-zero where the guide expects no failure."""
    found = [a for a in result.evidence.get("actions") or [] if isinstance(a, dict)
             and a.get("exit_status") not in (0, None) and not a.get("expected_failure")]
    return found[-1] if found else None


def errata(run: Run) -> list[Erratum]:
    out: list[Erratum] = []
    for result in guide_example_results(run):
        if result.observed not in ERRATA_RESULTS:
            continue
        example = result.claim_id[len(PREFIX):]
        first = _lines(result)[0]
        if result.observed == "failed":
            action = _failing_action(result) or {}
            command = str(action.get("command", ""))
            stderr = str(action.get("stderr", ""))
            happened = (f"exited {action.get('exit_status', '?')}"
                        + (f": {stderr.strip().splitlines()[-1]}" if stderr.strip() else "")
                        if action else result.reason)
            out.append(Erratum(example, result.section,
                               _line_number(action.get("line") or first, result, "a step's line"),
                               str(action.get("step") or "-"), command, happened, "",
                               correction(stderr, command)))
            continue
        for action in [a for a in result.evidence.get("actions") or []
                       if isinstance(a, dict) and a.get("diff")]:
            line = _line_number(action.get("line") or first, result, "a step's line")
            # Printed nothing: the cause is not evident from the output.
            shown = (f"if the observed output is right, show it instead of the output after "
                     f"line {line}" if str(action.get("observed", "")).strip() else "")
            out.append(Erratum(example, result.section, line, str(action.get("step") or "-"),
                               str(action.get("command", "")),
                               "the output differs from the one the guide shows",
                               str(action["diff"]), shown))
    return sorted(out, key=lambda e: e.line)


def summary_sentence(run: Run) -> str:
    found = counts(run)
    total = sum(found.values())
    parts = ", ".join(f"{n} {result}" for result, n in found.items())
    return f"{total} examples: {parts}."


def blocks(run: Run) -> list[Block]:
    """The section for the reports ([] when the run has no example results)."""
    lines_ = example_lines(run)
    if not lines_:
        return []
    rows: list[list[Inline | Cell]] = [
        [f"{line.lines[0]}-{line.lines[1]}", (f"{line.section} ", Small(Code(line.example))),
         Cell(line.result, f"outcome-{OUTCOME_OF_RESULT.get(line.result, 'passed')}"),
         "; ".join((*(["started first: " + "; ".join(line.prerequisites)]
                      if line.prerequisites else []), *([line.detail] if line.detail else [])))]
        for line in lines_]
    found = errata(run)
    return [Heading(2, HEADING, id="guide-examples"), Para(summary_sentence(run)),
            Grid(["lines", "example", "result", "details"], rows),
            Heading(3, f"Errata ({len(found)})"),
            Items([Item((Strong(f"Line {e.line}"), f" (step {e.step}) of {e.section} (",
                         Code(e.example), f"): {e.happened}"),
                        [*([Pre(e.block)] if e.block else []),
                         *([Pre(e.diff, "diff")] if e.diff else []),
                         *([Para(f"Correction: {e.correction}.")] if e.correction else [])])
                   for e in found]) if found
            else Para("None: every example that ran did what the guide shows.")]
