"""A contradiction of the guide fails by default, or is an expected failure with
--mismatch=xfail; either way it is recorded as failed in the run record."""

import json

import pytest

pytest_plugins = ("pytester",)

SUITE = """
from harness.claims import load_default

def test_contradiction(recorder):
    claim = load_default().get("inbound.source-address.pasta")
    recorder.check(claim, not claim.expected, evidence={"observed_peer": "10.0.2.100"})
"""


@pytest.mark.parametrize(("mode", "outcome"), [("fail", {"failed": 1}), ("xfail", {"xfailed": 1})])
def test_mismatch_mode(pytester: pytest.Pytester, mode: str, outcome: dict[str, int]) -> None:
    pytester.makepyfile(SUITE)
    results = pytester.path / "results"
    run = pytester.runpytest("-p", "podnet", "-p", "no:cacheprovider", f"--mismatch={mode}",
                             f"--results-dir={results}", "--run-id=r1")
    run.assert_outcomes(**outcome)
    record = json.loads((results / "r1" / "run.json").read_text())
    (result,) = record["results"]
    assert result["outcome"] == "failed"
    assert result["claim_id"] == "inbound.source-address.pasta"
    assert result["evidence"] == {"observed_peer": "10.0.2.100"}
