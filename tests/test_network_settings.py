"""A method's containers.conf settings (podman 6's ``rootless_port_forwarder = "pasta"``):
the drop-in, when it may be written, and the judges of what podman does with it, on
output recorded from trixie (podman 5.4.2) and experimental (podman 6.1.1)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from harness import network_settings
from harness.capabilities import Capabilities, SettingsTrial
from harness.errors import UsageError
from harness.methods import Method, all_methods
from harness.run import Completed
from harness.sessions.records import Session, SessionStore
from harness.targets.base import Target
from tests.test_sessions import HereTarget

PESTO = "pasta-custom-network-pesto"
FIXTURES = Path(__file__).parent / "fixtures" / "podman"
#: podman 5.4.2 (trixie): ``podman info --format json`` (no rootlessPortForwarder).
PODMAN5_INFO = (FIXTURES / "info-5.4.2-trixie.json").read_text()
#: ``podman ps --format '{{.Names}}\t{{.Networks}}'``: one container on a custom network,
#: one with pasta (no network listed).
PS = "podnet-web-1a2b3c\tpodnet-net-1a2b3c\nalice-pasta\t\n"
NETWORKS = "podman\npodnet-net-1a2b3c\n"


def test_the_method_is_data_and_beyond_the_guide() -> None:
    method = all_methods()[PESTO]
    assert method.beyond_guide and method.network == "custom"
    assert method.network_settings == (("rootless_port_forwarder", "pasta"),)
    assert not any(m.beyond_guide or m.network_settings
                   for m in all_methods().values() if m.id != PESTO)


def test_drop_in_text() -> None:
    text = network_settings.drop_in_text(all_methods()[PESTO])
    assert "[network]\nrootless_port_forwarder = \"pasta\"\n" in text
    assert text.startswith("# podnet: ")


def test_containers_on_custom_networks() -> None:
    assert network_settings.on_custom_networks(PS, NETWORKS) == ["podnet-web-1a2b3c"]
    assert network_settings.on_custom_networks("alice-pasta\t\n", NETWORKS) == []
    assert network_settings.on_custom_networks("", NETWORKS) == []
    assert network_settings.on_custom_networks("a\tpodman,other\n", NETWORKS) == ["a"]


def _info(forwarder: str | None) -> str:
    host = {"rootlessNetworkCmd": "pasta"} | (
        {"rootlessPortForwarder": forwarder} if forwarder else {})
    return json.dumps({"host": host, "version": {"Version": "6.1.1"}})


def test_podman_5_does_not_offer_the_setting() -> None:
    """trixie: podman's info has no such setting (it ignores the key without a word): that
    report, with podman's version, is the refusal, not podnet's probe failing."""
    refused, blocked = network_settings.reported_refusal(
        "rootless_port_forwarder", "pasta", 0, PODMAN5_INFO, "")
    assert blocked is None and refused == (
        "podman 5.4.2 does not offer rootless_port_forwarder: 'podman info --format json' "
        "reports no host.rootlessPortForwarder (podman ignores containers.conf keys it does "
        "not know)")


def test_podman_6_offers_it() -> None:
    assert network_settings.reported_refusal(
        "rootless_port_forwarder", "pasta", 0, _info("pasta"), "") == (None, None)


def test_an_overriding_configuration_is_no_refusal() -> None:
    """A containers.conf read after podnet's drop-in keeps rootlessport: podman did not
    refuse anything, the check cannot run (skipped with the reason)."""
    refused, blocked = network_settings.reported_refusal(
        "rootless_port_forwarder", "pasta", 0, _info("rootlessport"), "")
    assert refused is None and blocked is not None and "overrides" in blocked


@pytest.mark.parametrize(("status", "out", "err"), [
    (125, "", "Error: cannot connect to the user's podman\n"),
    (0, "not json", ""),
])
def test_a_failing_probe_is_an_error_naming_it(status: int, out: str, err: str) -> None:
    """The wrong world of the old probe (a template podman 5 cannot evaluate, recorded as
    podman's refusal): podnet's own probe failing is an error naming the probe."""
    with pytest.raises(network_settings.ProbeFailed, match="probe 'podman info --format json'"):
        network_settings.reported_refusal("rootless_port_forwarder", "pasta", status, out, err)


def test_start_refusal_needs_the_control_to_start() -> None:
    pesto_missing = (126, 'Error: exec: "pesto": executable file not found in $PATH')
    assert network_settings.start_refusal((0, ""), (0, "")) == (None, None)
    assert network_settings.start_refusal(pesto_missing, (0, "")) == (pesto_missing[1], None)
    # The wrong world: podman fails with and without the setting (an image missing, say):
    # not podman refusing the setting, so never "unsupported".
    refused, blocked = network_settings.start_refusal(
        pesto_missing, (125, "Error: localhost/podnet/web: image not known"))
    assert refused is None and blocked is not None and "image not known" in blocked


class ScriptedTarget(Target):
    """Answers ``podman ps``/``podman network ls`` and ``test -d``; records every argv."""

    def __init__(self, ps: str = "", directory_exists: bool = False) -> None:
        self.name, self.user, self.uid, self.home = "fake", "test", 1000, "/home/test"
        self.main_address = "192.0.2.1"
        self.ps, self.directory_exists = ps, directory_exists
        self.calls: list[tuple[str, ...]] = []

    def run(self, argv: Sequence[str], *, root: bool = False, check: bool = True,
            input: str | None = None, timeout: float | None = 120,
            stdin_path: str | None = None) -> Completed:
        argv = tuple(argv)
        self.calls.append(argv)
        out, status = "", 0
        if argv[:2] == ("podman", "ps"):
            out = self.ps
        elif argv[:3] == ("podman", "network", "ls"):
            out = NETWORKS
        elif argv[:2] == ("test", "-d"):
            status = 0 if self.directory_exists else 1
        elif argv[:2] == ("test", "-e"):
            status = 1
        return Completed(argv, status, out, "", 0.0)


def _method() -> Method:
    return all_methods()[PESTO]


def test_applied_writes_a_recorded_drop_in_and_removes_it(tmp_path: Path) -> None:
    target = ScriptedTarget()
    store = SessionStore.on(HereTarget(tmp_path / "home"))
    with store.hold("the target", wait=0):
        _applied(target, store.begin("20261128T000000Z-aaaaaa"))


def _applied(target: ScriptedTarget, session: Session) -> None:
    target.attach(session)
    path = network_settings.drop_in_path(target, _method())
    assert path == ("/home/test/.config/containers/containers.conf.d/"
                    "99-podnet-pasta-custom-network-pesto.conf")
    with network_settings.applied(target, _method()) as written:
        assert written == path
        assert [w.path for w in session.files()] == [path]
    assert ("rm", "-rf", "--", path) in target.calls
    assert ("rmdir", "--ignore-fail-on-non-empty", path.rsplit("/", 1)[0]) in target.calls
    assert session.files() == []
    session.end()


def test_applied_keeps_a_directory_it_did_not_make() -> None:
    target = ScriptedTarget(directory_exists=True)
    with network_settings.applied(target, _method()):
        pass
    assert not any(argv[0] == "rmdir" for argv in target.calls)


def test_applied_refuses_while_containers_run_on_custom_networks() -> None:
    target = ScriptedTarget(ps=PS)
    with pytest.raises(network_settings.SettingsBusy, match="podnet-web-1a2b3c"), \
            network_settings.applied(target, _method()):
        pass
    assert not any(argv[:1] == ("sh",) for argv in target.calls), "nothing written"


def test_a_method_without_settings_writes_nothing() -> None:
    target = ScriptedTarget(ps=PS)
    with network_settings.applied(target, all_methods()["pasta"]) as path:
        assert path is None
    assert target.calls == []


def test_network_settings_must_be_strings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    from harness import methods

    bad = tmp_path / "methods.toml"
    bad.write_text('[method.x]\ntitle = "x"\nkind = "run"\nnetwork_settings = { a = 1 }\n')
    monkeypatch.setattr(methods, "METHODS_FILE", bad)
    methods.all_methods.cache_clear()
    try:
        with pytest.raises(UsageError, match="network_settings must be a table of string"):
            methods.all_methods()
    finally:
        methods.all_methods.cache_clear()


class TrialTarget(ScriptedTarget):
    """podman as recorded: ``info_reply`` for ``podman info --format``; ``podman run``
    exits with ``run_with`` while the drop-in exists and ``run_without`` otherwise."""

    def __init__(self, info_reply: tuple[int, str, str], run_with: tuple[int, str],
                 run_without: tuple[int, str] = (0, "")) -> None:
        super().__init__()
        self.info_reply, self.run_with, self.run_without = info_reply, run_with, run_without
        self.drop_in = False

    def run(self, argv: Sequence[str], *, root: bool = False, check: bool = True,
            input: str | None = None, timeout: float | None = 120,
            stdin_path: str | None = None) -> Completed:
        argv = tuple(argv)
        if argv[:1] == ("sh",) and "containers.conf.d" in " ".join(argv):
            self.drop_in = True
        elif argv[:3] == ("rm", "-rf", "--") and "containers.conf.d" in argv[3]:
            self.drop_in = False
        elif argv[:3] == ("podman", "info", "--format"):
            self.calls.append(argv)
            return Completed(argv, *self.info_reply, 0.0)
        elif argv[:2] == ("podman", "run"):
            self.calls.append(argv)
            status, err = self.run_with if self.drop_in else self.run_without
            return Completed(argv, status, "", err, 0.0)
        return super().run(argv, root=root, check=check, input=input, timeout=timeout)


def _trial(target: TrialTarget) -> SettingsTrial:
    return Capabilities(target, None).settings_trial(_method())  # type: ignore[arg-type]


def test_trial_on_podman_5_is_unsupported_with_podmans_report() -> None:
    trial = _trial(TrialTarget((0, PODMAN5_INFO, ""), (0, "")))
    assert trial.refusal is not None and trial.refusal.message.startswith(
        "podman 5.4.2 does not offer rootless_port_forwarder")
    assert "podman info --format json" in trial.refusal.command


def test_trial_on_podman_6_offers_it() -> None:
    target = TrialTarget((0, _info("pasta"), ""), (0, ""))
    trial = _trial(target)
    assert (trial.refusal, trial.blocked) == (None, None)
    assert sum(argv[:2] == ("podman", "run") for argv in target.calls) == 1


def test_trial_failing_to_start_only_with_the_setting_is_unsupported() -> None:
    missing = 'Error: exec: "pesto": executable file not found in $PATH'
    trial = _trial(TrialTarget((0, _info("pasta"), ""), (126, missing)))
    assert trial.refusal is not None and trial.refusal.message == missing


def test_trial_failing_either_way_is_no_refusal() -> None:
    """The wrong world: podman cannot start such a container at all."""
    broken = (125, "Error: localhost/podnet/web:latest: image not known")
    trial = _trial(TrialTarget((0, _info("pasta"), ""), broken, broken))
    assert trial.refusal is None and trial.blocked and "image not known" in trial.blocked
