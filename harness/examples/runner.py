"""Run a planned example in the lab: a fresh unprivileged user of host1 (its own
systemd user manager, created for the example and removed afterwards), the files the
guide gives at its paths, its commands in order (host2's on host2), each output the
guide shows compared with the observed one."""

from __future__ import annotations

import contextlib
import functools
import re
import shlex
from dataclasses import dataclass
from importlib import resources

from harness.clients.base import Client
from harness.errors import CommandTimeout
from harness.examples import shell
from harness.examples import substitutions as subs
from harness.examples.assess import INSTALLED_TOOLS
from harness.examples.outputs import difference
from harness.examples.plan import GUIDE_HOME, Action, Plan
from harness.examples.structure import PREREQUISITE
from harness.image_names import WEB_IMAGE
from harness.lab import packages
from harness.lab.rootfs import SUBID_COUNT, SUBID_START
from harness.lab.target import LabTarget
from harness.proofs import workstation as ws
from harness.results.timings import phase
from harness.run import Completed
from harness.wait import LOG_WAIT, NotReady, logged, poll

#: The example's users (the guide's reader and its first user, then its second user):
#: their subordinate ids overlap neither the lab user's nor the workstation proof's.
PEOPLE = (ws.Person(user="guide", uid=1002, subid_start=SUBID_START + 3 * SUBID_COUNT),
          ws.Person(user="guide2", uid=1003, subid_start=SUBID_START + 4 * SUBID_COUNT))
#: Where host1's network settings are saved while an example runs commands as root.
SAVED_SYSCTLS = "/run/podnet-guide-net-sysctls.json"
#: The files an example wrote as root in host1, one path a line, until they are removed.
ROOT_FILES = "/run/podnet-guide-root-files"
#: What an interrupted run left as root: its files removed, host1's network settings put
#: back (both lists are podnet's own, in host1's /run).
RECOVER = (f'if [ -f {ROOT_FILES} ]; then xargs -d "\\n" -r rm -f -- < {ROOT_FILES}; '
           f'rm -f {ROOT_FILES}; fi; '
           f'if [ -f {SAVED_SYSCTLS} ]; then python3 -c "$1" restore {SAVED_SYSCTLS}; fi')
#: The most a step may take (podman builds and pulls included), and a step that connects
#: over the network (plan.PROBES): in the lab a connection is refused or answered within
#: milliseconds; the rest is a container starting. A step that reaches its bound ends
#: the example with "no answer within N s".
STEP_BOUND = 180.0
PROBE_BOUND = 20.0
#: How long a detached container's server may take to listen (plan.STARTS_SERVER).
SERVER_READY = shell.LISTEN_WAIT / 10
#: Where the packages of the tools installed for the examples wait, and their ledger.
DEBS_DIR = "/var/tmp/podnet-guide-debs"
LEDGER = "/var/tmp/podnet-guide-packages"
#: Lines added at the end of a file (its directory and the file made if missing), and a
#: line of a file replaced (the line must be there): run as the example's user.
APPEND = ('import os, sys; p, text = sys.argv[1:]; os.makedirs(os.path.dirname(p), '
          'exist_ok=True); f = open(p, "a"); f.write(text); f.close()')
REPLACE = ('import sys; p, old, new = sys.argv[1:]; t = open(p).read(); '
           'assert old in t, "line not found"; open(p, "w").write(t.replace(old, new, 1))')
#: What ``podman run -d`` prints: the container's id.
CONTAINER_ID = re.compile(r"^[0-9a-f]{64}$", re.MULTILINE)
#: Where the lab user's images are saved once for the examples' users to load.
SHARED = "/var/tmp/podnet-guide-examples"
IMAGES_TAR = f"{SHARED}/images.tar"
#: The lab's web image with the official nginx image's access log format ("main").
GUIDE_WEB = "localhost/podnet/guide-web"
MAIN_LOG_FORMAT = ("log_format main '$remote_addr - $remote_user [$time_local] \"$request\" '"
                   "\n    '$status $body_bytes_sent \"$http_referer\" '"
                   "\n    '\"$http_user_agent\" \"$http_x_forwarded_for\"';"
                   "\n    access_log /dev/stdout main;")
#: The official nginx image's default server (docker.io/library/nginx; its entrypoint
#: adds the IPv6 listen where the container has IPv6).
ROOT_NGINX_SERVER = ("server {\n    listen 80;\n    listen [::]:80;\n    server_name localhost;\n"
                     "    location / {\n        root /usr/share/nginx/html;\n"
                     "        index index.html index.htm;\n    }\n}\n")
#: The images built once from the web image for the examples (see :func:`share_images`).
SHARED_IMAGES = (GUIDE_WEB, subs.ROOT_NGINX)


@dataclass(frozen=True)
class ActionOutcome:
    line: int
    step: str | None
    host: str
    kind: str
    exit_status: int | None = None
    stderr: str = ""
    #: What the command printed, kept when the guide shows its output.
    observed: str = ""
    diff: str = ""
    #: The block's commands (or the file's path) as run, cut to 2000 characters.
    command: str = ""
    #: A non-zero exit the guide's text expects (e.g. pgrep listing nothing).
    expected_failure: bool = False


@dataclass(frozen=True)
class ExampleOutcome:
    example: str
    #: One of :data:`harness.examples.structure.OUTCOME_OF_RESULT`.
    result: str
    #: One line: the failing step and command, the differing output, or why not run.
    detail: str
    substitutions: tuple[str, ...]
    actions: tuple[ActionOutcome, ...] = ()
    #: What the runner started before the example's steps (the guide's words -> what).
    prerequisites: tuple[str, ...] = ()


def recover(host: LabTarget) -> None:
    """Undo what an interrupted run left: its users, its files and settings as root."""
    for person in PEOPLE:
        ws.remove(host, person)
    host.run(shell.sh(RECOVER, shell.NET_SYSCTLS), root=True, timeout=120)


def share_images(host: LabTarget) -> None:
    """Build the examples' images once, from the lab user's web image, and save them
    with it where each example's user loads them (after undoing what an interrupted run
    left)."""
    recover(host)
    host.run(shell.sh('rm -rf "$1" && mkdir -m 0755 "$1" && chown "$2" "$1"', SHARED, host.user),
             root=True)
    with phase("image builds: guide examples"):
        conf = resources.files("harness").joinpath("lab/files/image/nginx.conf").read_text()
        conf = conf.replace("access_log /dev/stdout podnet;", MAIN_LOG_FORMAT)
        _build(host, GUIDE_WEB, {"/etc/nginx/nginx.conf": conf})
        _build(host, subs.ROOT_NGINX, {"/etc/nginx/nginx.conf": conf,
                                       "/etc/nginx/conf.d/default.conf": ROOT_NGINX_SERVER},
               as_root=True)
        host.run(["podman", "save", "--multi-image-archive", "-o", IMAGES_TAR, WEB_IMAGE,
                  *SHARED_IMAGES], timeout=300)
    host.run(["chmod", "0644", IMAGES_TAR])


def tools_installed(host: LabTarget) -> contextlib.AbstractContextManager[list[str]]:
    """The tools the guide's commands use that host1 lacks (:data:`INSTALLED_TOOLS`),
    installed into host1 while the examples run, then purged (also what an interrupted
    run left, by its ledger)."""
    return packages.installed(host, sorted(set(INSTALLED_TOOLS.values())), DEBS_DIR, LEDGER)


def unshare_images(host: LabTarget) -> None:
    host.run(["rm", "-rf", "--", SHARED], root=True, check=False)
    host.run(["podman", "rmi", "--ignore", *SHARED_IMAGES], check=False)


def _build(user: LabTarget, tag: str, files: dict[str, str], *, as_root: bool = False
           ) -> None:
    """Build ``tag`` FROM the lab's web image with ``files`` (name -> content) copied to
    their paths (its server run as root if ``as_root``), in a context directory removed
    afterwards."""
    context = f"{user.home}/.cache/podnet-{tag.rsplit('/', 1)[-1]}"
    lines = [f"FROM {WEB_IMAGE}"] + (["USER root"] if as_root else [])
    for number, (path, content) in enumerate(files.items()):
        user.write_file(f"{context}/file{number}", content)
        lines.append(f"COPY file{number} {path}")
    user.write_file(f"{context}/Containerfile", "\n".join(lines) + "\n")
    user.run(["podman", "build", "-q", "-t", tag, context], timeout=300)
    user.run(["rm", "-rf", "--", context])


def _prepare_images(user: ws.HostUser, plan: Plan) -> None:
    """Load the lab's images into ``user``'s store, each under the names the example's
    commands use."""
    with phase("image loads: guide examples"):
        user.run(["podman", "load", "-q", "-i", IMAGES_TAR], timeout=300)
        for image, lab in plan.images:
            source = GUIDE_WEB if lab == WEB_IMAGE else lab
            names = [image] + ([f"localhost/{image}"] if "/" not in image.split(":")[0] else [])
            user.run(["podman", "tag", source, *names])


def _home_path(user: ws.HostUser, path: str) -> str:
    """A file's path in host1: one relative to the home (``~/``, ``$HOME/`` or none) in
    ``user``'s."""
    if path.startswith("/"):
        return path
    return f"{user.home}/{re.sub(r'^(~|[$]HOME)/', '', path)}"


class _Example:
    """One example's run: its users (made on first use), the servers it started in the
    foreground, and what it changed as root in host1; all undone by :meth:`close`."""

    def __init__(self, host: LabTarget, client: Client, plan: Plan) -> None:
        self.host = host
        self.client = client
        self.plan = plan
        self.users: dict[ws.Person, ws.HostUser] = {}
        #: Foreground servers still running: (login, user, session id).
        self.servers: list[tuple[int, ws.HostUser, str]] = []
        #: host1's network settings are saved (before anything runs as root).
        self.saved_sysctls = False

    def user(self, name: str) -> ws.HostUser:
        # The guide's reader ("") and its first user are the first person.
        person = PEOPLE[self.plan.users.index(name) if name in self.plan.users else 0]
        if person not in self.users:
            self.users[person] = ws.create(self.host, person)
            _prepare_images(self.users[person], self.plan)
        return self.users[person]

    def do(self, action: Action) -> Completed:
        self.end_logins(action)
        if action.root:
            return self.as_root(action)
        if action.host == "host2":
            return self.on_host2(action.text, timeout=bound(action))
        user = self.user(action.user)
        text = action.text.replace(GUIDE_HOME, f"{user.home}/")
        path = _home_path(user, action.path or "")
        if action.kind == "write":
            user.write_file(path, text)
            return Completed((), 0, "", "", 0.0)
        if action.kind == "append":
            return user.run(["python3", "-c", APPEND, path, text], check=False)
        if action.kind == "replace":
            old = action.old.replace(GUIDE_HOME, f"{user.home}/")
            return user.run(["python3", "-c", REPLACE, path, old, text], check=False)
        if action.kind == "serve":
            done = user.run(["bash", "-c", shell.serve(action.text, action.login)],
                            check=False, timeout=60)
            if done.ok:
                self.servers.append((action.login, user, done.stdout.strip()))
                return Completed(done.argv, 0, "", done.stderr, done.seconds)
            return done
        return user.run(["bash", "-c", shell.with_state(action.text, action.login)],
                        check=False, timeout=bound(action))

    def installed(self, action: Action) -> bool:
        check = shell.sh('command -v "$1" >/dev/null', action.only_if)
        if action.host == "host2":
            return self.on_host2(shlex.join(check)).ok
        return self.user(action.user).run(check, check=False).ok

    def on_host2(self, script: str, timeout: float = 60) -> Completed:
        """``script`` on host2, unprivileged in a sandbox (:data:`shell.CLIENT_SANDBOX`)."""
        return self.client.run(shell.sh(shell.CLIENT_SANDBOX, script), check=False, timeout=timeout)

    def end_logins(self, action: Action) -> None:
        """A foreground server lasts as long as its login: stop those of ended logins (a
        host1 action of another login)."""
        for entry in [s for s in self.servers if action.host == "host1" and s[0] != action.login]:
            self.servers.remove(entry)
            entry[1].run(["bash", "-c", shell.stop(entry[2])], check=False)

    def as_root(self, action: Action) -> Completed:
        if not self.saved_sysctls:
            self.host.run(["python3", "-c", shell.NET_SYSCTLS, "save", SAVED_SYSCTLS],
                          root=True, timeout=120)
            self.saved_sysctls = True
        if action.kind == "write":
            path = action.path or ""
            if self.host.run(["test", "-e", path], root=True, check=False).ok:
                return Completed((), 1, "", f"{path} exists in host1: the runner does not "
                                 "overwrite host1's own files", 0.0)
            self.host.run(shell.sh('printf "%s\\n" "$1" >> "$2"', path, ROOT_FILES), root=True)
            self.host.write_file(path, action.text, root=True)
            return Completed((), 0, "", "", 0.0)
        return self.host.run(shell.sh(shell.ROOT_SANDBOX, action.text), root=True,
                             check=False, timeout=bound(action))

    def until_settled(self, action: Action, done: Completed) -> None:
        """After a command that started detached containers: until each one's server
        listens (at most :data:`SERVER_READY` s; the next step shows what it finds)."""
        user = self.user(action.user)
        for container in CONTAINER_ID.findall(done.stdout):
            script = ["bash", "-c", shell.settled(container)]
            with contextlib.suppress(NotReady):
                poll(lambda: user.run(script, check=False).ok,  # noqa: B023 (called at once)
                     what=f"container {container[:12]} to listen", timeout=SERVER_READY)

    def until_shown(self, action: Action, done: Completed) -> Completed:
        """A log read whose output is not yet the guide's is read again, at most
        :data:`LOG_WAIT` s (the line may not be written yet); the last read counts."""
        last = [done]

        def shown() -> Completed | None:
            if not _shows(action, last[-1]):
                last.append(self.do(action))
            return last[-1] if _shows(action, last[-1]) else None

        return logged(shown, what=f"line {action.line}'s output", timeout=LOG_WAIT) or last[-1]

    def close(self) -> None:
        """Remove the example's users (and their servers), its files, put back host1's
        network settings; each step runs even when an earlier one failed."""
        try:
            for person in self.users:
                ws.remove(self.host, person)
        finally:
            if self.saved_sysctls:
                self.host.run(shell.sh(RECOVER, shell.NET_SYSCTLS), root=True, timeout=120)


def run_example(host: LabTarget, client: Client, plan: Plan,
                substitutions: tuple[str, ...]) -> ExampleOutcome:
    """Run ``plan`` as fresh users of host1, removed afterwards whatever happens."""
    if plan.unsupported:
        return ExampleOutcome(plan.example, "not run", "; ".join(plan.unsupported),
                              substitutions)
    prerequisites = tuple(s for s in plan.substitutions if s.startswith(PREREQUISITE))
    substitutions = tuple(dict.fromkeys(substitutions + prerequisites))
    outcomes: list[ActionOutcome] = []

    def ended(result: str, detail: str) -> ExampleOutcome:
        return ExampleOutcome(plan.example, result, detail, substitutions, tuple(outcomes),
                              prerequisites)

    def failed(action: Action, said: str) -> ExampleOutcome:
        first = next(iter(action.text.strip().splitlines()), "")
        return ended("failed", f"line {action.line} (step {action.step or '-'}): {first!r}{said}")

    running = _Example(host, client, plan)
    try:
        running.user("")
        for action in plan.actions:
            outcome = functools.partial(ActionOutcome, action.line, action.step, action.host,
                                        command=_shown(action))
            if action.only_if and not running.installed(action):
                outcomes.append(outcome("not run", None, f"{action.only_if} is not installed "
                                        f"on {action.host}: the guide runs this only where it is"))
                continue
            try:
                done = running.do(action)
                if action.reads_logs and action.expected is not None:
                    done = running.until_shown(action, done)
            except CommandTimeout as exc:
                said = f"no answer within {exc.timeout:g} s"
                outcomes.append(outcome(action.kind, None, said))
                return failed(action, f": {said}")
            if action.starts_server and done.ok:
                running.until_settled(action, done)
            expected_failure = done.returncode in action.expected_exits
            ok = done.returncode == 0 or expected_failure
            diff = _terminal_difference(action, done) if ok and action.expected is not None else ""
            observed = done.stdout[-4000:] if action.expected is not None else ""
            outcomes.append(outcome(action.kind, done.returncode, done.stderr.strip()[-2000:],
                                    observed, diff, expected_failure=expected_failure))
            if not ok:
                return failed(action, f" exited {done.returncode}: {_last_line(done.stderr)}")
    finally:
        running.close()
    differing = [o for o in outcomes if o.diff]
    if differing:
        lines = ", ".join(str(o.line) for o in differing)
        return ended("output differs", f"the output at line(s) {lines} differs from the guide's")
    return ended("ran with substitutions" if substitutions else "ran as written", "")


def bound(action: Action) -> float:
    """The most ``action`` may take: :data:`PROBE_BOUND` if it connects over the network."""
    return PROBE_BOUND if action.probe else STEP_BOUND


def _shows(action: Action, done: Completed) -> bool:
    """The command ended as the guide expects and printed what the guide shows."""
    return ((done.returncode == 0 or done.returncode in action.expected_exits)
            and not _terminal_difference(action, done))


def _terminal_difference(action: Action, done: Completed) -> str:
    """The guide's output against what the command printed: its stdout, or what a
    terminal shows (stdout, then stderr) when that is what the guide shows."""
    diff = difference(action.expected or "", done.stdout, action.text)
    if diff and done.stderr.strip() and not difference(
            action.expected or "", done.stdout + done.stderr, action.text):
        return ""
    return diff


def _shown(action: Action) -> str:
    if action.kind in ("write", "append"):
        return f"(the file {action.path})"
    if action.kind == "replace":
        return f"(in {action.path}: {action.old.strip()[:200]!r} -> {action.text.strip()[:200]!r})"
    return action.text[:2000]


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return shlex.quote(lines[-1][:300]) if lines else "(no stderr)"

