"""Comparing recorded runs: claims that changed state, performance beyond tolerance."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from harness import cli
from harness.errors import UsageError
from harness.options import tolerance
from harness.reports import Comparison, compare_runs
from harness.results import store
from harness.results.schema import Measurement, Run
from tests import recorded

FIXTURES = Path(__file__).parent / "fixtures" / "runs"


@pytest.fixture
def base() -> Run:
    return store.load(FIXTURES / "base")


@pytest.fixture
def new() -> Run:
    return Run.from_dict(recorded.new_record())


def test_fixtures_differ_in_one_claim_and_one_ratio(base: Run, new: Run) -> None:
    comparison = compare_runs(base, new, 0.10)
    assert [(c.claim_id, c.protocol, c.before, c.after) for c in comparison.claims] == [
        ("inbound.source-address.pasta", "udp", "passed", "failed")]
    assert [(p.kind, p.method, p.direction, p.protocol) for p in comparison.performance] == [
        ("latency", "pasta", "inbound", "tcp")]
    perf = comparison.performance[0]
    assert perf.relative > 0.5 and perf.regression
    assert len(comparison.regressions) == 2
    assert comparison.only_base == comparison.only_new == []


def test_a_run_compared_with_itself_has_no_changes(base: Run) -> None:
    comparison = compare_runs(base, copy.deepcopy(base), 0.0)
    assert comparison.claims == comparison.performance == []
    assert not comparison.regressions
    assert "0 regressions" in comparison.to_text()
    assert "✅ no regressions" in comparison.to_markdown()


def test_the_reverse_is_an_improvement(base: Run, new: Run) -> None:
    comparison = compare_runs(new, base, 0.10)
    assert [(c.before, c.after, c.regression) for c in comparison.claims] == [
        ("failed", "passed", False)]
    assert [p.regression for p in comparison.performance] == [False]
    assert not comparison.regressions


def test_a_change_within_tolerance_is_not_reported(base: Run, new: Run) -> None:
    assert compare_runs(base, new, 0.70).performance == []


def test_overlapping_intervals_are_not_reported(base: Run, new: Run) -> None:
    widened = copy.deepcopy(new)
    for entry in widened.summaries["performance"]["ratios"]:
        entry["low"] = 0.5
    assert compare_runs(base, widened, 0.10).performance == []


def test_text_and_markdown(base: Run, new: Run) -> None:
    comparison = compare_runs(base, new, 0.10)
    text = comparison.to_text()
    assert "REGRESSION inbound.source-address.pasta [udp]: passed -> failed" in text
    assert "REGRESSION latency pasta inbound tcp: 0.983" in text
    assert text.endswith("2 regressions")
    md = comparison.to_markdown()
    assert md.startswith("### podnet compare: ❌ 2 regressions")
    assert "| `inbound.source-address.pasta` | udp | passed | failed |  | ⚠ regression |" in md
    assert "| latency pasta inbound tcp | 0.983 [0.881, 1.09] | 1.57 [1.41, 1.74] | +60.0% |" in md


def test_claims_in_only_one_run_are_listed(base: Run, new: Run) -> None:
    fewer = copy.deepcopy(new)
    fewer.results = [r for r in fewer.results if r.method != "host"]
    comparison = compare_runs(base, fewer, 0.10)
    assert comparison.only_base == ["inbound.source-address.host [tcp]",
                                    "inbound.source-address.host [udp]"]


def test_every_change_is_reported_and_passed_to_undecided_is_a_regression(base: Run) -> None:
    assert [r.outcome for r in base.results[:2]] == ["passed", "passed"]
    for after in ("error", "skipped", "not_applicable", "inconclusive", "unsupported"):
        changed = copy.deepcopy(base)
        changed.results[0].outcome, changed.results[0].reason = after, "pasta is not installed"
        (change,) = compare_runs(base, changed, 0.1).claims
        assert (change.before, change.after, change.regression) == ("passed", after, True)


def test_a_change_between_undecided_outcomes_is_reported_not_a_regression(base: Run) -> None:
    skipped, unsupported = copy.deepcopy(base), copy.deepcopy(base)
    skipped.results[0].outcome, skipped.results[0].reason = "skipped", "no host3"
    unsupported.results[0].outcome = "unsupported"
    unsupported.results[0].reason = "slirp4netns support has been removed"
    (change,) = compare_runs(skipped, unsupported, 0.1).claims
    assert (change.before, change.after, change.regression) == ("skipped", "unsupported", False)
    assert "(slirp4netns support has been removed)" in compare_runs(
        skipped, unsupported, 0.1).to_text()


def test_the_same_reason_in_both_runs_is_no_regression(base: Run) -> None:
    """passed -> skipped is a regression unless both runs give the same reason."""
    before, after = copy.deepcopy(base), copy.deepcopy(base)
    before.results[0].reason = after.results[0].reason = "quick mode: one round"
    after.results[0].outcome = "skipped"
    (change,) = compare_runs(before, after, 0.1).claims
    assert not change.regression


def _recorded(tmp_path: Path, name: str, run: Run) -> str:
    run.run_id = name
    return str(store.save(run, tmp_path / name).parent)


def test_compare_command_exits_1_naming_a_claim_that_went_passed_to_skipped(
        base: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    skipped = copy.deepcopy(base)
    claim = skipped.results[0]
    claim.outcome, claim.observed, claim.reason = "skipped", None, "pasta is not installed"
    paths = [_recorded(tmp_path, "a", copy.deepcopy(base)), _recorded(tmp_path, "b", skipped)]
    assert cli.main(["compare", *paths]) == 1
    out = capsys.readouterr().out
    label = f"{claim.claim_id} [{claim.protocol}]"
    assert f"REGRESSION {label}: passed -> skipped (pasta is not installed)" in out
    assert out.rstrip().endswith("1 regression")
    assert cli.main(["compare", paths[0], paths[0]]) == 0


def test_compare_warns_when_the_environments_differ(base: Run) -> None:
    other = copy.deepcopy(base)
    other.environment["versions"]["podman"] = "6.1.1"
    other.environment["cpu"] = "Intel Xeon"
    other.podnet = {"version": "0.2.0", "commit": "0123456789abcdef"}
    comparison = compare_runs(base, other, 0.1)
    assert [(e.name, e.before, e.after) for e in comparison.environment] == [
        ("podman", "5.4.2", "6.1.1"), ("machine", "AMD EPYC", "Intel Xeon"),
        ("podnet", "unknown", "0.2.0 (commit 0123456789ab)")]
    assert ("warning: the runs' environments differ, so a change may come from them: "
            "podman 5.4.2 -> 6.1.1; machine AMD EPYC -> Intel Xeon") in comparison.to_text()
    assert "| podman | 5.4.2 | 6.1.1 |" in comparison.to_markdown()
    assert compare_runs(base, copy.deepcopy(base), 0.1).environment_warning == ""


def run_with(samples: list[tuple[str, float]], kind: str = "throughput") -> Run:
    return Run("r", 0.0, measurements=[
        Measurement(kind=kind, method=m, value=v, unit="Gbit/s", direction="inbound",
                    protocol="tcp", round=i) for i, (m, v) in enumerate(samples)])


def test_without_summaries_raw_samples_are_compared() -> None:
    base = run_with([("pasta", 10.0), ("pasta", 11.0), ("pasta", 10.5)])
    slower = run_with([("pasta", 6.0), ("pasta", 6.5), ("pasta", 7.0)])
    comparison = compare_runs(base, slower, 0.1)
    assert [(p.method, p.base, p.new, p.regression) for p in comparison.performance] == [
        ("pasta", 10.5, 6.5, True)]
    # higher latency is worse
    lat = compare_runs(run_with([("pasta", 1.0), ("pasta", 1.1)], "latency"),
                       run_with([("pasta", 2.0), ("pasta", 2.1)], "latency"), 0.1)
    assert [p.regression for p in lat.performance] == [True]


def test_summary_ratios_are_compared() -> None:
    def ratio(median: float) -> dict[str, object]:
        return {"method": "pasta", "direction": "inbound", "protocol": "tcp",
                "median": median, "low": median - 0.05, "high": median + 0.05}

    base = Run("a", 0.0, summaries={"performance": {"ratios": [ratio(0.8)]}})
    new = Run("b", 0.0, summaries={"performance": {"ratios": [ratio(0.5)]}})
    comparison = compare_runs(base, new, 0.1)
    assert [(p.method, p.new, p.regression) for p in comparison.performance] == [
        ("pasta", 0.5, True)]


def test_unreadable_summaries_are_ignored() -> None:
    odd = Run("a", 0.0, summaries={"performance": {"ratios": [1, "x", {"method": "p"}]}})
    assert isinstance(compare_runs(odd, odd, 0.1), Comparison)
    assert compare_runs(odd, Run("b", 0.0, summaries={"performance": "?"}), 0.1).performance == []


@pytest.mark.parametrize(("text", "value"), [
    ("10%", 0.10), ("0.1", 0.1), ("5 %", 0.05), ("0", 0.0), (".25", 0.25), (0.2, 0.2)])
def test_parse_tolerance(text: str, value: float) -> None:
    assert tolerance(text, "--tolerance") == pytest.approx(value)


@pytest.mark.parametrize("text", ["", "ten", "-5%", "10%%", "1e-1", "50"])
def test_parse_tolerance_rejects(text: str) -> None:
    with pytest.raises(UsageError, match="tolerance"):
        tolerance(text, "--tolerance")


def test_agreement_is_relative_to_the_mean_with_an_optional_floor(base: Run) -> None:
    from harness.reports.compare import agreement

    def run(ratios: dict[str, float]) -> Run:
        copied = copy.deepcopy(base)
        copied.summaries["performance"] = {"ratios": [
            {"method": m, "direction": "inbound", "protocol": "tcp", "reference": "native",
             "median": r, "low": r, "high": r} for m, r in ratios.items()]}
        return copied

    a = run({"pasta": 0.60, "host": 1.00, "stall": 0.004})
    b = run({"pasta": 0.66, "host": 1.12, "stall": 0.006})
    strict = agreement(a, b, 0.10)
    assert [(p.label, p.agrees) for p in strict.pairs] == [
        ("host inbound tcp", False), ("pasta inbound tcp", True), ("stall inbound tcp", False)]
    assert strict.pairs[1].relative == pytest.approx(0.06 / 0.63)
    assert "1 of 3 agree" in strict.to_text()
    floored = agreement(a, b, 0.10, floor=0.01)
    assert [p.label for p in floored.disagreements] == ["host inbound tcp"]
