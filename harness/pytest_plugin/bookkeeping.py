"""The plugin's completeness bookkeeping: every claim a test owes ends with exactly one
result (harness.results.completeness), also when the test was skipped, failed or never
finished."""

from __future__ import annotations

from typing import Any

import pytest

from harness import workers
from harness.claims import Claim, load_default
from harness.pytest_plugin.stash import ENDING, FIRST_RESULT, RECORDER, STARTED
from harness.results import completeness
from harness.results.recorder import ClaimMismatch, NoObservation, Recorder


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    if (report.failed or report.skipped) and ENDING not in item.stash:
        item.stash[ENDING] = (("skipped", _skip_reason(report), {}) if report.skipped
                              else ("error", _error_line(call, report), _evidence(call)))
    if (call.excinfo is not None and call.excinfo.errisinstance(ClaimMismatch)
            and item.config.option.mismatch == "xfail" and report.when == "call"):
        report.outcome = "skipped"
        report.wasxfail = "contradicts the guide: " + str(call.excinfo.value).splitlines()[0]
    if report.when == "teardown":
        _complete_claims(item)
        item.config.stash[RECORDER].checkpoint()
    return report


@pytest.hookimpl(trylast=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before a test whose every claim is not in the guide revision the run judges: each
    ends not applicable, saying so, and the test is skipped."""
    recorder = item.config.stash[RECORDER]
    wanted = owed(item)
    absent = [recorder.absent(want.claim.id) for want in wanted]
    if wanted and all(absent):
        for want, reason in zip(wanted, absent, strict=True):
            recorder.add(completeness.placeholder(want, "not_applicable", reason))
        pytest.skip(f"not applicable: {absent[0]}")


def owed(item: pytest.Item) -> list[completeness.Expected]:
    """The results a test that records (it takes the ``recorder`` fixture) is meant to
    record: its ``claim`` parameter's and its ``claims`` marker's (see
    harness.results.completeness)."""
    if "recorder" not in getattr(item, "fixturenames", ()):
        return []
    callspec = getattr(item, "callspec", None)
    params = callspec.params if callspec is not None else {}
    expected = []
    claim, protocol = params.get("claim"), params.get("protocol")
    if isinstance(claim, Claim):
        expected += completeness.expected_for(claim, item.nodeid, protocol)
    registry = load_default()  # made once per revision
    for marker in item.iter_markers("claims"):
        also = [registry.get(claim_id) for claim_id in marker.args]
        if (prop := marker.kwargs.get("same_method")) and isinstance(claim, Claim):
            also += registry.select(prop, method=claim.method)
        for other in also:
            expected += completeness.expected_for(other, item.nodeid)
    return expected


def _complete_claims(item: pytest.Item) -> None:
    """After a test's teardown: a claim it owes and nobody recorded in this session gets
    a result saying why (the test's skip reason, or its error), never nothing."""
    recorder = item.config.stash[RECORDER]
    session_results = recorder.run.results[item.config.stash[FIRST_RESULT]:]
    outcome, reason, evidence = item.stash.get(ENDING, (
        "error", "the test ended without recording a result for this claim", {}))
    if outcome == "error":
        reason = f"not recorded: {item.nodeid} ended first: {reason}"
    for want in completeness.missing(owed(item), session_results):
        recorder.add(completeness.placeholder(want, outcome, reason, evidence))


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")[:500]
    return str(getattr(report, "wasxfail", "") or longrepr or "skipped")[:500]


def _evidence(call: pytest.CallInfo[Any]) -> dict[str, Any]:
    """What a check saw that said nothing about its claim (:class:`NoObservation`)."""
    error = call.excinfo.value if call.excinfo is not None else None
    return error.evidence if isinstance(error, NoObservation) else {}


def _error_line(call: pytest.CallInfo[Any], report: pytest.TestReport) -> str:
    """The first line of the exception's message (not a traceback's last line)."""
    if call.excinfo is not None:
        text = str(call.excinfo.value).strip()
        first = text.splitlines()[0] if text else call.excinfo.typename
        return f"{call.excinfo.typename}: {first}"[:500]
    return str(report.longrepr).strip().splitlines()[-1][:500]


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Before the run record is handed over or saved (the plugin's own sessionfinish)."""
    if not session.config.option.collectonly:
        _one_result_per_claim(session, session.config.stash[RECORDER])


def _one_result_per_claim(session: pytest.Session, recorder: Recorder) -> None:
    """Every claim the session's tests owe ends with exactly one result per protocol:
    tests that never reached their teardown (stopped session) get an error naming the
    test; duplicates are folded (harness.results.completeness)."""
    items = session.items
    if workers.worker_id(session.config) is not None:  # the others are other workers'
        items = [item for item in items if item.nodeid in session.config.stash[STARTED]]
    wanted = {(w.claim.id, w.protocol): w for item in items for w in owed(item)}
    first = session.config.stash[FIRST_RESULT]
    session_results = recorder.run.results[first:]
    for want in completeness.missing(wanted.values(), session_results):
        recorder.add(completeness.placeholder(
            want, "error", f"not recorded: the session ended before {want.test} finished"))
    session_results = recorder.run.results[first:]
    completeness.merge_duplicates(wanted.values(), session_results)
    recorder.run.results[first:] = session_results
