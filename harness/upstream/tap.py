"""bats' TAP output (``bats --tap --timing``) read into one result per test.

    1..86
    ok 1 [505] IPv4 default address assignment in 812ms
    not ok 15 [505] Basic nameserver lookup in 10952ms
    # (in test file 505-networking-pasta.bats, line 439)
    #   `run_podman run --rm --net=pasta $IMAGE nslookup l.root-servers.net' failed
    ok 18 [505] Custom DNS forward address, IPv6 in 0ms # skip Currently unsupported

The ``#`` lines after a ``not ok`` are its output; other ``#`` lines (a setup's notes
before a test) belong to no test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.results.upstream import UpstreamTest

_PLAN = re.compile(r"^1\.\.(\d+)$")
_TEST = re.compile(r"^(ok|not ok) (\d+) (.*)$")
_SKIP = re.compile(r"^(.*?)\s*# skip\b ?(.*)$")
_TIME = re.compile(r"^(.*) in (\d+)ms$")
#: podman's helpers prefix every test name with its file's number.
_FILE_PREFIX = re.compile(r"^\[\d+\] ")
#: podman's tests that need the internet, by (file, name without the ``[505]`` prefix),
#: and what they need of it: the lab never reaches it, so their failure is reported as
#: "needs the internet", never as a failure of podman's (one that passes is passed).
NEEDS_INTERNET: dict[tuple[str, str], str] = {
    ("500-networking.bats", "podman network create"):
        "ends by resolving google.com from a container on a custom network (aardvark-dns "
        "forwards to the host's name server)",
    ("505-networking-pasta.bats", "Basic nameserver lookup"):
        "resolves l.root-servers.net through the host's name server",
    ("505-networking-pasta.bats", "Custom DNS forward address, IPv4"):
        "resolves l.root-servers.net through pasta's DNS forwarder",
}


@dataclass(frozen=True)
class Tap:
    planned: int
    tests: list[UpstreamTest]


def bare_name(name: str) -> str:
    """A test's name without the ``[505] `` prefix podman's helpers add."""
    return _FILE_PREFIX.sub("", name)


def parse(file: str, text: str) -> Tap:
    planned = 0
    tests: list[UpstreamTest] = []
    output: dict[int, list[str]] = {}  # a failed test's index: the lines after it
    for line in text.splitlines():
        if (plan := _PLAN.match(line)) is not None:
            planned = int(plan.group(1))
        elif (found := _TEST.match(line)) is not None:
            ok = found.group(1) == "ok"
            if not ok:
                output[len(tests)] = []
            tests.append(_test(file, ok, int(found.group(2)), found.group(3)))
        elif line.startswith("#") and len(tests) - 1 in output:
            output[len(tests) - 1].append(line[2:] if line.startswith("# ") else line[1:])
    for index, lines in output.items():
        tests[index].output = "\n".join(lines).strip("\n")
    for test in tests:
        if test.outcome == "failed" and (why := NEEDS_INTERNET.get((file, bare_name(test.name)))):
            test.outcome, test.reason = "needs_internet", why
    return Tap(planned, tests)


def _test(file: str, ok: bool, number: int, rest: str) -> UpstreamTest:
    reason = ""
    if (skipped := _SKIP.match(rest)) is not None:
        rest, reason = skipped.group(1), skipped.group(2).strip()
    seconds = None
    if (timed := _TIME.match(rest)) is not None:
        rest, seconds = timed.group(1), int(timed.group(2)) / 1000
    outcome = "skipped" if skipped is not None else "passed" if ok else "failed"
    return UpstreamTest(file=file, name=rest.strip(), outcome=outcome, number=number,
                        reason=reason or ("(no reason given)" if skipped else ""),
                        seconds=seconds)
