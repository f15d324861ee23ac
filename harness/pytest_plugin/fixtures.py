"""The fixtures every suite uses: the registry, the run's recorder, the target and its
clients, podman's facts and what a claim needs to apply."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from harness.capabilities import Capabilities
from harness.claims import Claim, Registry, load_default
from harness.clients.base import Client, netns_client
from harness.clients.ssh import SshClient
from harness.environment import fingerprint, podman_info, systemd_version
from harness.errors import PodnetError
from harness.lab import lock
from harness.lab.target import LabTarget
from harness.lab.topology import LINKS, link_for
from harness.methods import Method
from harness.podman.info import PodmanInfo
from harness.pytest_plugin.stash import RECORDER, target_settings
from harness.results.recorder import Recorder
from harness.targets import factory
from harness.targets.base import Target
from harness.versions import Version


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_default()


@pytest.fixture
def claim(request: pytest.FixtureRequest, registry: Registry) -> Claim:
    """The claim a test's ``claims`` marker names: a test gets its claim as the ``claim``
    argument, from this marker or from its parameter of that name (a test parametrised
    over claims)."""
    marker = request.node.get_closest_marker("claims")
    if marker is None or len(marker.args) != 1:
        raise pytest.UsageError(f"{request.node.nodeid} takes 'claim': its claims marker "
                                "must name exactly one claim, or parametrise 'claim'")
    return registry.get(marker.args[0])


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
        with factory.session(pytestconfig.option.target, target_settings(pytestconfig), say) as chosen:
            yield chosen
    except lock.LockBusy as exc:  # another session holds the target: say who
        pytest.exit(f"podnet: {str(exc).splitlines()[0]}", returncode=2)
    except PodnetError as exc:
        pytest.exit(f"podnet: {str(exc).splitlines()[0]}", returncode=4)


def _lab_clients(config: pytest.Config) -> bool:
    """Whether the clients are the lab's hosts: the lab target, or ssh from the lab."""
    return factory.lab_clients(config.option.target, target_settings(config))


@pytest.fixture(scope="session")
def info(target: Target) -> PodmanInfo:
    return podman_info(target)


@pytest.fixture(scope="session")
def environment(target: Target, info: PodmanInfo, recorder: Recorder) -> dict[str, Any]:
    env = fingerprint(target, info, target.state.release if isinstance(target, LabTarget)
                      else None)
    recorder.run.environment.update(env)
    return env


def _lab_client(config: pytest.Config, host: str) -> Client:
    link = link_for(host)
    return netns_client(host, f"{config.option.lab_name}-{host}", link.peer_addr)


@pytest.fixture(scope="session")
def client(pytestconfig: pytest.Config, target: Target, environment: dict[str, Any]
           ) -> Iterator[Client]:
    """The remote client (the lab's host2, or --client)."""
    if url := pytestconfig.option.client:
        remote = SshClient(url, pytestconfig.option.client_address)
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
    if not _lab_clients(pytestconfig) or pytestconfig.option.client:
        pytest.skip("needs a second client on another interface (host3 of the lab)")
    return _lab_client(pytestconfig, LINKS[1].client)


@pytest.fixture(scope="session")
def capabilities(target: Target, info: PodmanInfo, pytestconfig: pytest.Config) -> Capabilities:
    return Capabilities(target, info, pytestconfig.option.libsdsock,
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
