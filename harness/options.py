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
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from harness import names
from harness.errors import UsageError

Parse = Callable[[str, str], Any]

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")
#: Markers pytest itself defines; a ``-m`` expression may name them too.
PYTEST_MARKERS = ("skip", "skipif", "xfail", "parametrize", "usefixtures", "filterwarnings")


def _named(source: str, parse: Callable[[str], Any], text: str) -> Any:
    try:
        return parse(text)
    except UsageError as exc:
        raise UsageError(f"{source}: {exc}") from None


def count(text: str, source: str) -> int:
    if not re.fullmatch(r"\s*\d+\s*", text) or int(text) < 1:
        raise UsageError(f"invalid {source} {text!r}: give a whole number of at least 1, e.g. 5")
    return int(text)


def seconds(text: str, source: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 86400:
        raise UsageError(f"invalid {source} {text!r}: give a number of seconds above 0, e.g. 5")
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


def lab_name(text: str, source: str) -> str:
    return str(_named(source, names.lab_name, text))


def run_id(text: str, source: str) -> str:
    return str(_named(source, names.run_id, text))


def release(text: str, source: str) -> str:
    from harness.lab.releases import get_release

    def parse(value: str) -> str:
        return get_release(names.release(value)).name

    return str(_named(source, parse, text))


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


def client(text: str, source: str) -> str:
    from harness.clients.ssh import parse_url

    _named(source, parse_url, text)
    return text


def target(text: str, source: str) -> str:
    """``lab``, ``local`` or ``ssh://user@host[:port]`` (a rootless user over ssh)."""
    from harness.targets.ssh import is_ssh_target, parse_target_url

    if is_ssh_target(text):
        _named(source, parse_target_url, text)
    elif text not in ("lab", "local"):
        raise UsageError(f"invalid {source} {text!r}: choose lab, local or "
                         "ssh://user@host[:port] (e.g. ssh://alice@192.0.2.1)")
    return text


def lab_host(text: str, source: str) -> str:
    from harness.lab.topology import CLIENT_HOSTS

    if text not in CLIENT_HOSTS:
        raise UsageError(f"invalid {source} {text!r}: choose a client host of the lab: "
                         f"{' or '.join(CLIENT_HOSTS)}")
    return text


def readable_file(text: str, source: str) -> str:
    if not Path(text).is_file() or not os.access(text, os.R_OK):
        raise UsageError(f"invalid {source} {text!r}: no readable file there")
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


def existing_file(text: str, source: str) -> str:
    if not Path(text).is_file():
        raise UsageError(f"invalid {source} {text!r}: no such file; give the path of the "
                         "built library")
    return text


def base_tar(text: str, source: str) -> str:
    if not Path(text).is_file() or not os.access(text, os.R_OK):
        raise UsageError(f"invalid {source} {text!r}: no readable file there; give a root "
                         "file system tar made with mmdebstrap")
    return text


def mirror(text: str, source: str) -> str:
    url = urlparse(text)
    if url.scheme not in ("http", "https") or not url.hostname or re.search(r"[\s'\"\\]", text):
        raise UsageError(f"invalid {source} {text!r}: give a Debian mirror URL, e.g. "
                         "http://deb.debian.org/debian")
    return text


def marker_expression(text: str, source: str, known: Iterable[str]) -> str:
    """A ``-m`` expression that pytest can parse and that names only known markers (an
    unknown one would silently select nothing)."""
    from _pytest.mark.expression import Expression

    try:
        expression = Expression.compile(text)
    except Exception as exc:  # pytest's ParseError (8.x) or SyntaxError (9.x)
        detail = getattr(exc, "msg", None) or str(exc)
        raise UsageError(f"invalid {source} {text!r}: {' '.join(str(detail).split())}; "
                         "write e.g. 'source_address and pasta'") from None
    known_set = {*known, *PYTEST_MARKERS}
    idents = getattr(expression, "idents", None)
    used = idents() if idents else set(re.findall(r"[\w.+:/\\\[\]-]+", text)) - {
        "and", "or", "not"}
    if unknown := sorted(set(used) - known_set):
        raise UsageError(f"invalid {source} {text!r}: unknown marker {unknown[0]!r}; known "
                         f"markers: {', '.join(sorted(known_set - set(PYTEST_MARKERS)))}")
    return text


@dataclass(frozen=True)
class Setting:
    """One option and the variable that sets its default."""

    option: str
    variable: str | None
    default: str | None
    parse: Parse

    def resolve(self, given: Any = None) -> Any:
        """The option's value if given, else the variable's, else the default (None
        when there is none), parsed."""
        if given is not None and not isinstance(given, str):
            return given  # a flag given on the command line
        if given is not None:
            return self.parse(given, self.option)
        if self.variable is not None and self.variable in os.environ:
            return self.parse(os.environ[self.variable], self.variable)
        return None if self.default is None else self.parse(self.default, self.option)


LAB = Setting("--name", "PODNET_LAB", "podnet", lab_name)
RELEASE = Setting("--release", "PODNET_RELEASE", "trixie", release)
RELEASES = Setting("--release", "PODNET_RELEASE", "trixie", releases)
RESULTS = Setting("--results-dir", "PODNET_RESULTS", "results", results_dir)
MIRROR = Setting("PODNET_MIRROR", "PODNET_MIRROR", None, mirror)

#: The pytest plugin's options by their ``config.option`` attribute.
PYTEST: Mapping[str, Setting] = {
    "target": Setting("--target", "PODNET_TARGET", "lab", target),
    "lab_name": Setting("--lab-name", "PODNET_LAB", "podnet", lab_name),
    "release": RELEASE,
    "keep_lab": Setting("--keep-lab", "PODNET_KEEP_LAB", "0", flag),
    "local_user": Setting("--local-user", "PODNET_LOCAL_USER", None, user),
    "target_address": Setting("--target-address", "PODNET_TARGET_ADDRESS", None, address),
    "client": Setting("--client", "PODNET_CLIENT", None, client),
    "client_address": Setting("--client-address", "PODNET_CLIENT_ADDRESS", None, address),
    "libsdsock": Setting("--libsdsock", "PODNET_LIBSDSOCK", None, existing_file),
    "results_dir": RESULTS,
    "quick": Setting("--quick", "PODNET_QUICK", "0", flag),
    "rounds": Setting("--rounds", "PODNET_ROUNDS", "5", count),
    "duration": Setting("--duration", "PODNET_DURATION", "5", seconds),
    "budget": Setting("--budget", "PODNET_BUDGET", None, seconds),
    "mismatch": Setting("--mismatch", "PODNET_MISMATCH", "fail", choice("fail", "xfail")),
    "run_id": Setting("--run-id", "PODNET_RUN_ID", None, run_id),
    "base_tar": Setting("--base-tar", "PODNET_BASE_TAR", None, base_tar),
    "keep_image": Setting("--keep-image", "PODNET_KEEP_IMAGE", "0", flag),
    "ssh_identity": Setting("--ssh-identity", "PODNET_SSH_IDENTITY", None, readable_file),
    "ssh_known_hosts": Setting("--ssh-known-hosts", "PODNET_SSH_KNOWN_HOSTS", None,
                               readable_file),
    "ssh_from": Setting("--ssh-from", "PODNET_SSH_FROM", None, lab_host),
}
#: Options that only an ssh target reads.
SSH_ONLY = ("ssh_identity", "ssh_known_hosts", "ssh_from")


def check_machine_roots() -> None:
    """The roots podnet deletes inside (PODNET_STATE_DIR, _DATA_DIR, _CACHE_DIR) and the
    mirror it builds from."""
    from harness.lab import state

    state.state_root(), state.data_root(), state.cache_root()
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
    from harness.targets.ssh import is_ssh_target

    if not is_ssh_target(str(option.target)):
        for dest in SSH_ONLY:
            if getattr(option, dest) is not None:
                raise UsageError(f"{PYTEST[dest].option} (or {PYTEST[dest].variable}) needs "
                                 "--target ssh://user@host")
    if getattr(option, "markexpr", ""):
        names_only = (re.split(r"[:(]", line, maxsplit=1)[0].strip() for line in markers)
        marker_expression(option.markexpr, "-m", names_only)


def check_pytest_environment(markers: Iterable[str]) -> None:
    """What ``resolve_pytest`` checks, for the variables alone (``podnet verify`` runs
    pytest in this process: a bad variable must stop it before the lab is built)."""
    resolve_pytest(_Blank(), markers)


class _Blank:
    """An options namespace where nothing was given on the command line."""

    markexpr = ""
