"""Read the guide's Markdown (with markdown-it) into examples of classified blocks."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from markdown_it import MarkdownIt
from markdown_it.token import Token

from harness.examples import rules
from harness.examples.structure import Block, BlockKind, Example, Procedure, Prose, Step
from harness.guide.revisions import anchor

#: A backslash that ends a line (whitespace around it aside) with the next line's indent:
#: the line continues on the next one.
CONTINUATION = r"[^\S\n]*\\[^\S\n]*(?:\n[^\S\n]*|$)"


def logical_lines(text: str) -> list[str]:
    """Lines with backslash continuations joined, blank lines dropped."""
    joined = re.sub(CONTINUATION, " ", "\n".join(text.splitlines()))
    return [line.strip() for line in joined.splitlines() if line.strip()]


def split_session(text: str) -> tuple[tuple[str, ...], str]:
    """The commands after ``$`` prompts and the output lines of a session block."""
    commands: list[str] = []
    output: list[str] = []
    lines = iter(text.splitlines())
    for raw in lines:
        if raw.rstrip() == rules.PROMPT.strip():
            continue  # an empty prompt: the session ends, nothing more is typed
        if not raw.startswith(rules.PROMPT):
            output.append(raw)
            continue
        pieces = [raw[len(rules.PROMPT):]]  # and the lines it continues onto
        while pieces[-1].rstrip().endswith("\\") and (more := next(lines, None)) is not None:
            pieces.append(more)
        commands.append(" ".join(piece.strip().rstrip("\\").strip() for piece in pieces))
    return tuple(commands), "\n".join(output).strip("\n")


def classify(info: str, text: str, lead_in: str, in_step: bool) -> rules.LeadInRule:
    """What a block is, from its info string, the paragraph before it, its content and
    whether it is in a numbered step (the rules of :mod:`harness.examples.rules`): the
    lead-in's rule that decided, or one of the fallbacks (no pattern)."""
    if info.strip().split(" ")[0] in rules.DIAGRAM_INFO:
        return rules.LeadInRule("", BlockKind.OTHER, f"a diagram ({info.strip()})")
    for rule in rules.LEAD_IN_RULES:
        if re.search(rule.pattern, lead_in.strip(), re.IGNORECASE | re.DOTALL):
            if rule.kind is BlockKind.COMMAND and text.startswith(rules.PROMPT):
                break
            return rule
    if text.startswith(rules.PROMPT) and split_session(text)[1]:
        return rules.LeadInRule("", BlockKind.SESSION, "'$' prompts followed by output")
    if text.startswith(rules.PROMPT):
        return rules.LeadInRule("", BlockKind.COMMAND, "'$' prompts without output")
    if in_step:
        return rules.LeadInRule("", BlockKind.COMMAND, "the block of a numbered step")
    words = text.split()
    if words and words[0] in rules.COMMAND_WORDS:
        return rules.LeadInRule("", BlockKind.COMMAND, f"starts with the command {words[0]!r}")
    return rules.LeadInRule("", BlockKind.OTHER, "an excerpt: no lead-in asks to run or "
                            "create it and it does not start with a command")


def _prose(token: Token, line: int) -> Prose:
    text: list[str] = []
    spans: list[str] = []
    span: list[str] | None = None
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            text.append(child.content)
            if child.type == "code_inline":
                spans.append(child.content)
            elif span is not None:
                span.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            text.append(" ")
        elif child.type in ("em_open", "strong_open"):
            span = []
        elif child.type in ("em_close", "strong_close") and span is not None:
            spans.append("".join(span))
            span = None
    return Prose(line, " ".join("".join(text).split()), tuple(spans))


def _links(token: Token) -> list[str]:
    return [str(c.attrs.get("href", "")) for c in token.children or [] if c.type == "link_open"]


def _inline_command(token: Token) -> str | None:
    parts = [c for c in token.children or [] if not (c.type == "text" and not c.content.strip())]
    if len(parts) == 1 and parts[0].type == "code_inline":
        return parts[0].content
    return None


#: A file's name without a directory, as the guide writes one in a lead-in ("Create file
#: `test.bash` containing"): one word with an extension.
FILE_NAME = r"^[\w.@$~-]+\.\w+$"


def _path(prose: Prose | None) -> str | None:
    """The file a lead-in names: its first span with a directory, else its first span
    that is a file's name (relative to the reader's working directory, the home)."""
    spans = prose.spans if prose is not None else ()
    return (next((span for span in spans if "/" in span), None)
            or next((span for span in spans if re.match(FILE_NAME, span)), None))


def _introduces_output(text: str) -> bool:
    return any(re.search(rule.pattern, text, re.IGNORECASE)
               for rule in rules.LEAD_IN_RULES if rule.kind is BlockKind.OUTPUT)


def _host(text: str, inherited: str) -> str:
    return next((host for pattern, host in rules.HOST_PHRASES
                 if re.search(pattern, text, re.IGNORECASE)), inherited)


@dataclass
class _StepBuilder:
    number: str | None
    line: int
    host: str
    text: str = ""
    inline_command: str | None = None
    blocks: list[Block] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)

    def freeze(self) -> Step:
        return Step(self.number, self.line, self.text, self.host, tuple(self.blocks),
                    self.inline_command, " ".join(self.remarks))


@dataclass
class _ProcedureBuilder:
    title: str
    line: int
    numbered: bool
    steps: list[_StepBuilder] = field(default_factory=list)

    def freeze(self) -> Procedure:
        return Procedure(self.title, self.line, self.numbered,
                         tuple(step.freeze() for step in self.steps))


@dataclass
class _Section:
    id: str
    heading: str
    line: int
    procedures: list[_ProcedureBuilder] = field(default_factory=list)
    experimental: bool = False
    follows: bool = False
    based_on: str | None = None
    replaces: list[str] = field(default_factory=list)
    last_command: int | None = None
    last_edit_path: str | None = None

    def freeze(self) -> Example | None:
        procedures = [p.freeze() for p in self.procedures]
        procedures = [p for p in procedures
                      if any(s.blocks or s.inline_command for s in p.steps)]
        if not procedures:
            return None
        example = Example(self.id, self.heading, self.line, self.line, tuple(procedures),
                          self.experimental, self.based_on, tuple(self.replaces))
        return replace(example, end_line=max([self.line, *(s.line for s in example.steps),
                                              *(b.end_line for b in example.blocks)]))


class _Reader:
    """One pass over markdown-it's tokens, keeping track of section, list and step."""

    def __init__(self, source: str) -> None:
        self.lines = source.splitlines()
        self.examples: list[Example] = []
        self.anchors: dict[str, int] = {}
        self.section: _Section | None = None
        #: One entry per open list: ordered or not, the open item's step (if any) and the
        #: number the next item shows (as GitHub renders an ordered list).
        self.lists: list[tuple[bool, _StepBuilder | None, int]] = []
        self.lead_in: Prose | None = None
        self.last_top_paragraph = ""
        self.prose_step: _StepBuilder | None = None
        self.in_heading = False

    def run(self, tokens: Sequence[Token]) -> list[Example]:
        for token in tokens:
            handler = getattr(self, f"on_{token.type}", None)
            if handler is not None:
                handler(token)
        self.close_section()
        return self.examples

    def line_of(self, token: Token) -> int:
        return (token.map[0] if token.map else 0) + 1

    def ordered_depth(self) -> int:
        return sum(1 for ordered, _, _ in self.lists if ordered)

    def current_step(self, skip_last: bool = False) -> _StepBuilder | None:
        """The innermost open step (outside the innermost list if ``skip_last``)."""
        lists = reversed(self.lists[:-1] if skip_last else self.lists)
        return next((step for ordered, step, _ in lists if ordered and step is not None), None)

    def close_section(self) -> None:
        if self.section is not None:
            example = self.section.freeze()
            if example is not None:
                self.examples.append(example)
        self.section = None

    def on_heading_open(self, token: Token) -> None:
        self.close_section()
        line = self.line_of(token)
        self.section = _Section("", self.lines[line - 1].lstrip("#").strip(), line)
        self.lead_in = None
        self.prose_step = None
        self.last_top_paragraph = ""
        self.in_heading = True

    def on_heading_inline(self, token: Token) -> None:
        """GitHub's anchor comes from the heading as rendered (no emphasis markers)."""
        assert self.section is not None
        plain = "".join(c.content for c in token.children or []
                        if c.type in ("text", "code_inline"))
        self.section.id = anchor(plain, self.anchors)
        self.in_heading = False

    def on_ordered_list_open(self, token: Token) -> None:
        if self.ordered_depth() == 0 and self.section is not None:
            self.section.procedures.append(
                _ProcedureBuilder(self.last_top_paragraph, self.line_of(token), True))
            self.prose_step = None
        self.lists.append((True, None, int(token.attrs.get("start", 1) or 1)))

    def on_bullet_list_open(self, token: Token) -> None:
        self.lists.append((False, None, 0))

    def on_ordered_list_close(self, token: Token) -> None:
        self.lists.pop()
        self.lead_in = None

    def on_bullet_list_close(self, token: Token) -> None:
        self.lists.pop()

    def on_list_item_open(self, token: Token) -> None:
        ordered, _, number = self.lists[-1]
        if not ordered or self.section is None:
            return
        parent = self.current_step(skip_last=True)
        full = f"{parent.number}.{number}" if parent is not None else str(number)
        step = _StepBuilder(full, self.line_of(token), parent.host if parent else "host1")
        self.lists[-1] = (True, step, number + 1)
        self.section.procedures[-1].steps.append(step)
        self.lead_in = None

    def on_inline(self, token: Token) -> None:
        if self.section is not None and self.in_heading:
            self.on_heading_inline(token)
            return
        if self.section is None or token.map is None:
            return
        prose = _prose(token, self.line_of(token))
        step = self.current_step()
        self.section_markers(token, prose)
        if step is not None and not step.text:
            step.text = prose.text
            step.host = _host(prose.text, step.host)
            step.inline_command = _inline_command(token)
        elif step is not None:
            step.remarks.append(prose.text)
        elif self.ordered_depth() == 0:
            if not self.lists:
                self.last_top_paragraph = prose.text
            if not _introduces_output(prose.text):
                self.prose_step = None
        self.lead_in = prose

    def section_markers(self, token: Token, prose: Prose) -> None:
        section = self.section
        assert section is not None
        if re.search(rules.EXPERIMENTAL, prose.text):
            section.experimental = True
        # "Follow the same steps as" links the example it follows, here or in a later paragraph.
        if re.search(rules.FOLLOWS, prose.text) or (section.follows and section.based_on is None):
            section.follows = True
            section.based_on = next((h for h in _links(token) if h.startswith("#")), None)
        section.replaces += re.findall(rules.REPLACES_STEP, prose.text)

    def on_fence(self, token: Token) -> None:
        if self.section is None or token.map is None:
            return
        step = self.current_step()
        lead_in = self.lead_in.text if self.lead_in is not None else ""
        decision = classify(token.info, token.content, lead_in, step is not None)
        if step is None:
            step = self.prose_step_for(token)
        step.blocks.append(self.block(token, decision, lead_in, step.host))
        self.lead_in = None

    def prose_step_for(self, token: Token) -> _StepBuilder:
        section = self.section
        assert section is not None
        if self.prose_step is None:
            if not section.procedures or section.procedures[-1].numbered:
                section.procedures.append(_ProcedureBuilder("", self.line_of(token), False))
            lead_in = self.lead_in or Prose(self.line_of(token), "")
            self.prose_step = _StepBuilder(None, lead_in.line, _host(lead_in.text, "host1"),
                                           lead_in.text)
            section.procedures[-1].steps.append(self.prose_step)
        return self.prose_step

    def block(self, token: Token, decision: rules.LeadInRule, lead_in: str, host: str) -> Block:
        section = self.section
        assert section is not None and token.map is not None
        start, end = token.map[0] + 1, token.map[1]
        block = Block(start, end, token.info.strip(), token.content, decision.kind,
                      decision.why, lead_in, host)
        kind = decision.kind
        if kind in (BlockKind.COMMAND, BlockKind.SESSION):
            # A command block with prompts shows no output (it would be a session).
            commands, output = (split_session(token.content)
                                if token.content.startswith(rules.PROMPT)
                                else (tuple(logical_lines(token.content)), ""))
            block = replace(block, commands=commands, output=output)
            section.last_command = start
        elif kind is BlockKind.OUTPUT:
            block = replace(block, output_of=section.last_command,
                            approximate=decision.approximate)
        elif kind is BlockKind.FILE:
            block = replace(block, path=_path(self.lead_in))
        elif kind is BlockKind.EDIT:
            path = _path(self.lead_in) if decision.edit != "with" else section.last_edit_path
            section.last_edit_path = path
            block = replace(block, path=path, edit=decision.edit)
        return block


def parse(source: str) -> list[Example]:
    """The guide's examples, in the guide's order."""
    tokens = MarkdownIt("commonmark").parse(source)
    return _Reader(source).run(tokens)

