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
    (r"netns-[0-9a-f-]{36}", "netns-ID", "namespace names"),
    (r"\b[0-9a-f]{64}\b", "ID", "container and image ids"),
)


def normalise(text: str) -> list[str]:
    lines = []
    for line in text.splitlines():
        for pattern, replacement, _ in NORMALISE:
            line = re.sub(pattern, replacement, line)
        lines.append(line.rstrip())
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def difference(expected: str, observed: str) -> str:
    """A unified diff (guide versus observed) of the normalised outputs; "" if equal."""
    want, got = normalise(expected), normalise(observed)
    if want == got:
        return ""
    return "\n".join(difflib.unified_diff(want, got, "the guide", "observed", lineterm=""))
