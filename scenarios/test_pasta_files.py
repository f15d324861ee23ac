"""Which pasta podman runs and what pasta writes: the guide's "Show pasta executable
path", "Configure pasta executable path" (``helper_binaries_dir``) and "Enable debug
logging from Pasta" (``pasta_options`` with ``--log-file``, ``--pcap``, ``--trace``).

Settings go into a containers.conf of podnet's own, given with
``CONTAINERS_CONF_OVERRIDE`` (the user's ``~/.config/containers/containers.conf``, the
guide's file, is never written). The second pasta of ``helper_binaries_dir`` is a copy of
the installed one in a directory of the test's own.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from harness import containers
from harness.claims import Claim, load_default
from harness.outbound_params import params
from harness.probes import procs
from harness.results.recorder import NoObservation, Recorder
from harness.services import IMAGE
from harness.targets.base import Target

pytestmark = [pytest.mark.lab, pytest.mark.pasta]

REGISTRY = load_default()
#: The directories Debian's podman looks in for its helpers (netavark, aardvark-dns,
#: ...) when helper_binaries_dir is not set; the guide's list names Fedora's only.
DEFAULT_HELPER_DIRS = ["/usr/local/libexec/podman", "/usr/local/lib/podman",
                       "/usr/libexec/podman", "/usr/lib/podman"]
DIR = "{dir}"
PCAP_MAGIC = "d4c3b2a1"
#: The address and port the container connects to while pasta traces (host2's discard
#: port: refused, but pasta traces the flow).
TRACED = ("192.0.2.10", 9)


@contextmanager
def scratch(target: Target) -> Iterator[str]:
    """A directory of the test's own in the user's podnet cache, removed on exit."""
    path = f"{target.home}/.cache/podnet/pasta-{secrets.token_hex(3)}"
    target.write_file(f"{path}/.podnet", "")
    try:
        yield path
    finally:
        target.remove_files(path)


def _conf(target: Target, directory: str, text: str) -> list[str]:
    path = f"{directory}/containers.conf"
    target.write_file(path, text)
    return [f"CONTAINERS_CONF_OVERRIDE={path}"]


def _info_executable(target: Target, env: list[str], form: str) -> str:
    if form == "json":
        done = target.run(["env", *env, "podman", "info", "--format", "json"], check=False)
        if not done.ok:
            raise NoObservation(f"podman info failed: {done.stderr.strip()[-200:]}")
        return str(json.loads(done.stdout)["host"]["pasta"]["executable"])
    done = target.run(["env", *env, "podman", "info", "--format",
                       "{{.Host.Pasta.Executable}}"], check=False)
    if not done.ok:
        raise NoObservation(f"podman info failed: {done.stderr.strip()[-200:]}")
    return done.stdout.strip()


@pytest.mark.parametrize("claim", params(REGISTRY.select("pasta_executable_shown")))
def test_executable_shown(claim: Claim, target: Target, recorder: Recorder,
                          applicable: Any) -> None:
    applicable(claim)
    form = claim.extra["form"]
    recorder.check(claim, _info_executable(target, [], form), evidence={"form": form})


def running_pasta(target: Target, env: list[str]) -> str | None:
    """The executable of the pasta serving a container started with ``env``."""
    name = _start(target, env, ["sleep", "60"], "pastapath")
    try:
        args = procs.pasta_of(target, procs.container_netns(target, name))
        return args[0] if args else None
    finally:
        target.remove_own("containers", name)


def placed(path: str | None, directory: str) -> str | None:
    return None if path is None else path.replace(directory, DIR)


@pytest.mark.parametrize("claim", params(REGISTRY.select("helper_binaries_dir_pasta")))
def test_helper_binaries_dir(claim: Claim, target: Target, recorder: Recorder,
                             applicable: Any) -> None:
    """A copy of the installed pasta in a directory listed first in helper_binaries_dir:
    what podman info shows and which pasta a container gets."""
    applicable(claim)
    installed = _info_executable(target, [], "template")
    with scratch(target) as directory:
        bindir = f"{directory}/bin"
        target.run(["mkdir", "-p", bindir])
        target.run(["cp", installed, f"{bindir}/pasta"])
        dirs = json.dumps([bindir, *DEFAULT_HELPER_DIRS])
        env = _conf(target, directory, f"[engine]\nhelper_binaries_dir = {dirs}\n")
        shown = _info_executable(target, env, "template")
        runs = running_pasta(target, env)
    recorder.check(claim, {"shown": placed(shown, bindir), "runs": placed(runs, bindir)},
                   evidence={"installed": installed, "helper_binaries_dir": dirs,
                             "podman_info": shown, "container_pasta_argv0": runs or ""})


# --- Enable debug logging from Pasta ------------------------------------------------

def _debug_conf(target: Target, directory: str) -> list[str]:
    options = json.dumps(["--log-file", f"{directory}/pasta.log",
                          "--pcap", f"{directory}/pasta.pcap", "--trace"])
    return _conf(target, directory, f"[network]\npasta_options = {options}\n")


def _start(target: Target, env: list[str], command: list[str], stem: str) -> str:
    name = containers.unique(stem)
    argv = target.marked(["env", *env, "podman", "run", "-d", "--name", name,
                          "--network=pasta", IMAGE, *command])
    done = target.run(argv, check=False)
    if not done.ok:
        target.remove_own("containers", name)
        raise NoObservation(f"the container did not start: {done.stderr.strip()[-200:]}")
    return name


def debug_files(log: str, pcap_magic: str) -> dict[str, bool]:
    """What pasta wrote: its log (header line), trace lines of the container's
    connection, the capture (classic pcap)."""
    address, port = TRACED
    return {"log_file": log.startswith("pasta "),
            "trace": any("Flow" in ln and f"{address}]:{port}" in ln for ln in log.splitlines()),
            "pcap": pcap_magic == PCAP_MAGIC}


def _read(target: Target, path: str) -> str:
    done = target.run(["cat", path], check=False)
    return done.stdout if done.ok else ""


def _magic(target: Target, path: str) -> str:
    done = target.run(["od", "-An", "-tx1", "-N4", path], check=False)
    return done.stdout.replace(" ", "").strip() if done.ok else ""


@pytest.mark.parametrize("claim", params(REGISTRY.select("pasta_debug_files")))
def test_debug_logging(claim: Claim, target: Target, recorder: Recorder,
                       applicable: Any) -> None:
    applicable(claim)
    address, port = TRACED
    with scratch(target) as directory:
        env = _debug_conf(target, directory)
        name = _start(target, env, ["sleep", "60"], "pastalog")
        try:
            target.podman("exec", name, "curl", "-s", "-m", "2", f"http://{address}:{port}/",
                          check=False)
            log = _read(target, f"{directory}/pasta.log")
            magic = _magic(target, f"{directory}/pasta.pcap")
        finally:
            target.remove_own("containers", name)
    recorder.check(claim, debug_files(log, magic), evidence={
        "log_head": "\n".join(log.splitlines()[:3]), "pcap_magic": magic})


def log_pid(log: str) -> str | None:
    """The PID in pasta's log header (``pasta VERSION: PATH (PID)``)."""
    first = log.splitlines()[0] if log else ""
    return first.rsplit("(", 1)[-1].rstrip(")") if first.startswith("pasta ") else None


def first_log_kept(before: str, after: str) -> bool:
    """Whether the first pasta's log is still in the file after a second pasta started
    with the same --log-file: its header's PID still there."""
    first = log_pid(before)
    if first is None:
        raise NoObservation(f"the first pasta wrote no log header: {before[:200]!r}")
    if log_pid(after) is None:
        raise NoObservation(f"the log has no pasta header after the second start: {after[:200]!r}")
    return f"({first})" in after


@pytest.mark.parametrize("claim", params(REGISTRY.select("pasta_log_truncated")))
def test_log_truncated(claim: Claim, target: Target, recorder: Recorder,
                       applicable: Any) -> None:
    """Two containers, each with its own pasta, with the same pasta_options."""
    applicable(claim)
    with scratch(target) as directory:
        env = _debug_conf(target, directory)
        names = [_start(target, env, ["sleep", "60"], "pastalog")]
        try:
            before = _read(target, f"{directory}/pasta.log")
            names.append(_start(target, env, ["sleep", "60"], "pastalog"))
            after = _read(target, f"{directory}/pasta.log")
        finally:
            target.remove_own("containers", *names)
    recorder.check(claim, first_log_kept(before, after), evidence={
        "first_header": before.splitlines()[0] if before else "",
        "header_after_second": after.splitlines()[0] if after else ""})
