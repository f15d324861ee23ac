"""Targets from a URL: ``lab``, ``local`` or ``ssh://user@host[:port]``, one kind per
scheme.

Each kind checks its URL (:func:`check`: one line saying what is wrong, before anything
starts), describes itself for pytest's header and opens a test session on itself
(:func:`session`): the target, marking what it creates with the session's id, stale
sessions' marks removed first and this one's at its end.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from harness.environment import podman_info
from harness.errors import LabNotUp, PodnetError, UsageError
from harness.lab import lab as lab_ctl
from harness.lab import lock
from harness.lab.releases import DEFAULT_RELEASE
from harness.lab.target import LabTarget
from harness.sessions.cleanup import marked_session
from harness.targets.base import Target
from harness.targets.local import LocalTarget, user_session
from harness.targets.ssh import SshTarget, parse_target_url

Note = Callable[[str], None]
USAGE = "choose lab, local or ssh://user@host[:port] (e.g. ssh://alice@192.0.2.1)"


@dataclass(frozen=True)
class Settings:
    """What a target's session reads besides its URL (the plugin's options)."""

    run_id: str
    lab_name: str = "podnet"
    release: str = DEFAULT_RELEASE
    keep_lab: bool = False
    local_user: str | None = None
    target_address: str | None = None
    base_tar: str | None = None
    keep_image: bool = False
    ssh_identity: str | None = None
    ssh_known_hosts: str | None = None
    ssh_from: str | None = None


@dataclass(frozen=True)
class Kind:
    """One kind of target: how its URL is checked, described and opened."""

    scheme: str
    check: Callable[[str], object]
    describe: Callable[[str, Settings], str]
    session: Callable[[str, Settings, Note], contextlib.AbstractContextManager[Target]]
    #: Whether the lab's host2 and host3 are the clients.
    lab_clients: Callable[[Settings], bool]
    #: Settings only this kind reads (another kind refuses them).
    own: tuple[str, ...] = ()


def _whole_url(url: str) -> object:
    """``lab`` and ``local`` are whole URLs: :func:`kind` found the kind by exactly that
    URL, so there is nothing more to check."""
    return url


# --- the lab ---------------------------------------------------------------------------

def _lab_describe(url: str, settings: Settings) -> str:
    name = settings.lab_name
    try:
        target = LabTarget(name)
        info = podman_info(target)
    except LabNotUp:
        return f"lab '{name}' (not up; started when a test needs it)"
    except PodnetError as exc:
        return f"lab '{name}' ({exc})"
    versions = ", ".join(f"{k} {v}" for k, v in info.components.as_text().items())
    return f"{target.name}; {versions}"


@contextlib.contextmanager
def _lab_session(url: str, settings: Settings, note: Note) -> Iterator[Target]:
    """Holds the lab for the whole session; host1 reset to its baseline first."""
    with lab_ctl.session(settings.lab_name, settings.release, keep=settings.keep_lab,
                         say=note) as target, \
            marked_session(target, settings.run_id, note=note):
        yield target


# --- this machine's user ---------------------------------------------------------------

def _local_describe(url: str, settings: Settings) -> str:
    return f"local ({settings.local_user or 'this user'})"


@contextlib.contextmanager
def _local_session(url: str, settings: Settings, note: Note) -> Iterator[Target]:
    local = LocalTarget(settings.local_user, settings.target_address)
    with user_session(local, settings.run_id, base_tar=settings.base_tar,
                      keep_image=settings.keep_image, note=note):
        yield local


# --- another machine's user, over ssh --------------------------------------------------

def _ssh_describe(url: str, settings: Settings) -> str:
    via = settings.ssh_from
    return (f"ssh:{parse_target_url(url).describe()}"
            + (f" from the lab's {via}" if via else ""))


@contextlib.contextmanager
def _ssh_session(url: str, settings: Settings, note: Note) -> Iterator[Target]:
    """A test session on the remote user, with the workstation's rules (one session per
    remote user at a time, podnet's test image there or built from ``base_tar``, stale
    sessions' marks removed first and this one's at the end), then the shared connection
    closed. With ``ssh_from``, ssh runs in that lab host's network namespace and the lab
    stays up meanwhile (its lock held shared)."""
    via, name = settings.ssh_from, settings.lab_name
    with lock.lab_lock(name, exclusive=False, note=note) if via else contextlib.nullcontext():
        if via and not lab_ctl.status(name).up:
            raise LabNotUp(name)
        remote = SshTarget(parse_target_url(url), known_hosts=settings.ssh_known_hosts,
                           identity=settings.ssh_identity,
                           netns=f"{name}-{via}" if via else None,
                           main_address=settings.target_address)
        with contextlib.closing(remote), \
                user_session(remote, settings.run_id, base_tar=settings.base_tar,
                             keep_image=settings.keep_image, note=note, mmdebstrap=False):
            yield remote


KINDS: dict[str, Kind] = {
    "lab": Kind("lab", _whole_url, _lab_describe, _lab_session, lambda s: True),
    "local": Kind("local", _whole_url, _local_describe, _local_session,
                  lambda s: False),
    "ssh": Kind("ssh", parse_target_url, _ssh_describe, _ssh_session,
                lambda s: s.ssh_from is not None,
                own=("ssh_identity", "ssh_known_hosts", "ssh_from")),
}


def kind(url: str, what: str = "target") -> Kind:
    """The kind of target ``url`` names, by its scheme (``lab`` and ``local`` are whole
    URLs); raises :class:`UsageError` when there is none (``what`` names the URL's
    source in the message)."""
    scheme, sep, _ = url.partition("://")
    found = KINDS.get(scheme)
    if found is None or bool(sep) != (found.scheme == "ssh"):
        raise UsageError(f"invalid {what} {url!r}: {USAGE}")
    return found


def check(url: str) -> str:
    """``url`` when it names a target podnet can open, else :class:`UsageError`."""
    kind(url).check(url)
    return url


def describe(url: str, settings: Settings) -> str:
    return kind(url).describe(url, settings)


def session(url: str, settings: Settings, note: Note) -> contextlib.AbstractContextManager[Target]:
    """A test session on the target ``url`` names (see the module's docstring)."""
    return kind(url).session(url, settings, note)


def lab_clients(url: str, settings: Settings) -> bool:
    """Whether the clients are the lab's hosts: the lab target, or ssh from the lab."""
    return kind(url).lab_clients(settings)
