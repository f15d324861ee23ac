"""The output the guide shows against the output observed, after normalising only
what must differ between two runs (as data)."""

from __future__ import annotations

import difflib
import re

#: (pattern, replacement, why): applied to both sides, line by line, in order.
NORMALISE: tuple[tuple[str, str, str], ...] = (
    (r"\[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\]", "[TIME]", "nginx's timestamp"),
    (r"\[\d{2}/\w{3}/\d{4} \d{2}:\d{2}:\d{2}\]", "[TIME]", "python's http.server timestamp"),
    (r"^\w{3} \d{1,2} \d{2}:\d{2}:\d{2} \S+ ", "TIME HOST ", "the journal's time and host"),
    (r"\[\d+\]:", "[PID]:", "a process id in the journal"),
    (r"^\d+ (?=/)", "PID ", "a process id before a command line"),
    (r"curl/[\d.]+", "curl/VERSION", "curl's version"),
    (r'" 200 \d+ "', '" 200 SIZE "', "the size of the substitute image's page"),
    (r"/run/user/\d+/", "/run/user/UID/", "the user id in paths"),
    (r"/home/[\w-]+/", "~/", "the user's home (the guide's user is test, the runner's another)"),
    (r"netns-[0-9a-f-]{36}", "netns-ID", "namespace names"),
    (r"\b[0-9a-f]{64}\b", "ID", "container and image ids"),
    (r"\bafter \d+ (ms|milliseconds)\b", r"after N \1", "a duration curl measures"),
)

#: (pattern, why): lines left out on both sides.
DROP: tuple[tuple[str, str], ...] = (
    (r"^\s*% Total\s+% Received|^\s*Dload\s+Upload|^\s*\d+\s+\S+\s+\d+\s+\S+\s+\d+\s+\S+"
     r"\s+\S+\s+\S+\s+[-:\d]+\s+[-:\d]+\s+[-:\d]+\s+\S+\s*$",
     "curl's progress meter: curl shows it when its output is not a terminal (the runner's "
     "never is), a reader's terminal does not"),
)


#: What of a command's output the guide's text reads, where it reads less than all of it:
#: (pattern on the command, pattern on each line, replacement, the guide's words).
READS: tuple[tuple[str, str, str, str], ...] = (
    (r"^hostname -I$", r"^(\S+).*$", r"\1",
     "'The IP address of the host's main network interface is 192.168.10.108. (The first "
     "listed IP address)': the other addresses are the author's machine's other interfaces"),
)


def normalise(text: str, command: str = "") -> list[str]:
    lines = []
    # What must differ between two runs, then what the guide does not read of ``command``.
    rewrites = [(p, r) for p, r, _ in NORMALISE] + [
        (p, r) for c, p, r, _ in READS if re.search(c, command.strip())]
    for line in text.splitlines():
        if any(re.search(pattern, line) for pattern, _ in DROP):
            continue
        for pattern, replacement in rewrites:
            line = re.sub(pattern, replacement, line)
        lines.append(line.rstrip())
    kept = "\n".join(lines).strip("\n")  # without the blank lines around it
    return kept.split("\n") if kept else []


def difference(expected: str, observed: str, command: str = "") -> str:
    """A unified diff (guide versus observed) of the normalised outputs of ``command``
    (only what the guide reads of it, see :data:`READS`); "" if equal."""
    want, got = normalise(expected, command), normalise(observed, command)
    if want == got:
        return ""
    return "\n".join(difflib.unified_diff(want, got, "the guide", "observed", lineterm=""))
