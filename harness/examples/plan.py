"""What running an example means, step by step, before anything runs: files to write,
commands to run (on host1 as the example's user, or on host2), the output the guide
shows for each, and the substitutions applied. Pure: no lab needed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from harness.examples import substitutions as subs
from harness.examples.assess import PREREQUISITES, effective_steps, run_images
from harness.examples.model import PREREQUISITE, Block, BlockKind, Example, Step

#: Commands the runner does itself: the example's user is created, logged in and out.
USER_SETUP = re.compile(r"^(sudo\s+(useradd|machinectl\s+shell)\b.*|exit)$")

#: What the first runner does not do yet, searched in each command: (pattern, reason).
UNSUPPORTED: tuple[tuple[str, str], ...] = (
    (r"^sudo sysctl --system\b", "sudo sysctl --system applies every sysctl.d file of host1, "
     "kernel-wide settings included, not only those of host1's network namespace: it would "
     "change the machine's kernel"),
    (r"^sudo\b", "runs a command as root (sudo); the runner runs unprivileged steps only"),
    (r"\bhttp\.server\b", "starts a server in the foreground"),
    (r"^cd\s|^\w+=\S*$", "keeps shell state (cd, variables) from one step to the next"),
)

#: Non-zero exits the guide's text expects: (pattern on the step's prose, pattern on the
#: command, the exit statuses that mean "as the guide says").
EXPECTED_EXITS: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    # pgrep exits 1 when it lists nothing.
    (r"should not list any processes", r"^pgrep\b", (1,)),
)


@dataclass(frozen=True)
class Action:
    #: "run" a script, "write" a file, "replace" a line of a file.
    kind: str
    #: The guide's line of the block (or of the step, for an inline command).
    line: int
    step: str | None
    host: str
    #: The script or the file's content, substitutions applied.
    text: str
    path: str | None = None
    old: str = ""
    #: The output the guide shows for this command, if any.
    expected: str | None = None
    approximate: bool = False
    #: Non-zero exit statuses the guide's text expects (see :data:`EXPECTED_EXITS`).
    expected_exits: tuple[int, ...] = ()


@dataclass(frozen=True)
class Plan:
    example: str
    actions: tuple[Action, ...]
    #: Guide images the lab's user needs, each with the lab image it is tagged from.
    images: tuple[tuple[str, str], ...]
    substitutions: tuple[str, ...]
    #: Why the runner cannot run the example (empty: it can).
    unsupported: tuple[str, ...]


def substitute(text: str) -> str:
    """The guide's hosts and addresses replaced by the lab's; the guide's user's home by
    the example user's (``~``)."""
    for address in subs.ADDRESSES:
        text = text.replace(address.guide, address.lab)
    return text.replace("/home/test/", "~/")


def _script(block: Block) -> str:
    """The block's commands as written, without the user set-up the runner does."""
    prompted = block.kind is BlockKind.SESSION or block.text.startswith("$ ")
    lines = block.commands if prompted else tuple(block.text.splitlines())
    kept = [line for line in lines if not USER_SETUP.match(line.strip())]
    return substitute(re.sub(r"\bpodman pull\b", "podman image exists", "\n".join(kept)))


def expected_exits(prose: str, script: str) -> tuple[int, ...]:
    """The non-zero exits the step's prose expects of its one-line command, if any."""
    lines = [line for line in script.splitlines() if line.strip()]
    for prose_pattern, command_pattern, statuses in EXPECTED_EXITS:
        if (len(lines) == 1 and re.search(prose_pattern, prose)
                and re.search(command_pattern, lines[0].strip())):
            return statuses
    return ()


def _actions(steps: Sequence[Step]) -> tuple[list[Action], list[str]]:
    actions: list[Action] = []
    problems: list[str] = []
    for step in steps:
        if step.inline_command and not USER_SETUP.match(step.inline_command):
            actions.append(Action("run", step.line, step.number, step.host,
                                  substitute(step.inline_command)))
        for block in step.blocks:
            action = _action(block, step, actions)
            if isinstance(action, str):
                problems.append(action)
            elif action is not None:
                actions.append(action)
    return actions, problems


def _action(block: Block, step: Step, actions: list[Action]) -> Action | str | None:
    if block.kind in (BlockKind.COMMAND, BlockKind.SESSION):
        script = _script(block)
        if not script.strip():
            return None
        expected = block.output if block.kind is BlockKind.SESSION else None
        return Action("run", block.line, step.number, block.host, script,
                      expected=substitute(expected) if expected else None,
                      expected_exits=expected_exits(step.text, script))
    if block.kind is BlockKind.OUTPUT:
        for i, earlier in enumerate(actions):
            if earlier.line == block.output_of:
                actions[i] = replace(earlier, expected=substitute(block.text),
                                     approximate=block.approximate)
        return None
    if block.kind is BlockKind.FILE and block.path:
        return Action("write", block.line, step.number, block.host, substitute(block.text),
                      path=substitute(block.path))
    if block.kind is BlockKind.EDIT and block.edit == "replace":
        return Action("replace", block.line, step.number, block.host, "",
                      path=substitute(block.path or ""), old=block.text)
    if block.kind is BlockKind.EDIT and block.edit == "with":
        if actions and actions[-1].kind == "replace":
            actions[-1] = replace(actions[-1], text=substitute(block.text))
        return None
    if block.kind is BlockKind.EDIT:
        return f"line {block.line}: adds lines to a file the example does not create"
    return None


def plan(example: Example, examples: Sequence[Example]) -> Plan:
    by_anchor = {e.id: e for e in examples}
    actions, problems = _actions(effective_steps(example, by_anchor))
    images: dict[str, str] = {}
    used: list[str] = []
    for action in actions:
        logical = action.text.replace("\\\n", " ")
        refs = [ref for line in logical.splitlines() for ref in run_images(line)]
        if action.kind == "write":
            refs += re.findall(r"^Image=(\S+)", action.text, re.MULTILINE)
        for ref in refs:
            entry = subs.image_substitute(ref)
            if entry is not None and entry.lab_image is not None:
                images[ref] = entry.lab_image
        for pattern, reason in UNSUPPORTED:
            if action.kind == "run" and any(re.search(pattern, line.strip())
                                            for line in action.text.splitlines()):
                problems.append(f"line {action.line}: {reason}")
    used += [f"{image} -> {lab}" for image, lab in images.items()]
    needed = PREREQUISITES.get(example.id)
    if needed is not None and needed.script:
        actions.insert(0, Action("run", example.line, "prerequisite", "host1", needed.script))
        used.append(f"{PREREQUISITE}{needed.what} -> {needed.how}")
    elif needed is not None:
        problems.append(f"needs first: {needed.what}")
    if not actions:
        problems.append("nothing to run")
    return Plan(example.id, tuple(actions), tuple(images.items()), tuple(used),
                tuple(dict.fromkeys(problems)))
