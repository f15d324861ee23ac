"""Findings beyond the guide: which ratios become findings, how they are kept in the run
record, and the report section a reader files an upstream bug from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.bench.findings import SLOW, Finding
from harness.bench.stats import RatioSummary
from harness.bench.summary import PerformanceSummary, PerfRatio
from harness.bench.throughput import detect
from harness.markup import to_html, to_markdown
from harness.reports import findings as report
from harness.reports.markdown import render as markdown
from harness.results.schema import Run

FIXTURE = Path(__file__).parent / "fixtures" / "runs" / "findings-performance.json"


def ratio(method: str, values: tuple[float, ...], direction: str = "outbound") -> PerfRatio:
    ordered = sorted(values)
    summary = RatioSummary(ordered[len(ordered) // 2], ordered[0], ordered[-1], len(values),
                           values)
    return PerfRatio.of(method, direction, "tcp", "native", summary)


def test_slow_and_split_ratios_are_findings_slowest_first() -> None:
    found = detect([ratio("host", (0.97, 1.0, 1.02)),
                    ratio("slirp", (0.09, 0.08, 0.085)),
                    ratio("pasta", (0.002, 0.0021, 0.0019)),
                    ratio("custom", (0.4, 0.41, 0.9, 0.92))])
    assert [(f.method, f.kinds) for f in found] == [
        ("pasta", ("slow",)), ("slirp", ("slow",)), ("custom", ("split",))]
    assert found[2].split == ((0.4, 0.41), (0.9, 0.92))


def test_the_threshold_is_a_tenth_of_native() -> None:
    assert SLOW == 0.1
    assert detect([ratio("a", (0.1, 0.1, 0.1))]) == []
    assert [f.kinds for f in detect([ratio("a", (0.099, 0.099, 0.099))])] == [("slow",)]


def test_a_ratio_both_slow_and_split_is_one_finding_of_both_kinds() -> None:
    (finding,) = detect([ratio("pasta", (0.002, 0.0021, 0.02, 0.021))])
    assert finding.kinds == ("slow", "split")
    assert "0.020 to 0.021 of native" in finding.headline() and "slower" in finding.headline()


def test_headline_names_method_direction_and_how_much_slower() -> None:
    (finding,) = detect([ratio("pasta", (0.002, 0.0021, 0.0019))])
    assert finding.headline() == (
        "pasta, outbound/tcp (the container sends to a remote host (it connects out)): "
        "0.0020 of native, 500 times slower (interval 0.0019 to 0.0021, 3 rounds)")


def test_round_trip_through_the_run_record() -> None:
    (finding,) = detect([ratio("pasta", (0.002, 0.03, 0.0019))])
    kept = finding.with_evidence({"rounds": {"measurements": 3}})
    back = findings_of(json.loads(json.dumps({"findings": [kept.to_dict()]})))
    assert back == [kept]


@pytest.mark.parametrize("summary", [None, [], {}, {"findings": "x"},
                                     {"findings": [{"method": "pasta"}, 3, None]}])
def test_unreadable_findings_are_left_out(summary: Any) -> None:
    assert findings_of(summary) == []


def findings_of(summary: Any) -> list[Finding]:
    return PerformanceSummary.from_dict(summary).findings


# --- the report section, on a performance summary recorded in the lab ------------------

def recorded() -> tuple[PerformanceSummary, dict[str, Any]]:
    data = json.loads(FIXTURE.read_text())
    return PerformanceSummary.from_dict(data["performance"]), data["environment"]


def test_recorded_summary_has_the_pasta_outbound_finding() -> None:
    summary, _ = recorded()
    found = {f.key: f for f in summary.findings}
    pasta = found[("pasta", "outbound", "tcp")]
    assert pasta.median < SLOW and "slow" in pasta.kinds
    assert pasta.evidence["capture"]["tcp"]["sack_negotiated"] is False


def test_section_lists_versions_counters_mtu_capture_and_how_to_reproduce() -> None:
    summary, environment = recorded()
    sections = report.sections(summary, environment)
    pasta = next(s for s in sections if ". pasta, outbound/tcp" in s.title)
    text = "\n".join(pasta.lines)
    for expected in ("podman 5.4.2", "pasta 2025-05-03", "kernel ", "congestion control",
                     "retransmissions", "Container interface counters", "dropped",
                     "qdisc drops", "MTU on the path: container eth0 65520",
                     "SACK not negotiated", "SYN-ACK: MSS", "duplicate ACKs",
                     "like a retransmission timeout", "fast retransmit needs 3"):
        assert expected in text, expected
    short = pasta.lines[0]
    assert short.startswith("In short: the captured transfer was stalled")
    assert "too few for fast retransmit" in short
    assert "pasta's SYN-ACK offers no SACK and no timestamps" in short
    assert "the container's interface dropped and queued nothing" in short
    assert any("--network=pasta:--pcap," in c for c in pasta.commands)
    assert pasta.commands[0].startswith("# on the remote host: iperf3 -s -p ")


def test_markdown_puts_findings_first() -> None:
    summary, environment = recorded()
    run = Run("20261128T160000Z-abcdef", 0.0, environment=environment,
              summaries={"performance": summary})
    text = markdown(run, [])
    assert text.index("## Findings beyond the guide") < text.index("## The guide's tables")
    assert "```\n# on the remote host: iperf3 -s -p" in text


def test_html_fragment_escapes_and_marks_each_finding() -> None:
    summary, environment = recorded()
    html = html_of(summary, environment)
    assert html.startswith('<h2 id="findings">Findings beyond the guide</h2>')
    assert html.count('<section class="finding">') == len(summary.findings)
    assert "<pre>" in html and "&lt;" not in report.INTRO


def test_no_findings_no_section() -> None:
    assert md_of(PerformanceSummary()) == []
    assert html_of(PerformanceSummary()) == ""


def test_missing_evidence_is_said_not_hidden() -> None:
    (finding,) = detect([ratio("pasta", (0.002, 0.0021, 0.0019))])
    spent = finding.with_evidence({"not_gathered": ["capture: the evidence budget of 30 s "
                                                    "was spent"],
                                   "errors": {"interface": "podman exec: no such container"}})
    lines = report.sections(PerformanceSummary(findings=[spent]))[0].lines
    assert "Not gathered: capture: the evidence budget of 30 s was spent." in lines
    assert "Evidence step interface failed: podman exec: no such container" in lines


def test_in_short_says_when_the_capture_did_not_show_the_slow_state() -> None:
    (finding,) = detect([ratio("pasta", (0.002, 0.0021, 0.0019), direction="inbound")])
    healthy = {"sack_negotiated": False, "syn": {"sack": False, "timestamps": False},
               "syn_ack": {"sack": False}, "timeout_gaps": [], "retransmissions": 0,
               "seconds": 0.02}
    lines = report.sections(PerformanceSummary(findings=[
        finding.with_evidence({"capture": {"tcp": healthy}})]))[0].lines
    assert lines[0] == ("In short: SACK was not negotiated: pasta's SYN offers no SACK and "
                        "no timestamps; the captured transfer did not show the slow state.")


def test_counts_say_how_many_findings_of_each_kind() -> None:
    found = detect([ratio("pasta", (0.002, 0.0021, 0.0019)),
                    ratio("custom", (0.4, 0.41, 0.9, 0.92))])
    summary = PerformanceSummary(findings=found)
    assert report.counts(summary) == (
        "2 findings: 1 below 0.1 of native, 1 split into two states only.")
    assert md_of(summary)[2].endswith(report.counts(summary))


def md_of(*args: object) -> list[str]:
    return to_markdown(report.blocks(*args))  # type: ignore[arg-type]


def html_of(*args: object) -> str:
    return to_html(report.blocks(*args))  # type: ignore[arg-type]
