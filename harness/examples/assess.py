"""Can an example run here: as written, with substitutions (which), or not (why)."""

from __future__ import annotations

import itertools
import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from harness.examples import rules
from harness.examples import substitutions as subs
from harness.examples.shell import LISTEN_WAIT, SERVER_LIFETIME
from harness.examples.structure import Block, BlockKind, Example, Step
from harness.image_names import WEB_IMAGE


class Status(StrEnum):
    AS_WRITTEN = "as written"
    WITH_SUBSTITUTIONS = "with substitutions"
    CANNOT_RUN = "cannot run"
    NOTHING_TO_RUN = "nothing to run"


@dataclass(frozen=True)
class Need:
    """Something an example's commands or files need that the lab does not have."""

    #: Searched in each command (and in Containerfiles when ``files`` is set, or in the
    #: section's heading alone when ``section`` is); the first group, if any, fills ``{0}``
    #: in the reason.
    pattern: str
    reason: str
    files: bool = False
    section: bool = False


NEEDS: tuple[Need, ...] = (
    Need(r"\bhttps?://(?!localhost\b|127\.0\.0\.1\b|10\.|11\.11\.11\.11\b)([\w.-]+)",
         "needs the internet ({0})", files=True),
    Need(r"/dev/(?:tcp|udp)/((?!localhost/|127\.)[a-z][\w-]*\.[\w.-]+)/",
         "needs the internet ({0})", files=True),
    Need(r"\bhost -t \w+ ([\w.-]+)", "needs DNS on the internet ({0})"),
    Need(r"(?:^|[|;&]\s*)(?:sudo\s+)?(rpm|dnf)\b",
         "needs an RPM-based host ({0}); host1 is Debian"),
    Need(r"(libsdsock)", "needs {0}: an experimental dependency fetched from GitHub, "
                         "not available here", files=True),
    Need(r"<([a-z][\w-]*)>", "a placeholder <{0}> with no value"),
    Need(r"(?i)\blaptop\b", "needs hardware: a laptop whose wireless network comes and goes",
         section=True),
)

#: podman run options that take a separate value (the rest are flags).
RUN_VALUE_OPTIONS = frozenset({
    "--network", "--net", "-p", "--publish", "--name", "-v", "--volume", "--user", "-u",
    "--userns", "--add-host", "-e", "--env", "--format", "-f", "-w", "--workdir", "--sysctl",
})
#: Tools the guide's commands use that host1 lacks, installed into host1 for the examples
#: (Debian's packages, purged afterwards): tool -> its package.
INSTALLED_TOOLS: dict[str, str] = {"jq": "jq"}
#: Prose of a derived example that shows what its base's step N does instead.
AT_STEP = r"^At step (\d+)\b"
#: Commands the runner does itself: the example's user is created, logged in and out.
USER_SETUP = re.compile(r"^(sudo\s+(useradd|machinectl\s+shell)\b.*|exit|"
                        r"loginctl\s+enable-linger(\s+\$USER)?)$")
#: ``loginctl enable-linger`` for the login's own user: the runner's users linger already
#: (host1 has no polkit, which lets a user enable its own linger on the guide's hosts).
LINGER = re.compile(r"^loginctl\s+enable-linger(\s+\$USER)?$")
#: ``sudo useradd NAME``: the guide adds a user (the runner adds one per name).
USERADD = re.compile(r"^sudo\s+useradd\s+(?:-\S+\s+)*([a-z_][\w-]*)$")
#: ``sudo machinectl shell NAME@`` or ``--uid=NAME``: a login of that user begins.
LOGIN = re.compile(r"^sudo\s+machinectl\s+shell\s+(?:.*--uid[= ]([a-z_][\w-]*)|([a-z_][\w-]*)@)")
#: ``NAME=value``: a shell variable the guide sets (and later names a user with).
ASSIGNMENT = re.compile(r"^([A-Za-z_]\w*)=(\S+)$")
#: ``exit``: the login ends; what follows runs as the guide's reader again.
LOGOUT = re.compile(r"^exit$")
#: A command run with sudo that is not user set-up: root in host1.
PRIVILEGED = r"^sudo\s+(?!useradd\b|machinectl\b)"


@dataclass
class Login:
    """Who runs the next command: the guide's reader ("") or a user it logged in as."""

    user: str = ""
    number: int = 0
    users: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)

    def follow(self, line: str) -> bool:
        """Take in a line of user set-up; False when the line is not one (a variable it
        sets is kept: the guide may name a user with it)."""
        line = line.strip()
        assigned = ASSIGNMENT.match(line)
        if assigned:
            self.variables[assigned.group(1)] = assigned.group(2)
        for name, value in self.variables.items():
            line = re.sub(rf"\$(?:{name}\b|\{{{name}\}})", value, line)
        added, login = USERADD.match(line), LOGIN.match(line)
        if added:
            self._know(added.group(1))
        elif login:
            self.user = login.group(1) or login.group(2)
            self._know(self.user)
            self.number += 1
        elif LOGOUT.match(line):
            self.user = ""
            self.number += 1
        return bool(added or login or LOGOUT.match(line) or LINGER.match(line))

    def _know(self, user: str) -> None:
        if user not in self.users:
            self.users.append(user)


@dataclass(frozen=True)
class Prerequisite:
    """What an example needs running before it, as the guide's prose says, and what the
    runner starts for it (as the example's user, before its first step)."""

    #: In the guide's words.
    what: str
    #: What the runner starts instead, in words ("" when it cannot start it yet).
    how: str = ""
    #: The shell script that starts it in the background, with a bounded lifetime, and
    #: returns once it answers.
    script: str = ""
    #: Or the guide's own procedure that starts it, run first: (example id, a pattern
    #: searched in the procedure's title).
    procedure: tuple[str, str] | None = None
    #: Not needed where a command of the example matches this (the example starts it
    #: itself, as a later revision of the guide does).
    unless: str = ""


def _web_server(address: str, directory: str) -> str:
    url = f"http://{address}:8080/"
    return (f"setsid timeout {SERVER_LIFETIME} python3 -m http.server 8080 --bind {address} "
            f"--directory {directory} </dev/null >/dev/null 2>&1 &\n"
            f"for i in $(seq {LISTEN_WAIT}); do curl -s -m 2 -o /dev/null {url} && exit 0; "
            "sleep 0.1; done\n"
            f"echo 'the web server on {address}:8080 did not answer' >&2; exit 1")


LOCALHOST_SERVER = Prerequisite(
    "a web server on host1 listening on 127.0.0.1:8080",
    f"python3 -m http.server on 127.0.0.1:8080 (as the guide's Alternative 1 starts it), "
    f"in the background for at most {SERVER_LIFETIME} s",
    _web_server("127.0.0.1", "~"), unless=r"http\.server 8080 .*--bind 127\.0\.0\.1")
MAIN_INTERFACE_SERVER = Prerequisite(
    "a web server on host1's main network interface, port 8080",
    f"nginx's welcome page (host1's /usr/share/nginx/html) served by python3 -m "
    f"http.server on 192.0.2.1:8080, in the background for at most {SERVER_LIFETIME} s",
    _web_server("192.0.2.1", "/usr/share/nginx/html"))

@dataclass(frozen=True)
class StandIn:
    """A step the guide words without a command ("Start your containers again"), and the
    command the runner runs for it (as the example's user)."""

    #: What the runner runs instead, in words.
    how: str
    script: str


#: Steps without a command that the runner does (by example id and step number).
STAND_INS: dict[tuple[str, str], StandIn] = {
    # The runner's user has no containers of its own: one container, with pasta.
    ("enable-debug-logging-from-pasta", "4"): StandIn(
        f"a container of the image {WEB_IMAGE} run with pasta (podman's default network)",
        f"podman run --rm {WEB_IMAGE} true"),
}

#: The pasta the guide's previous section builds from source into ~/installdir/bin.
PASTA_IN_INSTALLDIR = Prerequisite(
    "a pasta executable in $HOME/installdir/bin, built from source by the guide's previous "
    "section",
    "host1's /usr/bin/pasta copied to ~/installdir/bin/pasta (building pasta from source "
    "needs the internet)",
    "mkdir -p ~/installdir/bin && cp /usr/bin/pasta ~/installdir/bin/pasta")

#: What an example needs running before it, as the guide's prose says (by example id).
PREREQUISITES: dict[str, Prerequisite] = {
    "example-connect-to-hosts-localhost-using-slirp4netns": LOCALHOST_SERVER,
    "example-connect-to-hosts-localhost-using-the-pasta-option---map-gw": LOCALHOST_SERVER,
    "example-connect-to-hosts-localhost-using-the-pasta-option---map-host-loopback":
        LOCALHOST_SERVER,
    "example-connect-to-hosts-localhost-using-the-pasta-option---tcp-ns--t": LOCALHOST_SERVER,
    # Its step 7 reads the log of Alternative 2's nginx.service, a second user's unit.
    "example-connect-to-hosts-main-network-interface-using-slirp4netns": Prerequisite(
        "the web server of Alternative 2 in "
        "#outbound-tcpudp-connections-to-the-hosts-main-network-interface-eg-eth0",
        "the guide's own steps of Alternative 2 (a socket-activated nginx of user1), "
        "run first",
        procedure=("outbound-tcpudp-connections-to-the-hosts-main-network-interface-eg-eth0",
                   r"Podman installed on the host")),
    "example-connect-to-hosts-main-network-interface-using-pasta": MAIN_INTERFACE_SERVER,
    "example-connect-to-hosts-main-network-interface-using-pasta-and---add-hostexamplecomhost-"
    "gateway": MAIN_INTERFACE_SERVER,
    "about-the-pasta-option---map-guest-addr": MAIN_INTERFACE_SERVER,
    "configure-pasta-executable-path": PASTA_IN_INSTALLDIR,
    "example-connect-to-hosts-main-network-interface-using-pasta-and-custom-network":
        MAIN_INTERFACE_SERVER,
}


@dataclass(frozen=True)
class Assessment:
    example: str
    status: Status
    #: What must run first (from :data:`PREREQUISITES`), "" when nothing.
    prerequisite: str
    images: tuple[str, ...]
    substitutions: tuple[str, ...]
    reasons: tuple[str, ...]


def prerequisite(example: Example, steps: Sequence[Step]) -> Prerequisite | None:
    """What ``example`` needs running before it (:data:`PREREQUISITES`), unless its own
    commands start it."""
    needed = PREREQUISITES.get(example.id)
    if needed is None or not needed.unless:
        return needed
    started = any(re.search(needed.unless, command.replace("\\\n", " "))
                  for command in commands_of(steps))
    return None if started else needed


def effective_steps(example: Example, by_anchor: dict[str, Example]) -> tuple[Step, ...]:
    """The steps a reader follows: those of the example it is based on, with the steps
    it replaces swapped for its own, then its other steps."""
    base = by_anchor.get((example.based_on or "").lstrip("#"))
    if base is None:
        return example.steps
    own: dict[str | None, Step] = {}
    for step in example.steps:
        later = re.match(AT_STEP, step.text) if step.number is None else None
        if step.number in example.replaces:
            own[step.number] = step
        elif later:
            own[later.group(1)] = step
    steps = [own.get(step.number, step) for step in effective_steps(base, by_anchor)]
    steps += [step for step in example.steps if step not in own.values()]
    return tuple(steps)


def only_if_installed(block: Block) -> str | None:
    """The tool a block's lead-in makes it depend on ("If jq is installed"), if any."""
    found = re.search(rules.ONLY_IF_INSTALLED, block.lead_in)
    return found.group(1) if found else None


def commands_of(steps: Iterable[Step]) -> list[str]:
    """The commands an example needs (not those of optional blocks)."""
    commands: list[str] = []
    for step in steps:
        if step.inline_command:
            commands.append(step.inline_command)
        for block in step.blocks:
            if (block.kind in (BlockKind.COMMAND, BlockKind.SESSION)
                    and only_if_installed(block) is None):
                commands.extend(block.commands)
    return commands


def run_images(command: str) -> list[str]:
    """Images a ``podman run`` or ``podman pull`` in a command line names."""
    try:
        words = shlex.split(command, comments=False)
    except ValueError:
        return []
    images: list[str] = []
    for segment in _segments(words):
        if segment[:2] == ["podman", "pull"] and len(segment) > 2:
            images.append(segment[2])
        elif segment[:2] == ["podman", "run"]:
            image = _first_positional(segment[2:])
            if image is not None:
                images.append(image)
    return images


def _segments(words: Sequence[str]) -> list[list[str]]:
    """The commands of a line's words: the runs between ``|``, ``&&``, ``||`` and ``;``."""
    between = itertools.groupby(words, lambda word: word in ("|", "&&", "||", ";"))
    return [list(run) for separators, run in between if not separators]


def _first_positional(args: Sequence[str]) -> str | None:
    words = iter(args)
    for arg in words:
        if not arg.startswith("-"):
            return arg
        if arg in RUN_VALUE_OPTIONS:
            next(words, None)  # the option's value
    return None


#: Where a command begins inside a script's line: after a command substitution's
#: ``$(``, or a shell keyword (``if podman run ...; then``).
COMMAND_STARTS = r"\$\(|\)|`|(?:^|(?<=\s))(?:if|then|else|elif|do|while|until|!)\s"


def script_images(text: str) -> list[str]:
    """Images the ``podman run`` commands of a script (a file or a block) name."""
    logical = text.replace("\\\n", " ")
    return [ref for line in logical.splitlines()
            for command in re.split(COMMAND_STARTS, line) for ref in run_images(command.strip())]


def file_images(block: Block) -> list[str]:
    """Images a quadlet (``Image=``), a Containerfile (``FROM``) or a shell script
    (``podman run``) names."""
    images = re.findall(r"^Image=(\S+)", block.text, re.MULTILINE) + script_images(block.text)
    stages = set(re.findall(r"^FROM\s+\S+\s+as\s+(\S+)", block.text, re.MULTILINE | re.I))
    return images + [ref for ref in re.findall(r"^FROM\s+(\S+)", block.text, re.MULTILINE)
                     if ref not in stages]


def assess(example: Example, by_anchor: dict[str, Example]) -> Assessment:
    steps = effective_steps(example, by_anchor)
    blocks = [block for step in steps for block in step.blocks]
    commands = commands_of(steps)
    if not commands:
        kinds = sorted({block.kind.value for block in blocks})
        return Assessment(example.id, Status.NOTHING_TO_RUN, "", (), (),
                          (f"no command to run (blocks: {', '.join(kinds)})",))
    reasons: list[str] = []
    used: list[str] = []
    images = [ref for command in commands for ref in run_images(command)]
    files = [block for block in blocks if block.kind in (BlockKind.FILE, BlockKind.EDIT)]
    with_files = commands + [block.text for block in files]
    for need in NEEDS:
        texts = [example.section] if need.section else with_files if need.files else commands
        searched = (re.search(need.pattern, text, re.MULTILINE) for text in texts)
        if match := next(filter(None, searched), None):
            reasons.append(need.reason.format(*match.groups()))
    images += [ref for block in files for ref in file_images(block)]
    # A Containerfile that installs packages with dnf.
    reasons += [f"{block.path or 'a Containerfile'}: {subs.BUILDER_NOTE}" for block in files
                if re.search(r"^RUN\s.*\bdnf\b", block.text, re.MULTILINE)]
    built = {f"localhost/{name}" for command in commands
             for name in re.findall(r"podman build -t (\S+)", command)}
    for image in dict.fromkeys(images):
        if image.startswith("localhost/") or image in built:
            continue
        entry = subs.image_substitute(image)
        if entry is None or entry.lab_image is None:
            note = entry.note if entry else "not in the substitution table"
            reasons.append(f"needs the registry image {image} (no lab substitute: {note})")
        elif image.startswith("docker.io/library/fedora") and any(
                image in block.text for block in files if "Containerfile" in (block.path or "")):
            continue
        else:
            used.append(f"{image} -> {entry.lab_image}")
    texts = commands + [block.text for block in blocks]
    used += [f"{address.guide} -> {address.lab}" for address in subs.ADDRESSES
             if any(address.guide in text for text in texts)]
    login, reader = Login(), False  # reader: commands run before any user is set up
    for command in commands:
        reader |= not (login.follow(command) or login.users or ASSIGNMENT.match(command.strip()))
    users = len(login.users) + (reader and bool(login.users))
    if users > 1:
        used.append(f"user set-up -> {users} fresh users of host1")
    elif login.users:
        used.append("user set-up -> a fresh user of host1")
    for command in (c for c in commands if re.search(PRIVILEGED, c)):
        if subs.root_command(command[5:].strip()):
            used.append(f"sudo -> {subs.ROOT_STEP.lab}")
        else:
            reasons.append(f"runs {command[5:].split()[0]} as root (sudo): host1's root is "
                           "the machine's root, and the runner has no safe way to run it")
    if any(block.kind is BlockKind.FILE and (block.path or "").startswith("/etc/")
           for block in blocks):
        used.append(f"a file in /etc -> {subs.ROOT_FILE.lab}")
    for block in blocks:
        tool = only_if_installed(block)
        if tool is not None:
            used.append(f"line {block.line}, only if {tool} is installed -> run where "
                        f"{tool} is installed, else not run")
    for tool, package in INSTALLED_TOOLS.items():
        if any(re.search(rf"(^|[|;&(]\s*|\s){tool}\s", text, re.MULTILINE)
               for text in with_files):
            used.append(f"{tool} -> Debian's {package}, installed into host1 for the "
                        "examples and purged after")
    for step in steps:
        stand_in = STAND_INS.get((example.id, step.number or ""))
        if stand_in is not None:
            used.append(f"step {step.number} ('{step.text}') -> {stand_in.how}")
    if any(step.host == "host2" for step in steps if step.blocks):
        used.append("host2 steps -> the lab's host2")
    status = (Status.CANNOT_RUN if reasons
              else Status.WITH_SUBSTITUTIONS if used else Status.AS_WRITTEN)
    needed = prerequisite(example, steps)
    return Assessment(example.id, status, needed.what if needed else "",
                      tuple(dict.fromkeys(images)), tuple(dict.fromkeys(used)),
                      tuple(dict.fromkeys(reasons)))


def assess_all(examples: Sequence[Example]) -> list[Assessment]:
    by_anchor = {example.id: example for example in examples}
    return [assess(example, by_anchor) for example in examples]
