"""Ratio statistics, verdicts and /proc parsing of the benchmarks (no lab needed)."""

from __future__ import annotations

import pytest

from harness.bench import procstat, verdict
from harness.bench.stats import RatioSummary, bootstrap_interval, paired_ratios, summarize


def summary(median: float, low: float, high: float, rounds: int = 5) -> RatioSummary:
    return RatioSummary(median, low, high, rounds, (median,) * rounds)


def test_paired_ratios_use_the_same_round_only() -> None:
    values = {1: 5.0, 2: 8.0, 3: 9.0}
    reference = {1: 10.0, 2: 10.0, 4: 10.0}
    assert paired_ratios(values, reference) == [0.5, 0.8]


def test_a_zero_reference_is_left_out() -> None:
    assert paired_ratios({1: 1.0, 2: 2.0}, {1: 0.0, 2: 4.0}) == [0.5]


def test_summary_median_and_interval() -> None:
    ratios = [0.9, 1.0, 1.1, 0.95, 1.05]
    s = summarize({i: r for i, r in enumerate(ratios)}, dict.fromkeys(range(5), 1.0))
    assert s is not None
    assert s.median == pytest.approx(1.0)
    assert min(ratios) <= s.low <= s.median <= s.high <= max(ratios)
    assert s.rounds == 5


def test_bootstrap_is_reproducible_and_narrows_with_agreement() -> None:
    spread = bootstrap_interval([0.5, 0.7, 0.9, 1.1, 1.3])
    tight = bootstrap_interval([0.99, 1.0, 1.0, 1.01, 1.0])
    assert spread == bootstrap_interval([0.5, 0.7, 0.9, 1.1, 1.3])
    assert (tight[1] - tight[0]) < (spread[1] - spread[0])


def test_one_value_gives_a_point_and_none_is_refused() -> None:
    assert bootstrap_interval([0.8]) == (0.8, 0.8)
    with pytest.raises(ValueError):
        bootstrap_interval([])
    assert summarize({}, {1: 1.0}) is None


def test_native_holds_contradicted_inconclusive() -> None:
    near = {"inbound/tcp": summary(0.98, 0.93, 1.02), "inbound/udp": summary(1.0, 0.95, 1.1)}
    assert verdict.native(near).observed is True
    slow = {**near, "inbound-reverse/tcp": summary(0.4, 0.3, 0.5)}
    assert verdict.native(slow).observed is False
    straddles = {**near, "inbound-reverse/tcp": summary(0.9, 0.7, 1.0)}
    result = verdict.native(straddles)
    assert result.observed is None and result.reason.startswith("inconclusive")


def test_faster_than_native_counts_as_native() -> None:
    assert verdict.native({"inbound/tcp": summary(1.5, 1.2, 2.0)}).observed is True


def test_too_few_rounds_is_inconclusive_even_when_far_from_native() -> None:
    result = verdict.native({"inbound/tcp": summary(0.1, 0.1, 0.1, rounds=1)})
    assert result.observed is None and "fewer than" in result.reason


def test_improvement_verdicts() -> None:
    better = {"inbound/tcp": summary(1.4, 1.2, 1.6), "inbound-reverse/tcp": summary(1, .9, 1.1)}
    assert verdict.improves(better).observed is True
    same = {"inbound/tcp": summary(1.0, 0.95, 1.03)}
    assert verdict.improves(same).observed is False
    unclear = {"inbound/tcp": summary(1.1, 0.9, 1.3)}
    assert verdict.improves(unclear).observed is None


STAT = """100
412 (pasta.avx2) S 1 412 412 0 -1 4194560 900 0 0 0 150 50 0 0 20 0 1 0 500 0 0
413 (sleep) S 1 413 413 0 -1 4194560 900 0 0 0 999 999 0 0 20 0 1 0 500 0 0
414 (rootlessport-ch) S 1 414 414 0 -1 4194560 900 0 0 0 20 10 0 0 20 0 1 0 500 0 0
415 (we ird) name) S 1 415 415 0 -1 4194560 900 0 0 0 1 1 0 0 20 0 1 0 500 0 0
"""


def test_procstat_parses_forwarders_only() -> None:
    found = procstat.parse(STAT)
    assert found == {412: ("pasta", 2.0), 414: ("rootlessport", 0.3)}


def test_procstat_delta_and_per_gigabyte() -> None:
    before = {412: ("pasta", 2.0)}
    after = {412: ("pasta", 3.5), 500: ("conmon", 0.25)}
    spent = procstat.delta(before, after)
    assert spent == {"pasta": 1.5, "conmon": 0.25}
    assert procstat.per_gigabyte(spent, 2_000_000_000) == pytest.approx(0.875)
    assert procstat.per_gigabyte(spent, 0) is None


def test_rounds_that_fall_into_two_states_are_split() -> None:
    from harness.bench.stats import split_rounds

    assert split_rounds([0.276, 0.720, 0.744, 0.711, 0.771]) == ((0.276, 0.276),
                                                                   (0.711, 0.771))
    assert split_rounds([0.30, 0.31, 0.29, 0.33, 0.32]) is None
    assert split_rounds([0.004, 0.002, 0.005]) == ((0.002, 0.002), (0.004, 0.005))
    assert split_rounds([0.5]) is None
    s = summarize({1: 0.3, 2: 0.7, 3: 0.72}, dict.fromkeys((1, 2, 3), 1.0))
    assert s is not None and s.as_dict()["split"] == [[0.3, 0.3], [0.7, 0.72]]


def test_the_report_marks_a_split_ratio() -> None:
    from harness.bench.summary import PerformanceSummary
    from harness.reports.perf import RATIO_HEADER, ratio_rows

    summary = {"ratios": [
        {"method": "pasta", "direction": "inbound", "protocol": "tcp", "median": 0.7,
         "low": 0.3, "high": 0.72, "rounds": 3, "split": [[0.3, 0.3], [0.7, 0.72]]},
        {"method": "host", "direction": "inbound", "protocol": "tcp", "median": 1.0,
         "low": 0.98, "high": 1.02, "rounds": 5}]}
    rows = ratio_rows(PerformanceSummary.from_dict(summary))
    column = RATIO_HEADER.index("rounds")
    assert rows[0][column] == "3 ⚠ split: 0.300 and 0.700 to 0.720"
    assert rows[1][column] == "5"
