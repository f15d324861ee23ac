"""The phrases and shapes that decide what a fenced block of the guide is, as data.

Rules are tried in order; the first that matches decides. ``LEAD_IN_RULES`` look at the
paragraph just before the block; the fallbacks in :mod:`harness.examples.parse` look at
the block's info string, its content and its place (in a numbered step or not).
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.examples.structure import BlockKind


@dataclass(frozen=True)
class LeadInRule:
    #: A regular expression searched (case-insensitively) in the lead-in paragraph (""
    #: for a fallback of :func:`harness.examples.parse.classify`).
    pattern: str
    kind: BlockKind
    why: str
    approximate: bool = False
    #: EDIT only: what the block is in the edit.
    edit: str | None = None


LEAD_IN_RULES: tuple[LeadInRule, ...] = (
    LeadInRule(r"output should (usually )?look something like", BlockKind.OUTPUT,
               "'the output should look something like'", approximate=True),
    LeadInRule(r"following output is printed|prints the following output", BlockKind.OUTPUT,
               "'the following output is printed'"),
    LeadInRule(r"were created with the command", BlockKind.OTHER,
               "shows how the file above was made ('were created with the command'), "
               "not a step"),
    LeadInRule(r"replace the line", BlockKind.EDIT, "'replace the line'", edit="replace"),
    LeadInRule(r"^with:?$", BlockKind.EDIT, "'with' after 'replace the line'", edit="with"),
    LeadInRule(r"add the following lines to the existing file", BlockKind.EDIT,
               "'add the following lines to the existing file'", edit="add"),
    LeadInRule(r"add the following lines to\b", BlockKind.EDIT,
               "'add the following lines to' a file (made if missing)", edit="append"),
    LeadInRule(r"\bfile\b.*\b(containing|with the contents)\b", BlockKind.FILE,
               "'the file ... containing' / 'with the contents'"),
    LeadInRule(r"^[~$/][\w./@$~-]+$", BlockKind.FILE, "a file's path alone above its content"),
    LeadInRule(r"(run|with) the command\b|,? run:?$", BlockKind.COMMAND, "'run the command'"),
    LeadInRule(r"could look like this", BlockKind.OTHER,
               "a sample file without a path ('could look like this')"),
    LeadInRule(r"similar to this", BlockKind.OTHER,
               "a sketch with elided arguments ('similar to this')"),
    LeadInRule(r"add the line\b", BlockKind.OTHER,
               "a line to add to a file the text does not name ('add the line')"),
    LeadInRule(r"configuration lines?\b", BlockKind.OTHER,
               "a configuration line for a file ('use the configuration lines')"),
    LeadInRule(r"journal log contains an error message", BlockKind.OTHER,
               "an error message quoted from a journal"),
    LeadInRule(r"logs the HTTP request as coming from", BlockKind.OTHER,
               "a log line shown for explanation; no command of the guide prints it"),
    LeadInRule(r"needs to set the environment variables", BlockKind.OTHER,
               "lines of a container unit shown for explanation"),
    LeadInRule(r"this Containerfile defines", BlockKind.OTHER,
               "a Containerfile shown for explanation, without a path"),
    LeadInRule(r"example shows that setting", BlockKind.OTHER,
               "a containers.conf line shown for explanation"),
)

#: Info strings of blocks that are pictures, not text to run.
DIAGRAM_INFO = ("mermaid",)

#: The prompt that marks commands in a block that also shows their output.
PROMPT = "$ "

#: First words of a block that is a command when nothing else decides.
COMMAND_WORDS = frozenset({
    "podman", "sudo", "systemctl", "journalctl", "curl", "mkdir", "cp", "grep", "cat",
    "hostname", "host", "loginctl", "python3", "pgrep", "ss", "exit", "rpm", "dnf",
})

#: A step's text that puts it, and the steps under it, on another host.
HOST_PHRASES: tuple[tuple[str, str], ...] = (
    (r"\b(from|on|log in to) _?host2\b", "host2"),
    (r"\b(from|on|log in to) _?host1\b", "host1"),
)

#: Whole-example markers in the section's prose.
EXPERIMENTAL = r"^Status: experimental\b"
FOLLOWS = r"Follow the same steps as"
REPLACES_STEP = r"replace step (\d+)"

#: A lead-in that makes its block optional: it runs only where the tool it names is
#: installed ("If __jq__ is installed on the computer, then ...").
ONLY_IF_INSTALLED = r"^If _*([\w.-]+)_* is installed\b"
