"""What running an example means, step by step, before anything runs: files to write,
commands to run (on host1 as the example's user, or on host2), the output the guide
shows for each, and the substitutions applied. Pure: no lab needed."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from harness.examples import substitutions as subs
from harness.examples.assess import (
    PRIVILEGED,
    STAND_INS,
    USER_SETUP,
    Login,
    Prerequisite,
    effective_steps,
    only_if_installed,
    prerequisite,
    script_images,
)
from harness.examples.structure import PREREQUISITE, Block, BlockKind, Example, Step

#: How many distinct users the runner gives an example (see the runner's PEOPLE).
MAX_USERS = 2

#: Commands that serve in the foreground until stopped: the runner starts them in the
#: background, waits until they listen, and stops them when their login ends.
FOREGROUND: tuple[str, ...] = (
    r"^python3 -m http\.server\b",
    # A container that publishes a port, run without -d: its server runs until stopped.
    r"^podman run\b(?!.*\s(-d|--detach)(\s|$))(?=.*\s(-p|--publish)(\s|=))",
    # A web server's image run without -d and without a command: nginx serves until stopped.
    r"^podman run\b(?!.*\s(-d|--detach)(\s|$))\s.*\S*/nginx(:[\w.-]+)?$",
)

#: A command that starts a server and returns at once: (pattern, why). The runner waits
#: until the server listens before the next step (a reader types it seconds later).
STARTS_SERVER: tuple[tuple[str, str], ...] = (
    (r"^podman run\b(?=.*\s(-d|--detach)(\s|$))",
     "a detached container's server is still starting when podman run returns"),
)
#: A command that reads logs: (pattern, why). Where its output differs from the guide's,
#: the runner reads again until it does not, for a few seconds (a reader reads later).
READS_LOGS: tuple[tuple[str, str], ...] = (
    (r"^(journalctl|podman logs)\b",
     "a container's log lines reach the journal through conmon a moment after the request"),
)
#: A command that connects over the network: (pattern, why). Its step gets the runner's
#: short bound (see the runner's PROBE_BOUND): in the lab an answer comes in milliseconds.
PROBES: tuple[tuple[str, str], ...] = (
    (r"(^|[\s|;&(])(curl|wget|nc|ncat|socat|telnet)\s",
     "a connection inside the lab is refused or answered within milliseconds"),
)

#: What the runner does not do, searched in each command: (pattern, reason).
UNSUPPORTED: tuple[tuple[str, str], ...] = (
    (PRIVILEGED, "runs a command as root (sudo) that the runner "
     "has no safe way to run: host1's root is the machine's root (it shares the kernel)"),
)

#: Non-zero exits the guide's text expects: (pattern on the step's prose, pattern on the
#: command, the exit statuses that mean "as the guide says").
EXPECTED_EXITS: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    # pgrep exits 1 when it lists nothing.
    (r"should not list any processes", r"^pgrep\b", (1,)),
    (r"\bIf the command lists any processes\b", r"^pgrep\b", (1,)),
)
#: Errors the guide shows a command print, and the exit status each means: (pattern on
#: the shown output, the status; None: the pattern's group names it).
EXITS_SHOWN: tuple[tuple[str, int | None], ...] = (
    (r"^curl: \((\d+)\)", None),
    # ls exits 2 on an operand it cannot access (GNU ls: "serious trouble").
    (r"^ls: cannot access .*: No such file or directory$", 2),
)


@dataclass(frozen=True)
class Action:
    #: "run" a script, "write" a file, "append" lines to a file (made if missing),
    #: "replace" a line of a file.
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
    #: The guide's user whose login runs it ("" for the guide's reader, before any login).
    user: str = ""
    #: Which login (0, 1, ...): shell state (cd, variables) lasts one login, and so do the
    #: servers it starts in the foreground ("serve").
    login: int = 0
    #: It starts a server and returns at once (see :data:`STARTS_SERVER`).
    starts_server: bool = False
    #: It reads logs (see :data:`READS_LOGS`).
    reads_logs: bool = False
    #: It connects over the network (see :data:`PROBES`).
    probe: bool = False
    #: A tool the guide runs it only where installed ("If jq is installed"), or "".
    only_if: str = ""
    #: Run as root in host1 (a sudo command of the table's ROOT_COMMANDS, or a file outside
    #: the user's home), undone after the example.
    root: bool = False


@dataclass(frozen=True)
class Plan:
    example: str
    actions: tuple[Action, ...]
    #: Guide images the lab's user needs, each with the lab image it is tagged from.
    images: tuple[tuple[str, str], ...]
    substitutions: tuple[str, ...]
    #: Why the runner cannot run the example (empty: it can).
    unsupported: tuple[str, ...]
    #: Who runs the example's commands on host1, in the order they first do: the guide's
    #: reader ("") and the users it logs in as; each gets one of the runner's people.
    users: tuple[str, ...] = ()


#: The guide's user's home, as its commands and files write it.
GUIDE_HOME = "/home/test/"


def substitute(text: str, *, home: bool = True) -> str:
    """The guide's hosts and addresses replaced by the lab's; the guide's user's home by
    the example user's (``~``) if ``home``: a file's content keeps :data:`GUIDE_HOME`,
    which the runner replaces by the user's home (no program reading a file expands
    ``~``)."""
    for address in subs.ADDRESSES:
        text = text.replace(address.guide, address.lab)
    return text.replace(GUIDE_HOME, "~/") if home else text


def _lines(block: Block) -> tuple[str, ...]:
    """The block's command lines as written (the prompt removed from a session's)."""
    prompted = block.kind is BlockKind.SESSION or block.text.startswith("$ ")
    return block.commands if prompted else tuple(block.text.splitlines())


def _script(lines: Sequence[str]) -> str:
    """The commands as written, without the user set-up the runner does."""
    kept = [line for line in lines if not USER_SETUP.match(line.strip())]
    return substitute(re.sub(r"\bpodman pull\b", "podman image exists", "\n".join(kept)))


def exits_shown(output: str) -> tuple[int, ...]:
    """The non-zero exits the errors the guide shows a command print mean."""
    shown = [(re.search(pattern, output, re.MULTILINE), status) for pattern, status in EXITS_SHOWN]
    return tuple(int(found.group(1)) if status is None else status
                 for found, status in shown if found)


def expected_exits(prose: str, script: str) -> tuple[int, ...]:
    """The non-zero exits the step's prose expects of its one-line command, if any."""
    lines = [line for line in script.splitlines() if line.strip()]
    for prose_pattern, command_pattern, statuses in EXPECTED_EXITS:
        if (len(lines) == 1 and re.search(prose_pattern, prose)
                and re.search(command_pattern, lines[0].strip())):
            return statuses
    return ()


def _actions(steps: Sequence[Step], login: Login, step_label: str = "",
             example: str = "") -> tuple[list[Action], list[str]]:
    actions: list[Action] = []
    problems: list[str] = []
    for step in steps:
        number = f"{step_label}{step.number or '-'}" if step_label else step.number
        stand_in = STAND_INS.get((example, step.number or ""))
        if stand_in is not None:
            actions.append(_run(stand_in.script, step.line, number, step.host, login))
        if step.inline_command and not login.follow(step.inline_command):
            actions.append(_run(_script([step.inline_command]), step.line, number,
                                step.host, login))
        for block in step.blocks:
            action = _action(block, step, number, actions, login)
            if isinstance(action, str):
                problems.append(action)
            elif action is not None:
                actions.append(action)
    return actions, problems


def _run(script: str, line: int, step: str | None, host: str, login: Login,
         expected: str | None = None, prose: str = "", only_if: str = "") -> Action:
    """A command action: root (sudo of the table's ROOT_COMMANDS), a foreground server, or a
    command run by the current login."""
    lines = [text.strip() for text in script.replace("\\\n", " ").splitlines()
             if text.strip()]
    root = bool(lines) and all(
        text.startswith("sudo ") and subs.root_command(text[5:].strip()) for text in lines)
    if root:
        script = "\n".join(text[5:].strip() for text in lines)
    serve = len(lines) == 1 and _foreground(lines[0])
    exits = expected_exits(prose, script) + exits_shown(expected or "")
    return Action("serve" if serve else "run", line, step, host, script, expected=expected,
                  expected_exits=exits, user=login.user, login=login.number, root=root,
                  starts_server=_any(STARTS_SERVER, lines), reads_logs=_any(READS_LOGS, lines),
                  probe=_any(PROBES, lines), only_if=only_if)


def _output_after_last(session: str) -> bool:
    """A session block whose output lines all follow its last ``$`` command."""
    lines = session.rstrip("\n").splitlines()
    prompts = [i for i, line in enumerate(lines) if line.startswith("$ ")]
    continued = {i + 1 for i in prompts if lines[i].rstrip().endswith("\\")}
    return len(prompts) > 1 and all(i in prompts or i in continued or i > prompts[-1]
                                    for i in range(len(lines)))


def _greps_nothing_last(session: str) -> bool:
    """A session whose last command ends in ``grep`` and shows no output (nothing, or
    only an empty prompt, after it)."""
    lines = [line for line in session.rstrip("\n").splitlines() if line.strip()]
    prompts = [i for i, line in enumerate(lines) if line.startswith("$ ")]
    if not prompts or any(line.strip() != "$" for line in lines[prompts[-1] + 1:]):
        return False
    return re.search(r"(^|\|)\s*grep\b[^|]*$", lines[prompts[-1]][2:]) is not None


def _foreground(line: str) -> bool:
    """``line`` is one command that serves in the foreground until stopped."""
    return "\\" not in line and any(re.search(pattern, line.strip())
                                     for pattern in FOREGROUND)


def _any(table: Sequence[tuple[str, str]], lines: Sequence[str]) -> bool:
    return any(re.search(pattern, text) for pattern, _ in table for text in lines)


def _action(block: Block, step: Step, number: str | None, actions: list[Action],
            login: Login) -> Action | str | None:
    if block.kind in (BlockKind.COMMAND, BlockKind.SESSION):
        lines = _lines(block)
        for line in lines:
            login.follow(line)
        script = _script(lines)
        if not script.strip():
            return None
        expected = block.output if block.kind is BlockKind.SESSION else None
        run = functools.partial(_run, line=block.line, step=number, host=block.host, login=login)
        shown = functools.partial(run, expected=substitute(expected) if expected else None,
                                  prose=f"{step.text} {step.remarks}".strip(),
                                  only_if=only_if_installed(block) or "")
        *before, last = script.splitlines()
        if expected is None and before and _foreground(last):
            # Commands, then a server in the foreground: the commands run, then it serves.
            actions.append(run("\n".join(before)))
            return run(last)
        if expected is not None and _greps_nothing_last(block.text):
            # "$ ... | grep x" with nothing shown after it: grep finds nothing, exit 1.
            return replace(shown(script), expected_exits=(1,))
        if expected is not None and before and _output_after_last(block.text):
            # "$ a", "$ b", then output: the output shown is b's (a's is not shown).
            actions.append(run("\n".join(before)))
            script = last
        return shown(script)
    if block.kind is BlockKind.OUTPUT:
        for i, earlier in enumerate(actions):
            if earlier.line == block.output_of:
                actions[i] = replace(earlier, expected=substitute(block.text),
                                     approximate=block.approximate,
                                     expected_exits=earlier.expected_exits
                                     + exits_shown(block.text))
        return None
    edit = functools.partial(Action, line=block.line, step=number, host=block.host,
                             user=login.user, login=login.number)
    path = substitute(block.path or "")
    content = substitute(block.text, home=False)
    if block.kind is BlockKind.FILE and block.path:
        return edit("write", text=content, path=path, root=outside_home(path))
    if block.kind is not BlockKind.EDIT:
        return None
    if block.edit == "append" and block.path:
        if outside_home(path):
            return f"line {block.line}: adds lines to {path}, a file of host1's own"
        return edit("append", text=content, path=path)
    if block.edit == "replace":
        return edit("replace", text="", path=path, old=block.text)
    if block.edit == "with":
        if actions and actions[-1].kind == "replace":
            actions[-1] = replace(actions[-1], text=content)
        return None
    return f"line {block.line}: adds lines to a file the example does not create"


def outside_home(path: str) -> bool:
    """A file the guide creates outside its user's home (as root, e.g. in /etc)."""
    return path.startswith("/") and not path.startswith("/home/")


def _prerequisite_steps(needed: Prerequisite, examples: Sequence[Example]) -> tuple[Step, ...]:
    """The steps of the guide's procedure that ``needed`` names, or () if not found."""
    if needed.procedure is None:
        return ()
    anchor, title = needed.procedure
    procedures = [p for example in examples if example.id == anchor for p in example.procedures]
    return next((p.steps for p in procedures if re.search(title, p.title)), ())


def plan(example: Example, examples: Sequence[Example]) -> Plan:
    steps = effective_steps(example, {e.id: e for e in examples})
    login = Login()
    needed = prerequisite(example, steps)
    actions: list[Action] = []
    problems: list[str] = []
    if needed is not None and needed.procedure is not None:
        first = _prerequisite_steps(needed, examples)
        actions, problems = _actions(first, login, "prerequisite ")
        if not first:
            problems.append(f"needs first: {needed.what} (not found in the guide)")
    own, own_problems = _actions(steps, login, example=example.id)
    actions += own
    problems += own_problems
    images: dict[str, str] = {}
    for action in actions:
        refs = script_images(action.text) if action.kind in ("run", "serve", "write") else []
        if action.kind == "write":
            refs += re.findall(r"^Image=(\S+)", action.text, re.MULTILINE)
        for ref in refs:
            entry = subs.image_substitute(ref)
            if entry is not None and entry.lab_image is not None:
                images[ref] = entry.lab_image
        for pattern, reason in UNSUPPORTED:
            if action.kind == "run" and not action.root and any(
                    re.search(pattern, line.strip()) for line in action.text.splitlines()):
                problems.append(f"line {action.line}: {reason}")
    used = [f"{image} -> {lab}" for image, lab in images.items()]
    if needed is not None and needed.script:
        actions.insert(0, Action("run", example.line, "prerequisite", "host1", needed.script))
    if needed is not None and (needed.script or needed.procedure):
        used.append(f"{PREREQUISITE}{needed.what} -> {needed.how}")
    elif needed is not None:
        problems.append(f"needs first: {needed.what}")
    users = list(dict.fromkeys([a.user for a in actions if a.host == "host1"] + login.users))
    if len(users) > MAX_USERS:
        problems.append(f"needs {len(users)} users ({', '.join(u or 'the reader' for u in users)})"
                        f"; the runner gives an example at most {MAX_USERS}")
    if not actions:
        problems.append("nothing to run")
    return Plan(example.id, tuple(actions), tuple(images.items()), tuple(used),
                tuple(dict.fromkeys(problems)), tuple(users))
