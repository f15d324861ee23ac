"""What the guide's examples are made of: examples, procedures, steps and blocks."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

#: What running an example can come to, in the order a report counts them, and the
#: claim-like result's outcome for each.
OUTCOME_OF_RESULT = {"ran as written": "passed", "ran with substitutions": "passed",
                     "failed": "failed", "output differs": "failed", "not run": "skipped"}
#: How a plan's substitutions name what the runner starts before an example's steps.
PREREQUISITE = "prerequisite: "


class BlockKind(StrEnum):
    #: Commands to run, as written (one shell script).
    COMMAND = "command"
    #: Commands after a ``$`` prompt followed by the output they print.
    SESSION = "session"
    #: Contents of a file to create at ``path``.
    FILE = "file"
    #: Text to change in the existing file at ``path`` (``edit``: replace, with, add,
    #: append: added at its end, the file made if missing).
    EDIT = "edit"
    #: The output the command block at ``output_of`` prints.
    OUTPUT = "output"
    #: Not meant to run or create: a diagram, a sample, an excerpt (``why`` says which).
    OTHER = "other"


@dataclass(frozen=True)
class Prose:
    """A paragraph of the guide: its plain text and its emphasised and code spans."""

    line: int
    text: str
    spans: tuple[str, ...] = ()


@dataclass(frozen=True)
class Block:
    """One fenced block, with the 1-based lines of its opening and closing fences."""

    line: int
    end_line: int
    info: str
    text: str
    kind: BlockKind
    #: The rule that decided the kind (a phrase of the lead-in, the content, the place).
    why: str
    #: The paragraph just before the block that introduces it ("" when none).
    lead_in: str
    #: Which host the guide runs it on: "host1", or "host2" (the client).
    host: str = "host1"
    path: str | None = None
    edit: str | None = None
    output_of: int | None = None
    approximate: bool = False
    #: COMMAND and SESSION: the logical command lines (continuations joined, no prompt).
    commands: tuple[str, ...] = ()
    #: SESSION: the output shown after the commands.
    output: str = ""


@dataclass(frozen=True)
class Step:
    """A numbered step ("4", "9.2"), or an unnumbered paragraph of prose with blocks."""

    number: str | None
    line: int
    text: str
    host: str
    blocks: tuple[Block, ...] = ()
    #: A step written as one inline code span, e.g. ``1. `sudo useradd user1```.
    inline_command: str | None = None
    #: The step's later paragraphs ("The command should not list any processes.").
    remarks: str = ""


@dataclass(frozen=True)
class Procedure:
    """A numbered list of steps, or a run of prose with blocks between lists."""

    title: str
    line: int
    numbered: bool
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Example:
    """Everything with blocks under one heading of the guide."""

    id: str
    section: str
    line: int
    end_line: int
    procedures: tuple[Procedure, ...]
    experimental: bool = False
    #: Anchor of the example whose steps this one follows ("Follow the same steps as").
    based_on: str | None = None
    #: Step numbers of ``based_on`` that this example's steps replace.
    replaces: tuple[str, ...] = ()

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(step for proc in self.procedures for step in proc.steps)

    @property
    def blocks(self) -> tuple[Block, ...]:
        return tuple(block for step in self.steps for block in step.blocks)
