"""podnet's pytest plugin: its options, markers and hooks (the run record's lifecycle,
xdist's workers, pytest's header); its fixtures (``fixtures``) and the bookkeeping that
ends every claim a test owes with a result (``bookkeeping``) are its other parts.

Registered through podnet's ``pytest11`` entry point (``-p podnet`` names it), so it is
loaded wherever podnet is installed: ``pytest -p podnet --pyargs scenarios``.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from harness import workers
from harness.claims import load_default
from harness.errors import PodnetError
from harness.guide import revisions
from harness.lab import lab as lab_ctl
from harness.lab import lock
from harness.options import PYTEST, resolve_pytest
from harness.pytest_plugin.stash import (
    FIRST_RESULT,
    NAMED_LAB_UP,
    RECORDER,
    SCHEDULE,
    STARTED,
    target_settings,
)
from harness.results.recorder import Recorder
from harness.targets import factory
from harness.timekeeper import Timekeeper

#: The plugin's other parts, registered with it.
pytest_plugins = ("harness.pytest_plugin.fixtures", "harness.pytest_plugin.bookkeeping")

MARKERS = {
    "lab": "needs a target (the lab by default): rootless podman and clients",
    "smoke": "a quick end-to-end check that the target serves a client",
    "source_address": "the guide's 'source address preserved' column",
    "pasta": "methods that use pasta",
    "slirp4netns": "methods that use slirp4netns",
    "socket_activation": "methods that use systemd socket activation",
    "host_network": "--network=host",
    "custom_network": "methods that use a custom (netavark) network",
    "throughput": "iperf3 throughput against the native reference",
    "proxy_throughput": "HTTP throughput through the socket-activated reverse proxy, against "
                        "the same proxy chain run natively",
    "latency": "request latency of an HTTP GET, per method",
    "cost_curves": "how each method's cost grows with the work: parallel streams, "
                   "published ports, new connections per second, forwarder memory",
    "pasta_stall": "pasta's outbound TCP stall: the experiments and the upstream report's "
                   "steps (transfers timed against native)",
    "outbound": "outbound connections: host's localhost, main interface, internet",
    "unix_socket": "Unix sockets on the host",
    "backend": "the network backend",
    "pcap": "pasta --pcap traffic capture",
    "security": "security findings (host network risk)",
    "bind_device": "binding to one network device",
    "unprivileged_port": "ip_unprivileged_port_start and the minimum port",
    "pasta_options": "pasta port options",
    "troubleshooting": "the guide's troubleshooting section",
    "reboot": "host1 rebooted with its network coming up late (troubleshooting)",
    "beyond_guide": "methods podman offers that the guide does not describe (podman 6's "
                    "pasta port forwarder); their claims cite podman's documentation",
    "reverse_proxy": "the HTTP reverse proxy table",
    "workstation": "the workstation proof: --target local in the lab leaves a user's state as it was",
    "guide_examples": "the guide's own examples, run as written as a fresh user of host1",
    "ssh_target": "the ssh target's proof: --target ssh:// against an sshd in host1, with ssh "
                  "run in host2's network namespace",
    "proof": "podnet's proofs of itself (the lab's mechanics, the workstation and ssh "
             "targets): run by podnet's own tests (pytest), never by podnet verify, which "
             "judges the guide",
    "claims": "claims(id, ..., same_method=prop): registry claims a test records besides its "
              "'claim' parameter; same_method: the claim of that property for the parameter's "
              "method",
}

def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from harness import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("podnet", "podnet: verify the rootless Podman networking guide")
    for setting in PYTEST.values():
        setting.declare(group.addoption)


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    try:  # every option and PODNET_* variable, checked before anything starts
        resolve_pytest(config.option, config.getini("markers"))
        lock.set_wait(config.option.lock_wait)
        worker = workers.worker_id(config)
        if worker is None:
            recorder = Recorder.start(config.option.results_dir, config.option.run_id)
        else:  # results in memory, handed to the controller (harness.workers)
            given: dict[str, Any] = config.workerinput  # type: ignore[attr-defined]
            config.option.lab_name = workers.lab_for_worker(config.option.lab_name, worker)
            # A lab of its own that the worker started goes down with it, unless the
            # named lab is kept or was up before the run: then the workers' labs stay up
            # beside it (warm for the next run) and go down with it (``podnet lab down``).
            config.option.keep_lab = config.option.keep_lab or (
                worker != workers.FIRST and bool(given.get(workers.KEEP_LABS)))
            recorder = Recorder.in_memory(config.option.results_dir,
                                          str(given[workers.RUN_ID]))
    except PodnetError as exc:
        pytest.exit(f"podnet: {exc}", returncode=pytest.ExitCode.USAGE_ERROR)
    revision = config.option.guide or revisions.newest()
    revisions.select(revision)
    recorder.run.guide = revision.record()
    recorder.placements = load_default(revision).placements(revision)
    config.stash[RECORDER] = recorder
    config.stash[FIRST_RESULT] = len(recorder.run.results)
    if recorder.run.selection is None:
        recorder.run.selection = config.option.markexpr or ""
    # A worker's tests are timed by the controller, from the reports the worker sends.
    config.pluginmanager.register(Timekeeper(recorder.run, per_test=worker is None),
                                  "podnet-timekeeper")
    config.stash[STARTED] = set()
    if worker is not None:
        config.stash[SCHEDULE] = workers.Schedule(recorder.run.run_id)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto``: for the lab, a few workers per core (a lab per worker,
    ``workers.lab_workers``); for another target (one user's podman) none: the session
    runs in this process, as without xdist, so a fixture's ``pytest.exit`` (a refused ssh
    key) ends it with its own line and status."""
    return workers.lab_workers(len(os.sched_getaffinity(0))) if _on_the_lab(config) else 0


def _on_the_lab(config: pytest.Config) -> bool:
    """Whether the target is the lab, as the options table and the targets' factory
    decide it (also before ``pytest_configure`` has resolved the options)."""
    try:
        return factory.kind(PYTEST["target"].resolve(config.option.target)).scheme == "lab"
    except PodnetError:  # pytest_configure says what is wrong
        return False


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadfile`` (the project's default): a module per work unit, the long ones
    in shards, the longest first (``harness.scheduling``; imported here, where xdist
    runs, since a run without it does not have it)."""
    if config.getoption("dist") != "loadfile":
        return None
    timed = workers.newest_test_times(config.option.results_dir).over(
        workers.shipped_test_times())
    from harness.scheduling import ModuleScheduling

    return ModuleScheduling(config, log, timed)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    node.workerinput[workers.RUN_ID] = node.config.stash[RECORDER].run.run_id
    node.workerinput[workers.KEEP_LABS] = _named_lab_up(node.config)


def _named_lab_up(config: pytest.Config) -> bool:
    """Was the named lab up when the run began (read once, for every worker)?"""
    if NAMED_LAB_UP not in config.stash:
        config.stash[NAMED_LAB_UP] = (_on_the_lab(config)
                                      and lab_ctl.status(config.option.lab_name).up)
    return config.stash[NAMED_LAB_UP]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    output = getattr(node, "workeroutput", {}).get(workers.RUN)
    if output is not None:
        workers.merge(node.config.stash[RECORDER].run, output)
        node.config.stash[RECORDER].checkpoint()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """In a worker, every test under the run's bench lock: benchmarks alone
    (harness.workers)."""
    schedule = item.config.stash.get(SCHEDULE, None)
    if schedule is None:
        return (yield)
    with schedule.around(_is_benchmark(item), nextitem is not None and _is_benchmark(nextitem)):
        return (yield)


def _is_benchmark(item: pytest.Item) -> bool:
    return workers.is_benchmark({m.name for m in item.iter_markers()})


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [f"podnet target: {factory.describe(config.option.target, target_settings(config))}"]


def pytest_runtest_setup(item: pytest.Item) -> None:
    item.config.stash[RECORDER].current_test = item.nodeid
    item.config.stash[STARTED].add(item.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    recorder = session.config.stash[RECORDER]
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        recorder.run.status = "interrupted"
    if workers.worker_id(session.config) is not None:
        workers.hand_over(session.config, recorder.run)
        return
    workers.remove_locks(recorder.run.run_id)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    try:
        path = recorder.save()
    except (OSError, PodnetError) as exc:
        # One line, and the run directory's previous files are left as they were.
        session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
        if reporter is not None:
            reporter.write_line(f"podnet: could not write the results in {recorder.directory}: "
                                f"{getattr(exc, 'strerror', None) or exc}", red=True)
        return
    if path is not None and reporter is not None:
        reporter.write_line(f"podnet results: {path}")


