"""podnet's marks on a target, and the cleanup that works from them and nothing else.

Every container, pod, network and volume podnet creates carries the podman label
``io.podnet.session=<session id>`` (:func:`mark_podman` puts it into podman argv; quadlet
files get a ``Label=`` line from :func:`label_quadlet`). Every file podnet writes on
the target is recorded in the session's manifest (:mod:`harness.sessions.records`) before it is
written. :func:`plan_cleanup` turns a session's marks into the commands that remove
exactly what that session made: containers, pods, networks and volumes carrying its
label, and the units and files of its manifest. No name prefix, no glob, no global
``reset-failed``.

Images never carry the session label: they outlive sessions, and every container run
from an image inherits the image's labels, a user's own container included.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.errors import PodnetError

LABEL = "io.podnet.session"


class ListingFailed(PodnetError):
    """A listing a cleanup relies on (podman's, a file's presence) did not answer: what
    it would have listed is unknown, never taken as gone."""

#: podman subcommands that create a container, pod, network or volume.
CREATING = frozenset({
    ("run",), ("create",), ("container", "run"), ("container", "create"),
    ("network", "create"), ("volume", "create"), ("pod", "create"),
})

#: Unit file suffixes that are units themselves, and the services quadlet generates
#: from its files (``web.container`` -> ``web.service``, ``n.network`` -> ``n-network.service``).
UNIT_SUFFIXES = (".service", ".socket", ".timer", ".path")
QUADLET_SERVICES = {".container": "", ".network": "-network", ".volume": "-volume",
                    ".pod": "-pod", ".kube": "", ".build": "-build", ".image": "-image"}


def label(session: str) -> str:
    return f"{LABEL}={session}"


def mark_podman(argv: Sequence[str], session: str | None) -> list[str]:
    """``argv`` with ``--label io.podnet.session=SESSION`` right after the podman
    subcommand when that subcommand creates an object; otherwise unchanged. ``argv`` may
    start with a wrapper (``env VAR=... podman run ...``); podman is found by its
    basename. Without a session nothing is added."""
    out = list(argv)
    if session is None:
        return out
    at = next((i for i, word in enumerate(out) if os.path.basename(word) == "podman"), None)
    if at is None:
        return out
    for length in (2, 1):
        if tuple(out[at + 1:at + 1 + length]) in CREATING:
            cut = at + 1 + length
            return [*out[:cut], "--label", label(session), *out[cut:]]
    return out


#: The section of each quadlet file kind whose ``Label=`` labels the object it makes.
QUADLET_SECTIONS = {".container": "[Container]", ".network": "[Network]",
                    ".volume": "[Volume]"}


def label_quadlet(path: str, text: str, session: str | None) -> str:
    """A quadlet file's text with ``Label=io.podnet.session=SESSION`` as the first line
    of its ``[Container]``/``[Network]``/``[Volume]`` section (added if missing); other
    files, or without a session, unchanged."""
    header = QUADLET_SECTIONS.get(os.path.splitext(path)[1])
    if session is None or header is None:
        return text
    line = f"Label={label(session)}"
    lines = text.split("\n")
    if header not in lines:
        return text.rstrip("\n") + f"\n\n{header}\n{line}\n"
    at = lines.index(header) + 1
    return "\n".join([*lines[:at], line, *lines[at:]])


# --- manifest ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Written:
    """A file or directory podnet wrote on the target (as root for system units)."""

    path: str
    root: bool = False


def live_files(events: Iterable[tuple[str, Written]]) -> list[Written]:
    """Replay a manifest's ("wrote" | "removed", entry) events: what may still exist.
    Removing a directory also removes what was written below it."""
    present: dict[Written, None] = {}
    for event, entry in events:
        if event == "wrote":
            present[entry] = None
        elif event == "removed":
            inside = entry.path.rstrip("/") + "/"
            for known in list(present):
                if known.root == entry.root and (known.path == entry.path
                                                 or known.path.startswith(inside)):
                    del present[known]
    return list(present)


def safe_path(path: str) -> bool:
    """Whether ``path`` may be removed by a cleanup: absolute, normalised, and at least
    two levels below ``/`` (never ``/``, ``/home`` or ``/tmp`` themselves)."""
    parts = path.split("/")
    return (path.startswith("/") and os.path.normpath(path) == path
            and len([p for p in parts if p]) >= 2 and ".." not in parts)


def unit_of(path: str, unit_dirs: Iterable[str]) -> str | None:
    """The systemd unit a file in one of ``unit_dirs`` defines or generates, else None."""
    directory, name = os.path.split(path.rstrip("/"))
    if directory.rstrip("/") not in {d.rstrip("/") for d in unit_dirs}:
        return None
    stem, suffix = os.path.splitext(name)
    if suffix in UNIT_SUFFIXES:
        return name
    if suffix in QUADLET_SERVICES:
        return f"{stem}{QUADLET_SERVICES[suffix]}.service"
    return None


# --- cleanup planning -------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """One command of a cleanup, run on the target (as root when ``root``)."""

    argv: tuple[str, ...]
    root: bool = False


@dataclass(frozen=True)
class Listings:
    """podman's JSON listings, each filtered to podnet's label or not: ``ps -a``,
    ``pod ps``, ``network ls``, ``volume ls`` (all with ``--format json``)."""

    containers: Sequence[Mapping[str, Any]] = ()
    pods: Sequence[Mapping[str, Any]] = ()
    networks: Sequence[Mapping[str, Any]] = ()
    volumes: Sequence[Mapping[str, Any]] = ()


LIST_ARGV = {
    "containers": ("ps", "-a"),
    "pods": ("pod", "ps"),
    "networks": ("network", "ls"),
    "volumes": ("volume", "ls"),
}


#: How each kind is removed, in the order a cleanup removes them (pods with their
#: containers first); networks and volumes never forced.
REMOVE = {"pods": ("podman", "pod", "rm", "--force", "--time", "0"),
          "containers": ("podman", "rm", "--force", "--time", "0"),
          "networks": ("podman", "network", "rm"),
          "volumes": ("podman", "volume", "rm")}


def list_argv(kind: str) -> list[str]:
    """podman argv listing the objects of ``kind`` that carry podnet's label, as JSON."""
    return ["podman", *LIST_ARGV[kind], "--filter", f"label={LABEL}", "--format", "json"]


def _field(obj: Mapping[str, Any], *names: str) -> Any:
    return next((obj[n] for n in names if obj.get(n) is not None), None)


def _session_of(obj: Mapping[str, Any]) -> str | None:
    labels = _field(obj, "Labels", "labels") or {}
    value = labels.get(LABEL) if isinstance(labels, Mapping) else None
    return value if isinstance(value, str) else None


def _selected(objs: Sequence[Mapping[str, Any]], sessions: frozenset[str],
              *keys: str) -> list[str]:
    return [str(_field(o, *keys)) for o in objs
            if _session_of(o) in sessions and _field(o, *keys) is not None]


def plan_podman(sessions: Iterable[str], listings: Listings) -> list[Step]:
    """Remove the pods, containers, networks and volumes labelled with one of
    ``sessions``: the label's exact value decides, never a name. Networks and volumes
    are removed without ``--force``, so one that a foreign container still uses stays."""
    wanted = frozenset(sessions)
    pods = _selected(listings.pods, wanted, "Id", "ID", "id")
    in_pods = set(pods)
    containers = [str(_field(c, "Id", "ID")) for c in listings.containers
                  if _session_of(c) in wanted and _field(c, "Id", "ID") is not None
                  and not (_field(c, "Pod") and str(_field(c, "Pod")) in in_pods)]
    found = {"pods": pods, "containers": containers,
             "networks": _selected(listings.networks, wanted, "name", "Name"),
             "volumes": _selected(listings.volumes, wanted, "Name", "name")}
    return [Step((*REMOVE[kind], *ids)) for kind, ids in found.items() if ids]


def named(objs: Sequence[Mapping[str, Any]], names: Iterable[str]) -> list[Mapping[str, Any]]:
    """The objects of one podman listing (kind by its fields) called one of ``names``."""
    wanted = set(names)
    out = []
    for obj in objs:
        value = _field(obj, "Names", "Name", "name")
        called = value if isinstance(value, list) else [value]
        if wanted & {str(n) for n in called if n is not None}:
            out.append(obj)
    return out


def plan_by_name(kind: str, names: Sequence[str]) -> list[Step]:
    """Where nothing is marked (no session): remove ``kind`` objects by name, networks
    and volumes without ``--force``."""
    ignore = ("--ignore",) if kind in ("containers", "pods") else ()
    return [Step((*REMOVE[kind], *ignore, *names))]


def plan_files(files: Iterable[Written], *, user_unit_dirs: Iterable[str],
               system_unit_dirs: Iterable[str]) -> tuple[list[Step], list[Step]]:
    """(before, after) the podman steps: stop the manifest's units first (so nothing
    restarts a container being removed); afterwards remove its files, reload, and
    ``reset-failed`` exactly those units."""
    before: list[Step] = []
    after: list[Step] = []
    for root in (False, True):
        mine = [f.path for f in files if f.root == root and safe_path(f.path)]
        if not mine:
            continue
        unit_dirs = list(system_unit_dirs if root else user_unit_dirs)
        units = list(dict.fromkeys(u for p in mine if (u := unit_of(p, unit_dirs))))
        systemctl = ("systemctl",) if root else ("systemctl", "--user")
        if units:
            before.append(Step((*systemctl, "stop", "--", *units), root))
        before += [Step(argv, root) for p in mine if (argv := stop_pidfile(p))]
        before += [Step(argv, root) for p in mine if (argv := stop_server(p))]
        after.append(Step(("rm", "-rf", "--", *mine), root))
        if units:
            after.append(Step((*systemctl, "daemon-reload"), root))
            after.append(Step((*systemctl, "reset-failed", "--", *units), root))
    return before, after


def stop_pidfile(path: str) -> tuple[str, ...] | None:
    """For a pid file podnet wrote (``DIR/NAME-ROLE.pid``): stop the process it names,
    but only if that process's command line mentions ``DIR/NAME-`` (the pid file, or
    the script written beside it), so a reused pid is never signalled."""
    if not path.endswith(".pid") or "-" not in path.rsplit("/", 1)[-1]:
        return None
    return ("pkill", "--pidfile", path, "--full", path.rsplit("-", 1)[0] + "-")


#: The prefix of the working directories of podnet's servers outside containers
#: (:mod:`harness.probes.hostserver`): each server runs with its directory as its cwd.
SERVER_DIR_PREFIX = "podnet-srv."

#: Signal the caller's own processes whose working directory is exactly "$1".
_STOP_BY_CWD = ('for p in /proc/[0-9]*; do '
                'if [ "$(readlink "$p/cwd" 2>/dev/null)" = "$1" ]; then kill "${p#/proc/}"; fi; '
                'done; true')


def stop_server(path: str) -> tuple[str, ...] | None:
    """For a server directory podnet made (``.../podnet-srv.<random>``): stop the processes
    running in it. A killed session's server lives on for up to its lifetime and would
    hold its port against the next session's server; a process whose working directory
    is not exactly that directory is never signalled."""
    if not path.rsplit("/", 1)[-1].startswith(SERVER_DIR_PREFIX):
        return None
    return ("sh", "-c", _STOP_BY_CWD, "sh", path)


def plan_cleanup(sessions: Iterable[str], listings: Listings, files: Iterable[Written], *,
                 user_unit_dirs: Iterable[str], system_unit_dirs: Iterable[str]
                 ) -> list[Step]:
    """Every step that removes what ``sessions`` made, in order."""
    before, after = plan_files(list(files), user_unit_dirs=user_unit_dirs,
                               system_unit_dirs=system_unit_dirs)
    return [*before, *plan_podman(sessions, listings), *after]
