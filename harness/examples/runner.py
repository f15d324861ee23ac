"""Run a planned example in the lab: a fresh unprivileged user of host1 (its own
systemd user manager, created for the example and removed afterwards), the files the
guide gives at its paths, its commands in order (host2's on host2), each output the
guide shows compared with the observed one."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from importlib import resources

from harness.clients.base import Client
from harness.examples.compare import difference
from harness.examples.model import PREREQUISITE
from harness.examples.plan import Action, Plan
from harness.lab import workstation as ws
from harness.lab.images import WEB_IMAGE
from harness.lab.rootfs import SUBID_COUNT, SUBID_START
from harness.run import Completed
from harness.targets.lab import LabTarget

#: The example's user: its subordinate ids overlap neither the lab user's nor the
#: workstation proof's.
PERSON = ws.Person(user="guide", uid=1002, subid_start=SUBID_START + 3 * SUBID_COUNT)
#: Where the lab user's images are saved once for the examples' users to load.
SHARED = "/var/tmp/podnet-guide-examples"
IMAGES_TAR = f"{SHARED}/images.tar"
#: The lab's web image with the official nginx image's access log format ("main").
GUIDE_WEB = "localhost/podnet/guide-web"
MAIN_LOG_FORMAT = ("log_format main '$remote_addr - $remote_user [$time_local] \"$request\" '"
                   "\n    '$status $body_bytes_sent \"$http_referer\" '"
                   "\n    '\"$http_user_agent\" \"$http_x_forwarded_for\"';"
                   "\n    access_log /dev/stdout main;")


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
    #: One of :data:`harness.examples.model.RESULTS`.
    result: str
    #: One line: the failing step and command, the differing output, or why not run.
    detail: str
    substitutions: tuple[str, ...]
    actions: tuple[ActionOutcome, ...] = ()
    #: What the runner started before the example's steps (the guide's words -> what).
    prerequisites: tuple[str, ...] = ()


def share_images(host: LabTarget) -> None:
    """Save the lab user's images where each example's user can load them."""
    host.run(["sh", "-c", 'rm -rf "$1" && mkdir -m 0755 "$1" && chown "$2" "$1"', "sh",
              SHARED, host.user], root=True)
    host.run(["podman", "save", "-o", IMAGES_TAR, WEB_IMAGE], timeout=300)
    host.run(["chmod", "0644", IMAGES_TAR])


def unshare_images(host: LabTarget) -> None:
    host.run(["rm", "-rf", "--", SHARED], root=True, check=False)


def _prepare_images(user: ws.HostUser, plan: Plan) -> None:
    user.run(["podman", "load", "-q", "-i", IMAGES_TAR], timeout=300)
    if not plan.images:
        return
    conf = resources.files("harness").joinpath("lab/files/image/nginx.conf").read_text()
    conf = conf.replace("access_log /dev/stdout podnet;", MAIN_LOG_FORMAT)
    context = f"{user.home}/.cache/podnet-guide-web"
    user.write_file(f"{context}/nginx.conf", conf)
    user.write_file(f"{context}/Containerfile",
                    f"FROM {WEB_IMAGE}\nCOPY nginx.conf /etc/nginx/nginx.conf\n")
    user.run(["podman", "build", "-q", "-t", GUIDE_WEB, context], timeout=300)
    for image, lab in plan.images:
        source = GUIDE_WEB if lab == WEB_IMAGE else lab
        names = [image] + ([f"localhost/{image}"] if "/" not in image.split(":")[0] else [])
        for name in names:
            user.run(["podman", "tag", source, name])


def _home_path(user: ws.HostUser, path: str) -> str:
    if path.startswith("~/"):
        return f"{user.home}/{path[2:]}"
    if path.startswith("$HOME/"):
        return f"{user.home}/{path[6:]}"
    return path if path.startswith("/") else f"{user.home}/{path}"


def _do(action: Action, user: ws.HostUser, client: Client) -> Completed:
    if action.kind == "write":
        user.write_file(_home_path(user, action.path or ""), action.text)
        return Completed((), 0, "", "", 0.0)
    if action.kind == "replace":
        script = ('import sys; p, old, new = sys.argv[1:]; t = open(p).read(); '
                  'assert old in t, "line not found"; open(p, "w").write(t.replace(old, new, 1))')
        return user.run(["python3", "-c", script, _home_path(user, action.path or ""),
                         action.old, action.text], check=False)
    if action.host == "host2":
        return client.run(["bash", "-c", action.text], check=False, timeout=120)
    return user.run(["bash", "-c", f"cd ~ || exit 1\n{action.text}"], check=False, timeout=180)


def run_example(host: LabTarget, client: Client, plan: Plan,
                substitutions: tuple[str, ...]) -> ExampleOutcome:
    """Run ``plan`` as a fresh user of host1, removed afterwards whatever happens."""
    if plan.unsupported:
        return ExampleOutcome(plan.example, "not run", "; ".join(plan.unsupported),
                              substitutions)
    prerequisites = tuple(s for s in plan.substitutions if s.startswith(PREREQUISITE))
    substitutions = tuple(dict.fromkeys(substitutions + prerequisites))
    ws.remove(host, PERSON)  # what an interrupted run left
    outcomes: list[ActionOutcome] = []
    try:
        user = ws.create(host, PERSON)
        _prepare_images(user, plan)
        for action in plan.actions:
            done = _do(action, user, client)
            diff = ""
            expected_failure = done.returncode in action.expected_exits
            ok = done.returncode == 0 or expected_failure
            if ok and action.expected is not None:
                diff = difference(action.expected, done.stdout)
            observed = done.stdout[-4000:] if action.expected is not None else ""
            outcomes.append(ActionOutcome(action.line, action.step, action.host, action.kind,
                                          done.returncode, done.stderr.strip()[-2000:],
                                          observed, diff, _shown(action), expected_failure))
            if not ok:
                first = action.text.strip().splitlines()[0] if action.text.strip() else ""
                return ExampleOutcome(
                    plan.example, "failed",
                    f"line {action.line} (step {action.step or '-'}): {first!r} exited "
                    f"{done.returncode}: {_last_line(done.stderr)}", substitutions,
                    tuple(outcomes), prerequisites)
    finally:
        ws.remove(host, PERSON)
    differing = [o for o in outcomes if o.diff]
    if differing:
        lines = ", ".join(str(o.line) for o in differing)
        return ExampleOutcome(plan.example, "output differs",
                              f"the output at line(s) {lines} differs from the guide's",
                              substitutions, tuple(outcomes), prerequisites)
    result = "ran with substitutions" if substitutions else "ran as written"
    return ExampleOutcome(plan.example, result, "", substitutions, tuple(outcomes),
                          prerequisites)


def _shown(action: Action) -> str:
    if action.kind == "write":
        return f"(the file {action.path})"
    if action.kind == "replace":
        return f"(in {action.path}: {action.old.strip()[:200]!r} -> {action.text.strip()[:200]!r})"
    return action.text[:2000]


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return shlex.quote(lines[-1][:300]) if lines else "(no stderr)"

