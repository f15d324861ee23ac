"""Every command-line option and ``PODNET_*`` variable, validated before anything starts.

A setting comes from its option when given, else from its variable, else from its
default. Each is parsed by one function of ``(text, source)`` that returns the typed
value or raises :class:`UsageError` with one line naming the source (``--rounds`` or
``PODNET_ROUNDS``), what is wrong and what to give instead.
"""

from __future__ import annotations

import ipaddress
import os
import pwd
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlparse

from harness import names
from harness.errors import UsageError

Parse = Callable[[str, str], Any]

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")
#: Markers pytest itself defines; a ``-m`` expression may name them too.
PYTEST_MARKERS = ("skip", "skipif", "xfail", "parametrize", "usefixtures", "filterwarnings")


def _named(parse: Callable[[str], Any]) -> Parse:
    """The parser of ``(text, source)`` that ``parse(text)`` is, its errors prefixed with
    the source."""
    def named(text: str, source: str) -> Any:
        try:
            return parse(text)
        except UsageError as exc:
            raise UsageError(f"{source}: {exc}") from None
    return named


def count(text: str, source: str) -> int:
    if not re.fullmatch(r"\s*\d+\s*", text) or int(text) < 1:
        raise UsageError(f"invalid {source} {text!r}: give a whole number of at least 1, e.g. 5")
    return int(text)


def _number(text: str) -> float:
    """The number ``text`` is, or -1 (outside every range below) when it is none."""
    try:
        return float(text)
    except ValueError:
        return -1.0


def seconds(text: str, source: str) -> float:
    if not 0 < (value := _number(text)) < 86400:
        raise UsageError(f"invalid {source} {text!r}: give a number of seconds above 0, e.g. 5")
    return value


def ratio(text: str, source: str) -> float:
    """A fraction of native's value, from 0 up to 1."""
    if not 0 <= (value := _number(text)) < 1:
        raise UsageError(f"invalid {source} {text!r}: give a ratio to native like 0.01")
    return value


def tolerance(text: str | float, source: str) -> float:
    """``"10%"`` or ``"0.1"`` (or 0.1) -> 0.1; a relative change, 0 <= t < 10 (``podnet
    compare --tolerance``, ``podnet agree --within``: both say "tolerance")."""
    raw = str(text).strip()
    match = re.fullmatch(r"([0-9]*\.?[0-9]+)\s*(%?)", raw)
    if not match:
        raise UsageError(f"invalid tolerance {raw!r}: give a fraction like 0.1 or a "
                         "percentage like 10%")
    value = float(match.group(1)) / (100 if match.group(2) else 1)
    if value >= 10:
        raise UsageError(f"tolerance {raw!r} is too large: did you mean {raw}%?")
    return value


def flag(text: str, source: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise UsageError(f"invalid {source} {text!r}: give 1 or 0 (also true/false, yes/no)")


def choice(*choices: str) -> Parse:
    def parse(text: str, source: str) -> str:
        if text not in choices:
            raise UsageError(f"invalid {source} {text!r}: choose {' or '.join(choices)} "
                             "(lower case)")
        return text
    return parse


lab_name = _named(names.lab_name)
run_id = _named(names.run_id)


@_named
def release(text: str) -> str:
    from harness.lab.releases import get_release

    return get_release(names.release(text)).name


def releases(text: str, source: str) -> list[str]:
    """One release or a comma-separated list (a matrix), each once."""
    parts = [part.strip() for part in text.split(",")]
    if not any(parts) or "" in parts:
        raise UsageError(f"invalid {source} {text!r}: an empty release name; give one release "
                         "or a comma-separated list, e.g. trixie or bookworm,trixie")
    if len(set(parts)) != len(parts):
        raise UsageError(f"invalid {source} {text!r}: a release is listed twice")
    return [release(part, source) for part in parts]


def results_dir(text: str, source: str) -> Path:
    path = Path(text)
    if not text.strip() or "\0" in text:
        raise UsageError(f"invalid {source} {text!r}: give a directory, e.g. results")
    if path.exists() and not path.is_dir():
        raise UsageError(f"invalid {source} {text!r}: it exists and is not a directory")
    return path


def address(text: str, source: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise UsageError(f"invalid {source} {text!r}: give an IP address, e.g. 192.0.2.10"
                         ) from None


@_named
def client(text: str) -> str:
    from harness.ssh import SshUrl

    SshUrl.parse(text)
    return text


def target(text: str, source: str) -> str:
    """``lab``, ``local`` or ``ssh://user@host[:port]`` (a rootless user over ssh)."""
    from harness.targets import factory

    _named(factory.kind(text, source).check)(text, source)
    return text


def lab_host(text: str, source: str) -> str:
    from harness.lab.topology import CLIENT_HOSTS

    if text not in CLIENT_HOSTS:
        raise UsageError(f"invalid {source} {text!r}: choose a client host of the lab: "
                         f"{' or '.join(CLIENT_HOSTS)}")
    return text


def podman_src(text: str, source: str) -> Any:
    """A podman checkout (``podnet upstream-tests``): a
    :class:`harness.upstream.checkout.Checkout`."""
    from harness.upstream.checkout import open_checkout

    return open_checkout(text, source)


def readable_file(text: str, source: str, hint: str = "") -> str:
    if not Path(text).is_file() or not os.access(text, os.R_OK):
        raise UsageError(f"invalid {source} {text!r}: no readable file there{hint}")
    return text


def user(text: str, source: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", text):
        raise UsageError(f"invalid {source} {text!r}: give a user name, e.g. alice")
    try:
        pwd.getpwnam(text)
    except KeyError:
        raise UsageError(f"invalid {source} {text!r}: there is no such user on this machine"
                         ) from None
    return text


existing_file = partial(readable_file, hint="; give the path of the built library")
base_tar = partial(readable_file, hint="; give a root file system tar made with mmdebstrap")


def mirror(text: str, source: str) -> str:
    url = urlparse(text)
    if url.scheme not in ("http", "https") or not url.hostname or re.search(r"[\s'\"\\]", text):
        raise UsageError(f"invalid {source} {text!r}: give a Debian mirror URL, e.g. "
                         "http://deb.debian.org/debian")
    return text


#: A ``-m`` expression's tokens, as pytest reads them: parentheses, and words (``and``,
#: ``or``, ``not`` or a marker's name, which may carry keyword arguments: ``m(k=1)``).
_TOKEN = re.compile(r"\s*(?:([()])|([\w.+:/\\\[\]-]+)(?:\([^()]*\))?)")
_KEYWORDS = ("and", "or", "not")


def marker_names(text: str) -> list[str]:
    """The marker names of a ``-m`` expression (pytest's grammar: ``or``, ``and``,
    ``not``, parentheses and names); raises ValueError saying where it is broken."""
    tokens: list[tuple[str, int]] = []  # (token, column)
    pos = 0
    while text[pos:].strip():
        found = _TOKEN.match(text, pos)
        if found is None:
            raise ValueError(f"at column {pos + 1}: unexpected character "
                             f"{text[pos:].lstrip()[0]!r}")
        token = found.group(1) or found.group(2)
        tokens.append((token, found.end() + 1 - len(token)))
        pos = found.end()
    names: list[str] = []
    depth, operand = 0, True  # open parentheses; whether a term is due next
    # An empty expression is valid (it selects every test).
    for token, column in [*tokens, ("end of input", len(text) + 1)] if tokens else []:
        if operand and token in ("not", "("):
            depth += token == "("
        elif operand and token not in (*_KEYWORDS, ")", "end of input"):
            names.append(token)
            operand = False
        elif operand:
            raise ValueError(f"at column {column}: expected not OR left parenthesis OR "
                             f"identifier; got {token}")
        elif token in ("and", "or"):
            operand = True
        elif token == ")" and depth:
            depth -= 1
        elif token != "end of input" or depth:
            expected = "right parenthesis" if depth else "end of input"
            raise ValueError(f"at column {column}: expected {expected}; got {token}")
    return names


def guide(text: str, source: str) -> Any:
    """A guide revision: a known commit id, a date or a README.md's path."""
    from harness.guide.revisions import resolve

    return resolve(text)


def marker_expression(text: str, source: str, known: Iterable[str]) -> str:
    """A ``-m`` expression that pytest can parse and that names only known markers (an
    unknown one would silently select nothing)."""
    try:
        used = marker_names(text)
    except ValueError as exc:
        raise UsageError(f"invalid {source} {text!r}: {exc}; write e.g. "
                         "'source_address and pasta'") from None
    known_set = {*known, *PYTEST_MARKERS}
    if unknown := [name for name in used if name not in known_set]:
        raise UsageError(f"invalid {source} {text!r}: unknown marker {unknown[0]!r}; known "
                         f"markers: {', '.join(sorted(known_set - set(PYTEST_MARKERS)))}")
    return text


@dataclass(frozen=True)
class Setting:
    """One option, the variable that sets its default, and its help: declared from this
    one definition on podnet's command line and on pytest's (:meth:`declare`)."""

    option: str
    variable: str | None
    default: str | None
    parse: Parse
    help: str = ""
    #: An option without a value (``store_true``).
    switch: bool = False
    #: For a setting the command cannot do without: what to say when nothing gives it.
    required: str = ""

    @property
    def dest(self) -> str:
        """The option's attribute on the parsed arguments."""
        return self.option.removeprefix("--").replace("-", "_")

    def declare(self, add: Callable[..., Any]) -> None:
        """Declare the option with ``add``: argparse's ``add_argument`` or pytest's
        ``addoption`` (the same signature); not given, it is None, so that
        :meth:`resolve` can tell."""
        variable = f" [{self.variable}]" if self.variable else ""
        add(self.option, default=None, help=self.help + variable,
            **({"action": "store_true"} if self.switch else {}))

    def resolve(self, given: Any = None) -> Any:
        """The option's value if given, else the variable's, else the default (None
        when there is none), parsed."""
        if isinstance(given, str):
            return self.parse(given, self.option)
        if given is not None:
            return given  # a flag given on the command line
        if self.variable is not None and self.variable in os.environ:
            return self.parse(os.environ[self.variable], self.variable)
        if self.required:
            raise UsageError(self.required)
        return None if self.default is None else self.parse(self.default, self.option)


_RELEASE_HELP = "Debian release of host1: bookworm, trixie, sid or experimental (default: trixie)"
LAB = Setting("--name", "PODNET_LAB", "podnet", lab_name, "lab name (default: podnet)")
RELEASE = Setting("--release", "PODNET_RELEASE", "trixie", release,
                  _RELEASE_HELP + "; the lab is started with it when it is not up")
RELEASES = Setting("--release", "PODNET_RELEASE", "trixie", releases,
                   _RELEASE_HELP + "; a comma-separated list for a matrix")
RESULTS = Setting("--results-dir", "PODNET_RESULTS", "results", results_dir,
                  "where run directories and the reports over runs are written (default: "
                  "results)")
QUICK = Setting("--quick", "PODNET_QUICK", "0", flag,
                "benchmarks: one round of one second, to check every method runs", True)
LOCK_WAIT = Setting("--lock-wait", "PODNET_LOCK_WAIT", "60", seconds,
                    "seconds to wait for a lab or target that another podnet command or "
                    "test session holds, then stop, naming it (default 60)")
KEEP_LAB = Setting("--keep-lab", "PODNET_KEEP_LAB", "0", flag,
                   "leave a lab this run started up afterwards", True)
MIRROR = Setting("PODNET_MIRROR", "PODNET_MIRROR", None, mirror)
PODMAN_SRC = Setting("--podman-src", "PODNET_PODMAN_SRC", None, podman_src,
                     "a podman source checkout, or its test/system directory, whose "
                     "system tests podnet upstream-tests runs",
                     required="podnet upstream-tests needs podman's tests: give --podman-src "
                     "DIR, a podman source checkout (git clone "
                     "https://github.com/containers/podman) [PODNET_PODMAN_SRC]")
#: ``podnet lab client``'s host and ``podnet agree``'s floor: options without a variable.
LAB_HOST = Setting("--host", None, "host2", lab_host)
RATIO_FLOOR = Setting("--floor", None, "0", ratio,
                      "also agree when the ratios differ by at most this much of native, "
                      "for ratios near zero (default 0: relative test only)")
#: ``podnet compare``'s and ``podnet agree``'s tolerance, the runs' own unless given.
_RUNS_OWN = "(default: the runs' A/A resolution, else 10%%)"
TOLERANCE = Setting("--tolerance", None, None, tolerance,
                    "relative change of a performance ratio to report " + _RUNS_OWN)
WITHIN = Setting("--within", None, None, tolerance,
                 "largest relative difference from the pair's mean " + _RUNS_OWN)
GUIDE = Setting("--guide", "PODNET_GUIDE", None, guide,
                "the guide revision to judge: a commit id or a date of a revision podnet "
                "ships, or the path of a README.md (default: the newest shipped)")

#: The pytest plugin's options by their ``config.option`` attribute, in --help's order.
PYTEST: Mapping[str, Setting] = {setting.dest: setting for setting in (
    Setting("--target", "PODNET_TARGET", "lab", target,
            "where rootless podman runs: the lab (default, as root), 'local', your own "
            "podman, or ssh://user@host[:port], that user's podman on another machine"),
    Setting("--lab-name", "PODNET_LAB", "podnet", lab_name, "name of the lab to use"),
    RELEASE,
    KEEP_LAB,
    LOCK_WAIT,
    Setting("--local-user", "PODNET_LOCAL_USER", None, user,
            "with --target local as root: the unprivileged user to run podman as"),
    Setting("--target-address", "PODNET_TARGET_ADDRESS", None, address,
            "with --target local: the address clients connect to"),
    Setting("--client", "PODNET_CLIENT", None, client,
            "the remote client, e.g. ssh://user@host2 (default: the lab's host2)"),
    Setting("--client-address", "PODNET_CLIENT_ADDRESS", None, address,
            "the address the target should see from --client"),
    Setting("--libsdsock", "PODNET_LIBSDSOCK", None, existing_file,
            "path to a built libsdsock.so for the experimental libsdsock check"),
    RESULTS,
    QUICK,
    Setting("--rounds", "PODNET_ROUNDS", None, count,
            "benchmarks: measured rounds, interleaved across methods (default: each "
            "benchmark's own: 3 for throughput and the proxy benchmark, 5 for latency)"),
    Setting("--duration", "PODNET_DURATION", "5", seconds,
            "benchmarks: seconds per measurement (default 5)"),
    Setting("--budget", "PODNET_BUDGET", None, seconds,
            "throughput: seconds for warm-up and rounds; extra rounds for verdicts still "
            "open run only while it lasts (default: the throughput benchmark's own budget)"),
    Setting("--udp", "PODNET_UDP", "0", flag,
            "throughput: also measure each inbound path's UDP capacity (reported, judged "
            "by no verdict; about 2 minutes more; --quick always does)", True),
    Setting("--mismatch", "PODNET_MISMATCH", "fail", choice("fail", "xfail"),
            "a check that contradicts the guide: 'fail' (default) or 'xfail', reported as "
            "an expected failure naming the claim, so the harness's own CI stays green "
            "while every finding stays visible"),
    Setting("--base-tar", "PODNET_BASE_TAR", None, base_tar,
            "with --target local: a root file system tar (mmdebstrap) for podnet's test "
            "image when it is missing (default: mmdebstrap, if installed, makes one)"),
    Setting("--keep-image", "PODNET_KEEP_IMAGE", "0", flag,
            "with --target local: keep the images podnet built in this session (its test "
            "image, the proxies' images); by default they are removed at the end, so "
            "nothing is left behind", True),
    Setting("--ssh-identity", "PODNET_SSH_IDENTITY", None, readable_file,
            "with --target ssh://: the private key to offer (default: ssh's own and "
            "ssh-agent)"),
    Setting("--ssh-known-hosts", "PODNET_SSH_KNOWN_HOSTS", None, readable_file,
            "with --target ssh://: the known_hosts file to check the host's key against "
            "(default: ~/.ssh/known_hosts)"),
    Setting("--ssh-from", "PODNET_SSH_FROM", None, lab_host,
            "with --target ssh://: run ssh in this client host's network namespace of the "
            "lab --lab-name (host2), whose host2 and host3 are then the clients"),
    Setting("--run-id", "PODNET_RUN_ID", None, run_id,
            "write into this run directory (shared by several pytest runs)"),
    GUIDE,
)}


def check_machine_roots() -> None:
    """The roots podnet deletes inside (PODNET_STATE_DIR, _DATA_DIR, _CACHE_DIR) and the
    mirror it builds from."""
    from harness.lab import state

    for constant in state.ROOTS:
        state.root(constant)
    MIRROR.resolve()


def resolve_pytest(option: Any, markers: Iterable[str]) -> None:
    """Validate the pytest plugin's options on ``config.option`` and replace each with
    its typed value; the ``-m`` expression is checked against ``markers``."""
    check_machine_roots()
    for dest, setting in PYTEST.items():
        given = getattr(option, dest, None)
        if given is False:  # a flag not given: its variable decides
            given = None
        value = setting.resolve(given)
        if dest == "budget" and value is None:
            from harness.bench.schedule import BUDGET

            value = BUDGET
        setattr(option, dest, value)
    from harness.targets import factory

    chosen = factory.kind(str(option.target))
    for other in factory.KINDS.values():
        for dest in set(other.own) - set(chosen.own):
            if getattr(option, dest) is not None:
                raise UsageError(f"{PYTEST[dest].option} (or {PYTEST[dest].variable}) needs "
                                 f"--target {other.scheme}://user@host")
    if getattr(option, "markexpr", ""):
        names_only = (re.split(r"[:(]", line, maxsplit=1)[0].strip() for line in markers)
        marker_expression(option.markexpr, "-m", names_only)


def check_pytest_environment(markers: Iterable[str], markexpr: str | None = None) -> None:
    """What ``resolve_pytest`` checks, for the variables and a ``-m`` expression alone
    (``podnet verify`` runs pytest in this process: a bad variable must stop it before
    the lab is built)."""
    resolve_pytest(SimpleNamespace(markexpr=markexpr or ""), markers)  # no other option
