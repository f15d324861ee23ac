"""podnet's pytest plugin: options, markers, header and the fixtures every suite uses.

Registered through podnet's ``pytest11`` entry point (``-p podnet`` names it), so it is
loaded wherever podnet is installed: ``pytest -p podnet --pyargs scenarios``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from typing import Any

import pytest

from harness import workers
from harness.claims import Claim, Registry, load_default
from harness.clients.base import Client
from harness.clients.netns import NetnsClient
from harness.clients.ssh import SshClient
from harness.environment import fingerprint, podman_info, systemd_version
from harness.errors import PodnetError
from harness.lab import lock
from harness.lab.topology import LINKS, link_for
from harness.methods import Method, all_methods
from harness.options import PYTEST, resolve_pytest
from harness.podman.info import PodmanInfo
from harness.requirements import Capabilities
from harness.results import completeness
from harness.results.recorder import ClaimMismatch, Recorder
from harness.targets import factory
from harness.targets.base import Target
from harness.targets.lab import LabTarget
from harness.timekeeper import Timekeeper
from harness.versions import Version

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

RECORDER = pytest.StashKey[Recorder]()
#: Where this session's results start in the run record (a --run-id run may hold others).
FIRST_RESULT = pytest.StashKey[int]()
#: How a test ended when it did not pass: (outcome for its missing claims, reason).
ENDING = pytest.StashKey[tuple[str, str]]()
#: The tests this process started (a worker runs only some of the session's items).
STARTED = pytest.StashKey[set[str]]()
#: In an xdist worker: benchmarks alone (harness.workers).
SCHEDULE = pytest.StashKey[workers.Schedule]()


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
        worker = workers.worker_id(config)
        if worker is None:
            recorder = Recorder.start(config.getoption("--results-dir"),
                                      config.getoption("--run-id"))
        else:  # results in memory, handed to the controller (harness.workers)
            config.option.lab_name = workers.lab_for_worker(config.option.lab_name, worker)
            # A lab of its own that the worker started goes down with it.
            config.option.keep_lab = config.option.keep_lab and worker == workers.FIRST
            recorder = Recorder.in_memory(config.getoption("--results-dir"),
                                          workers.given_run_id(config))
    except PodnetError as exc:
        pytest.exit(f"podnet: {exc}", returncode=pytest.ExitCode.USAGE_ERROR)
    config.stash[RECORDER] = recorder
    config.stash[FIRST_RESULT] = len(recorder.run.results)
    if recorder.run.selection is None:
        recorder.run.selection = config.option.markexpr or ""
    # A worker's tests are timed by the controller, from the reports the worker sends.
    config.pluginmanager.register(Timekeeper(recorder.run, per_test=worker is None),
                                  "podnet-timekeeper")
    config.stash[STARTED] = set()
    if workers.worker_id(config) is not None:
        config.stash[SCHEDULE] = workers.Schedule(recorder.run.run_id)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto``: a worker per core for the lab (a lab per worker); for another target
    (one user's podman) none: the session runs in this process, as without xdist, so a
    fixture's ``pytest.exit`` (a refused ssh key) ends it with its own line and status."""
    chosen = config.getoption("--target") or os.environ.get("PODNET_TARGET") or "lab"
    return None if chosen == "lab" else 0


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    node.workerinput[workers.RUN_ID] = node.config.stash[RECORDER].run.run_id


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
    return [f"podnet target: {factory.describe(config.option.target, _settings(config))}"]


def _settings(config: pytest.Config) -> factory.Settings:
    """The target's settings from the plugin's options (resolved in pytest_configure)."""
    opt = config.option
    return factory.Settings(
        run_id=config.stash[RECORDER].run.run_id, lab_name=opt.lab_name,
        release=opt.release, keep_lab=bool(opt.keep_lab), local_user=opt.local_user,
        target_address=opt.target_address, base_tar=opt.base_tar,
        keep_image=bool(opt.keep_image), ssh_identity=opt.ssh_identity,
        ssh_known_hosts=opt.ssh_known_hosts, ssh_from=opt.ssh_from)


def pytest_runtest_setup(item: pytest.Item) -> None:
    item.config.stash[RECORDER].current_test = item.nodeid
    item.config.stash[STARTED].add(item.nodeid)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    if (report.failed or report.skipped) and ENDING not in item.stash:
        item.stash[ENDING] = (("skipped", _skip_reason(report)) if report.skipped
                              else ("error", _error_line(call, report)))
    if (call.excinfo is not None and call.excinfo.errisinstance(ClaimMismatch)
            and item.config.getoption("--mismatch") == "xfail" and report.when == "call"):
        report.outcome = "skipped"
        report.wasxfail = "contradicts the guide: " + str(call.excinfo.value).splitlines()[0]
    if report.when == "teardown":
        _complete_claims(item)
        item.config.stash[RECORDER].checkpoint()
    return report


def _owed(item: pytest.Item) -> list[completeness.Expected]:
    """The results a test that records (it takes the ``recorder`` fixture) is meant to
    record: its ``claim`` parameter's and its ``claims`` marker's (see
    harness.results.completeness)."""
    if "recorder" not in getattr(item, "fixturenames", ()):
        return []
    callspec = getattr(item, "callspec", None)
    params = callspec.params if callspec is not None else {}
    owed = []
    claim, protocol = params.get("claim"), params.get("protocol")
    if isinstance(claim, Claim):
        owed += completeness.expected_for(claim, item.nodeid, protocol)
    registry = _marker_registry()
    for marker in item.iter_markers("claims"):
        also = [registry.get(claim_id) for claim_id in marker.args]
        if (prop := marker.kwargs.get("same_method")) and isinstance(claim, Claim):
            also += registry.select(prop, method=claim.method)
        for other in also:
            owed += completeness.expected_for(other, item.nodeid)
    return owed


def _complete_claims(item: pytest.Item) -> None:
    """After a test's teardown: a claim it owes and nobody recorded in this session gets
    a result saying why (the test's skip reason, or its error), never nothing."""
    recorder = item.config.stash[RECORDER]
    session_results = recorder.run.results[item.config.stash[FIRST_RESULT]:]
    outcome, reason = item.stash.get(ENDING, (
        "error", "the test ended without recording a result for this claim"))
    if outcome == "error":
        reason = f"not recorded: {item.nodeid} ended first: {reason}"
    for want in completeness.missing(_owed(item), session_results):
        recorder.add(completeness.placeholder(want, outcome, reason))


@functools.cache
def _marker_registry() -> Registry:
    return load_default()


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")[:500]
    return str(getattr(report, "wasxfail", "") or longrepr or "skipped")[:500]


def _error_line(call: pytest.CallInfo[Any], report: pytest.TestReport) -> str:
    """The first line of the exception's message (not a traceback's last line)."""
    if call.excinfo is not None:
        text = str(call.excinfo.value).strip()
        first = text.splitlines()[0] if text else call.excinfo.typename
        return f"{call.excinfo.typename}: {first}"[:500]
    return str(report.longrepr).strip().splitlines()[-1][:500]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    recorder = session.config.stash[RECORDER]
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        recorder.run.status = "interrupted"
    if not session.config.option.collectonly:
        _one_result_per_claim(session, recorder)
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


def _one_result_per_claim(session: pytest.Session, recorder: Recorder) -> None:
    """Every claim the session's tests owe ends with exactly one result per protocol:
    tests that never reached their teardown (stopped session) get an error naming the
    test; duplicates are folded (harness.results.completeness)."""
    items = session.items
    if workers.worker_id(session.config) is not None:  # the others are other workers'
        items = [item for item in items if item.nodeid in session.config.stash[STARTED]]
    owed = {(w.claim.id, w.protocol): w for item in items for w in _owed(item)}
    first = session.config.stash[FIRST_RESULT]
    session_results = recorder.run.results[first:]
    for want in completeness.missing(owed.values(), session_results):
        recorder.add(completeness.placeholder(
            want, "error", f"not recorded: the session ended before {want.test} finished"))
    session_results = recorder.run.results[first:]
    completeness.merge_duplicates(owed.values(), session_results)
    recorder.run.results[first:] = session_results


# --- fixtures --------------------------------------------------------------------------

@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_default()


@pytest.fixture(scope="session")
def recorder(pytestconfig: pytest.Config) -> Recorder:
    return pytestconfig.stash[RECORDER]


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config) -> Iterator[Target]:
    """The target ``--target`` names (harness.targets.factory), marking what it creates
    with this session (the run id); stale sessions' marks are removed first, this
    session's at its end."""
    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")

    def say(text: str) -> None:  # on the terminal, not into the fixture's captured output
        if reporter is not None and capture is not None:
            with capture.global_and_fixture_disabled():
                reporter.write_line(f"podnet: {text}")

    try:
        with factory.session(pytestconfig.option.target, _settings(pytestconfig), say) as chosen:
            yield chosen
    except lock.LockBusy as exc:  # another session holds the target: say who
        pytest.exit(f"podnet: {str(exc).splitlines()[0]}", returncode=2)
    except PodnetError as exc:
        pytest.exit(f"podnet: {str(exc).splitlines()[0]}", returncode=4)


def _lab_clients(config: pytest.Config) -> bool:
    """Whether the clients are the lab's hosts: the lab target, or ssh from the lab."""
    return factory.lab_clients(config.option.target, _settings(config))


@pytest.fixture(scope="session")
def info(target: Target) -> PodmanInfo:
    return podman_info(target)


@pytest.fixture(scope="session")
def environment(target: Target, info: PodmanInfo, recorder: Recorder,
                pytestconfig: pytest.Config) -> dict[str, Any]:
    release = (target.state.release if isinstance(target, LabTarget) else None)
    env = fingerprint(target, info, release)
    recorder.run.environment.update(env)
    return env


def _lab_client(config: pytest.Config, host: str) -> Client:
    link = link_for(host)
    return NetnsClient(host, f"{config.getoption('--lab-name')}-{host}", link.peer_addr)


@pytest.fixture(scope="session")
def client(pytestconfig: pytest.Config, target: Target, environment: dict[str, Any]
           ) -> Iterator[Client]:
    """The remote client (the lab's host2, or --client)."""
    url = pytestconfig.getoption("--client")
    if url:
        remote = SshClient(url, pytestconfig.getoption("--client-address"))
        yield remote
        remote.close()
        return
    if not _lab_clients(pytestconfig):
        pytest.skip("with --target local or ssh://, pass --client ssh://user@host for a "
                    "remote client")
    yield _lab_client(pytestconfig, "host2")


@pytest.fixture(scope="session")
def client_host3(pytestconfig: pytest.Config, target: Target) -> Client:
    """A second client reaching host1 through its other interface (eth1)."""
    if not _lab_clients(pytestconfig) or pytestconfig.getoption("--client"):
        pytest.skip("needs a second client on another interface (host3 of the lab)")
    return _lab_client(pytestconfig, LINKS[1].client)


@pytest.fixture(scope="session")
def capabilities(target: Target, info: PodmanInfo, pytestconfig: pytest.Config) -> Capabilities:
    return Capabilities(target, info, pytestconfig.getoption("--libsdsock"),
                        has_host3=_lab_clients(pytestconfig))


@pytest.fixture(scope="session")
def versions(environment: dict[str, Any], info: PodmanInfo) -> dict[str, Version | None]:
    """Versions that claims' conditions name: what podman reports, plus systemd (as the
    environment fingerprint read it)."""
    return {**info.components.as_conditions(), "systemd": systemd_version(environment)}


@pytest.fixture
def applicable(versions: dict[str, Version | None], recorder: Recorder,
               capabilities: Capabilities) -> Any:
    """Call with (claim, method, protocol): skips, and records why, when the claim does
    not apply to the target's versions or the target lacks what the method needs."""

    def check(claim: Claim, method: Method | None = None, protocol: str | None = None) -> None:
        ok, reason = claim.applies(versions)
        if not ok:
            recorder.skip(claim, reason, outcome="not_applicable", protocol=protocol)
            pytest.skip(f"not applicable: {reason}")
        needs = (*(method.requires if method else ()), *claim.extra.get("requires", ()))
        if refused := capabilities.refusal(needs, method):
            recorder.unsupported(claim, refused.message, protocol=protocol,
                                 evidence={"command": refused.command})
            pytest.skip(f"unsupported: {refused.message}")
        blocked = (capabilities.settings_trial(method).blocked
                   if method is not None and method.network_settings else None)
        if missing := capabilities.first_missing(needs) or blocked:
            recorder.skip(claim, missing, protocol=protocol)
            pytest.skip(missing)

    return check


def method_params(claims: list[Claim], protocols: bool = False) -> list[Any]:
    """pytest params for claims, with readable ids and the method families as marks."""
    methods = all_methods()
    params = []
    for claim in claims:
        method = methods[claim.method] if claim.method else None
        marks = [getattr(pytest.mark, f) for f in (method.families if method else ())]
        if method is not None and method.beyond_guide:
            marks.append(pytest.mark.beyond_guide)
        for proto in (claim.protocols or ("tcp",)) if protocols else (None,):
            ident = claim.method or claim.id
            params.append(pytest.param(claim, proto, marks=marks,
                                       id=f"{ident}-{proto}" if proto else ident))
    return params
