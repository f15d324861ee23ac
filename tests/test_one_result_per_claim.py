"""Every claim a session's tests owe ends the run with exactly one result per protocol:
a test stopped by an error, a failed check before it, a skip or a stopped session
leaves a result saying so, and duplicates are folded into one.

The checks run in a real pytest session with podnet's plugin on a fake target (no
podman): the suite's conftest replaces the target.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.claims import load_default
from harness.results import completeness
from harness.results.schema import ClaimResult

CONFTEST = '''
import pytest


class FakeTarget:
    name = "fake"


@pytest.fixture(scope="session")
def target():
    return FakeTarget()
'''

SUITE = '''
import pytest

from harness.claims import load_default
from harness.results.recorder import NoObservation
from scenarios.params import method_params

REGISTRY = load_default()


@pytest.fixture
def broken_client():
    raise RuntimeError("host2 does not answer")


@pytest.mark.claims("ports.pasta.t-auto", "ports.pasta.below-unprivileged")
def test_first_check_fails(target, recorder):
    claim = REGISTRY.get("ports.pasta.t-auto")
    recorder.check(claim, False)
    recorder.check(REGISTRY.get("ports.pasta.below-unprivileged"), False)


@pytest.mark.claims("ports.unprivileged.read")
def test_setup_error(target, broken_client, recorder):
    recorder.check(REGISTRY.get("ports.unprivileged.read"), 1024)


@pytest.mark.claims("ports.rootless-cmd.info")
def test_skipped_before_recording(recorder):
    pytest.skip("needs something this target lacks")


@pytest.mark.claims("ports.rootless-cmd.process")
def test_passes_without_recording(recorder):
    pass


@pytest.mark.parametrize(("claim", "protocol"), method_params(
    [REGISTRY.get("inbound.source-address.pasta")], protocols=True))
def test_only_tcp_recorded(claim, protocol, recorder):
    if protocol == "tcp":
        recorder.check(claim, True, protocol=protocol)
    else:
        raise RuntimeError("udp peer missing")


@pytest.mark.parametrize("claim", [REGISTRY.get("reverse-proxy.socket-activation.caddy")])
@pytest.mark.claims(same_method="proxy_forwards_client_address")
def test_companion_claim(claim, recorder):
    recorder.check(claim, claim.expected)
    raise RuntimeError("backend log unreadable")


@pytest.mark.claims("ports.unprivileged.system-service")
def test_twice(recorder):
    claim = REGISTRY.get("ports.unprivileged.system-service")
    recorder.check(claim, True)
    recorder.skip(claim, "checked again")


@pytest.mark.claims("ports.troubleshooting.reboot-fails")
def test_no_observation(recorder):
    raise NoObservation("the example failed for another reason", {"journal": "Error: other"})


@pytest.mark.claims("ports.troubleshooting.host")
def test_deselected(recorder):
    raise AssertionError("never runs: deselected with -k")


@pytest.mark.claims("ports.troubleshooting.network-none")
def test_interrupts(recorder):
    raise KeyboardInterrupt


@pytest.mark.claims("ports.troubleshooting.slirp4netns")
def test_never_reached(recorder):
    pass
'''


def run_suite(directory: Path, *args: str) -> dict[str, Any] | None:
    """A pytest session in its own process (the suite interrupts itself) in ``directory``;
    its run record, if it wrote one."""
    (directory / "conftest.py").write_text(CONFTEST)
    (directory / "test_suite.py").write_text(SUITE)
    results = directory / "results"
    subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                    f"--results-dir={results}", "--run-id=r1", "-k", "not deselected",
                    "--rootdir", str(directory), *args],
                   cwd=directory, capture_output=True, timeout=120, check=False)
    path = results / "r1" / "run.json"
    return json.loads(path.read_text()) if path.exists() else None


def by_claim(record: dict[str, Any]) -> dict[tuple[str, str | None], list[dict[str, Any]]]:
    found: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
    for result in record["results"]:
        found.setdefault((result["claim_id"], result["protocol"]), []).append(result)
    return found


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    found = run_suite(tmp_path_factory.mktemp("suite"), "--mismatch=xfail")
    assert found is not None
    return found


def test_exactly_one_result_per_owed_claim_and_protocol(record: dict[str, Any]) -> None:
    found = by_claim(record)
    assert sorted(found) == sorted([
        ("ports.pasta.t-auto", None), ("ports.pasta.below-unprivileged", "tcp"),
        ("ports.unprivileged.read", None), ("ports.rootless-cmd.info", None),
        ("ports.rootless-cmd.process", None),
        ("inbound.source-address.pasta", "tcp"), ("inbound.source-address.pasta", "udp"),
        ("ports.unprivileged.system-service", None),
        ("reverse-proxy.socket-activation.caddy", None),
        ("reverse-proxy.source-address.caddy", None),
        ("ports.troubleshooting.network-none", None),
        ("ports.troubleshooting.slirp4netns", None),
        ("ports.troubleshooting.reboot-fails", None),
    ])
    assert all(len(results) == 1 for results in found.values())


def test_a_failed_check_before_a_claim_leaves_an_error_naming_the_test(
        record: dict[str, Any]) -> None:
    (below,) = by_claim(record)[("ports.pasta.below-unprivileged", "tcp")]
    assert below["outcome"] == "error"
    assert "test_first_check_fails" in below["reason"] and "ClaimMismatch" in below["reason"]
    assert below["test"].endswith("test_first_check_fails")
    (auto,) = by_claim(record)[("ports.pasta.t-auto", None)]
    assert auto["outcome"] == "failed"


def test_setup_error_is_recorded_with_the_exception(record: dict[str, Any]) -> None:
    (result,) = by_claim(record)[("ports.unprivileged.read", None)]
    assert result["outcome"] == "error"
    assert "RuntimeError: host2 does not answer" in result["reason"]


def test_what_a_check_saw_without_observing_is_the_errors_evidence(
        record: dict[str, Any]) -> None:
    (result,) = by_claim(record)[("ports.troubleshooting.reboot-fails", None)]
    assert result["outcome"] == "error"
    assert "NoObservation: the example failed for another reason" in result["reason"]
    assert result["evidence"] == {"journal": "Error: other"}
    (other,) = by_claim(record)[("ports.unprivileged.read", None)]
    assert other["evidence"] == {}


def test_skip_and_silent_pass(record: dict[str, Any]) -> None:
    (skipped,) = by_claim(record)[("ports.rootless-cmd.info", None)]
    assert (skipped["outcome"], skipped["reason"]) == (
        "skipped", "needs something this target lacks")
    (silent,) = by_claim(record)[("ports.rootless-cmd.process", None)]
    assert silent["outcome"] == "error" and "without recording" in silent["reason"]


def test_each_protocol_of_a_parametrized_claim(record: dict[str, Any]) -> None:
    found = by_claim(record)
    assert found[("inbound.source-address.pasta", "tcp")][0]["outcome"] == "passed"
    udp = found[("inbound.source-address.pasta", "udp")][0]
    assert udp["outcome"] == "error" and "udp peer missing" in udp["reason"]


def test_claim_of_the_same_method_by_property(record: dict[str, Any]) -> None:
    found = by_claim(record)
    assert found[("reverse-proxy.socket-activation.caddy", None)][0]["outcome"] == "passed"
    (address,) = found[("reverse-proxy.source-address.caddy", None)]
    assert address["outcome"] == "error" and "backend log unreadable" in address["reason"]


def test_duplicates_fold_into_one_result_keeping_the_other(record: dict[str, Any]) -> None:
    (kept,) = by_claim(record)[("ports.unprivileged.system-service", None)]
    assert kept["outcome"] == "passed"
    assert [o["outcome"] for o in kept["evidence"]["other_results"]] == ["skipped"]
    assert "2 results" in kept["reason"]


def test_stopped_session_and_deselected_tests(record: dict[str, Any]) -> None:
    found = by_claim(record)
    assert ("ports.troubleshooting.host", None) not in found  # deselected: owes nothing
    (never,) = found[("ports.troubleshooting.slirp4netns", None)]
    assert never["outcome"] == "error" and "session ended before" in never["reason"]
    assert never["test"].endswith("test_never_reached")
    assert record["status"] == "interrupted"


def test_collect_only_records_nothing(tmp_path: Path) -> None:
    assert run_suite(tmp_path, "--collect-only") is None


def test_merge_prefers_failed_and_keeps_order() -> None:
    claim = load_default().get("ports.unprivileged.read")
    results = [ClaimResult(claim.id, claim.section, claim.statement, 1024, o, o)
               for o in ("passed", "failed", "error")]
    wanted = completeness.expected_for(claim, "t")
    assert completeness.merge_duplicates(wanted, results) == 2
    (kept,) = results
    assert kept.outcome == "failed"
    assert [o["outcome"] for o in kept.evidence["other_results"]] == ["passed", "error"]


def test_result_without_protocol_fills_every_protocol() -> None:
    claim = load_default().get("inbound.source-address.pasta")
    result = ClaimResult(claim.id, claim.section, claim.statement, True, None, "error")
    assert completeness.missing(completeness.expected_for(claim, "t"), [result]) == []
    wanted = completeness.expected_for(claim, "t")
    assert [w.protocol for w in wanted] == ["tcp", "udp"]
