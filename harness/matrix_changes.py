"""What changes across the releases, grouped for reading: the statements that change in
the same way at the same release form one group, named by that release and the outcome
before and after ("With experimental (podman 6.1.1, ...): 12 statements, as the guide
says on sid, are unsupported: “slirp4netns support has been removed ...”")."""

from __future__ import annotations

from dataclasses import dataclass

from harness.markup import counted
from harness.matrix import Change, Matrix
from harness.words import BEYOND_GUIDE, outcome_words

#: What a group of statements became, as a verb phrase: (one statement, several).
BECAME = {**{outcome: (f"is {words}", f"are {words}") for outcome, words in (
              ("passed", "now as the guide says"), ("unsupported", "unsupported"),
              ("not_applicable", "not applicable"), ("skipped", "skipped"),
              ("inconclusive", "inconclusive"))},
          "failed": ("differs from the guide", "differ from the guide"),
          "error": ("ends in an error", "end in an error")}
#: The same for statements beyond the guide, whose expectation is the documentation's.
BECAME_BEYOND = {**BECAME, "passed": ("is now as documented", "are now as documented"),
                 "failed": ("differs from the documentation", "differ from the documentation")}
#: Outcomes whose detail is a message shared by the group, not an observation.
SHARED_DETAIL = ("unsupported", "not_applicable", "skipped", "inconclusive", "error")


@dataclass(frozen=True)
class ChangeGroup:
    before: int  # column indices
    after: int
    was: str
    now: str
    #: The detail every change of the group shares (podman's message, the reason), if any.
    message: str
    #: Statements beyond the guide (grouped apart from the guide's).
    beyond_guide: bool
    changes: tuple[Change, ...]


def change_groups(matrix: Matrix) -> list[ChangeGroup]:
    """Every change of the matrix, grouped by where and how it happens; groups in column
    order, the larger first; statements in the guide's order."""
    grouped: dict[tuple[int, int, str, str, str, bool], list[Change]] = {}
    for _, changes in matrix.changes():
        for change in changes:
            was, now = change.row.cells[change.before], change.row.cells[change.after]
            message = now.detail if now.outcome in SHARED_DETAIL else ""
            key = (change.before, change.after, str(was.outcome), str(now.outcome), message,
                   change.row.beyond_guide)
            grouped.setdefault(key, []).append(change)
    groups = [ChangeGroup(*key, changes=tuple(found)) for key, found in grouped.items()]
    return sorted(groups, key=lambda g: (g.beyond_guide, g.after, -len(g.changes)))


def group_words(matrix: Matrix, group: ChangeGroup) -> str:
    """The heading of a group after the release where it changes: how many statements,
    what they were and what they became."""
    n = len(group.changes)
    words = BECAME_BEYOND if group.beyond_guide else BECAME
    one, several = words.get(group.now, (f"is {group.now}", f"are {group.now}"))
    became = one if n == 1 else several
    statements = counted(n, "statement")
    if group.beyond_guide:
        statements += f" {BEYOND_GUIDE}"
    message = f": “{group.message}”" if group.message else ""
    was = outcome_words(group.was, group.beyond_guide)
    return (f"{statements}, {was} on {matrix.columns[group.before].run.release}, "
            f"{became}{message}")


def item_words(matrix: Matrix, group: ChangeGroup, change: Change) -> str:
    """One statement of a group, after its statement: what the guide says and, unless the
    group shares it, what the release showed."""
    row = change.row
    said = f"{row.expectation_label}: {row.guide}"
    if group.message:
        return said
    before, after = matrix.columns[change.before], matrix.columns[change.after]
    was = ("" if group.was == "passed"  # the heading says it was as the guide says
           else f"; on {before.run.release}: {row.cells[change.before].detail}")
    return f"{said}{was}; on {after.run.release}: {row.cells[change.after].detail}"
