"""The native reference's check, the forwarders' byte counters and the machine's state
around a measurement (no lab needed: readings recorded in the lab, figures as iperf3
reported them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.bench import procstat, reference
from harness.bench.stats import RatioSummary
from harness.bench.summary import PerfRatio
from harness.results.schema import Measurement

PROCS = Path(__file__).parent / "fixtures" / "procs"


def usage(name: str) -> procstat.Usage:
    return procstat.parse_usage((PROCS / name).read_text())


# --- readings of the lab ----------------------------------------------------------------

def test_a_reading_has_the_forwarders_bytes_and_the_machine() -> None:
    # Recorded on host1 around 2 s of iperf3 through pasta at 3.47 Gbit/s (load 19).
    before, after = usage("usage-pasta-before.txt"), usage("usage-pasta-after.txt")
    assert after.forwarders[720] == ("pasta", 0.48)
    assert after.io[720][1] > before.io[720][1]
    assert after.machine is not None and after.machine.load1 == pytest.approx(18.56)
    carried = procstat.carried_bytes(before, after)
    # pasta wrote what it carried to the tap: the transfer's ~0.87 GB and its headers.
    assert 0.85e9 < carried["pasta"] < 0.95e9
    # conmon relays logs, not network bytes.
    assert "conmon" not in carried


def test_the_machine_share_of_a_busy_reading() -> None:
    before, after = usage("usage-pasta-before.txt"), usage("usage-pasta-after.txt")
    share = procstat.machine_share(before, after)
    assert share is not None
    assert share.lab is not None and share.outside is not None
    # 19 runnable tasks on 2 CPUs: most of the machine did other work than the lab's.
    assert share.outside > 0.5 > share.lab
    assert 0 <= share.irq < 0.1 and 0 <= share.steal < 0.01
    # The client's own CPU time belongs to the measurement, not to the outside.
    less = procstat.machine_share(before, after, client_seconds=0.3)
    assert less is not None and less.outside is not None and less.outside < share.outside


def test_a_forwarder_that_carried_nothing_and_a_new_one() -> None:
    before = procstat.Usage({5: ("pasta", 1.0)}, 1.0, {5: (100, 200)})
    after = procstat.Usage({5: ("pasta", 1.0), 9: ("slirp4netns", 0.2)}, 1.0,
                           {5: (150, 260), 9: (4000, 10)})
    # A process that started between the readings counts from zero.
    assert procstat.carried_bytes(before, after) == {"pasta": 60, "slirp4netns": 4000}


def test_a_reading_without_io_or_machine_sections() -> None:
    old = "usage_usec 4293455\n--- proc\n100\n"
    found = procstat.parse_usage(old)
    assert found.io == {} and found.machine is None
    assert procstat.machine_share(found, found) is None


# --- the reference check ----------------------------------------------------------------

def native(round_no: int, rate: float, *, retransmits: int = 0, client: float = 30.0,
           server: float = 25.0, direction: str = "inbound") -> Measurement:
    seconds = 2.0
    return Measurement("throughput", "native", rate, "bit/s", direction, "tcp", round_no,
                       {"tool": "iperf3", "bytes": int(rate * seconds / 8), "seconds": seconds,
                        "retransmits": retransmits, "cpu_host_percent": client,
                        "cpu_remote_percent": server})


def rounds(rates: list[tuple[float, float]], **extra: float | int) -> list[Measurement]:
    """Two reference measurements per round, as the schedule takes them."""
    return [m for i, (a, b) in enumerate(rates, 1)
            for m in (native(i, a, **extra), native(i, b, **extra))]  # type: ignore[arg-type]


STEADY = [(10e9, 10.2e9), (9.9e9, 10.1e9), (10.1e9, 10.0e9), (10e9, 9.8e9), (10.3e9, 10.1e9)]


def test_a_steady_reference_is_trusted() -> None:
    found = reference.check(rounds(STEADY, retransmits=2), {}, margin=0.10)
    assert found.trusted, found.problems
    (combo,) = found.combos
    assert combo.combo == "inbound/tcp" and combo.rounds == 5
    assert combo.repeat is not None and abs(combo.repeat.median - 1) < 0.05
    assert combo.retransmitted is not None and combo.retransmitted < 1e-5


def test_a_reference_that_retransmits_is_in_doubt() -> None:
    # The plain iperf3 over the lab's veth: 11.5 Gbit/s, 19,466 retransmissions
    # in 5 s, i.e. 0.4% of its segments.
    lossy = [native(i, 11.5e9, retransmits=19466 * 2 // 5) for i in (1, 2, 3)]
    found = reference.check(lossy, {}, margin=0.10)
    assert not found.trusted
    assert "retransmitted" in found.problems[0]
    assert found.combos[0].retransmitted == pytest.approx(0.0039, rel=0.05)


def test_a_cpu_bound_end_is_in_doubt() -> None:
    found = reference.check(rounds(STEADY, server=97.0), {}, margin=0.10)
    assert [p for p in found.problems if "server used 97%" in p]
    assert not [p for p in found.problems if "client" in p]


def test_a_reference_that_does_not_repeat_is_in_doubt() -> None:
    jumpy = [(10e9, 6e9), (5e9, 9e9), (10e9, 7e9), (8e9, 11e9), (9e9, 5e9)]
    found = reference.check(rounds(jumpy), {}, margin=0.10)
    assert any("second over the first" in p for p in found.problems)
    # The same spread within a wider margin is accepted: the margin decides, stated.
    assert reference.check(rounds(STEADY), {}, margin=0.10).trusted


def ratio(method: str, median: float, low: float, high: float) -> PerfRatio:
    return PerfRatio.of(method, "inbound", "tcp", "native",
                        RatioSummary(median, low, high, 5, (median,) * 5))


def test_a_method_faster_than_the_reference_is_a_finding_about_it() -> None:
    # The quiet-machine run: pasta inbound 1.30 [1.24, 1.41] of native.
    ratios = [ratio("pasta", 1.30, 1.24, 1.41), ratio("host", 1.02, 0.95, 1.08)]
    found = reference.check(rounds(STEADY), ratios, margin=0.10)
    assert not found.trusted
    assert [a.method for a in found.above] == ["pasta"]
    assert "reference fell short" in found.problems[-1]
    record = found.to_dict()
    assert record["trusted"] is False and record["above_reference"][0]["median"] == 1.30


def test_a_method_whose_interval_reaches_1_is_not_above_it() -> None:
    ratios = [ratio("host", 1.08, 0.99, 1.2)]
    assert reference.check(rounds(STEADY), ratios, margin=0.10).above == []


def test_links_of_ip_json() -> None:
    text = ('[{"ifname": "lo", "mtu": 65536}, {"ifname": "eth0", "mtu": 1500, '
            '"qdisc": "noqueue", "gso_max_size": 65536, "gro_max_size": 65536, '
            '"tso_max_size": 524280, "operstate": "UP"}]')
    assert reference.links(text) == {"eth0": {"mtu": 1500, "gso_max_size": 65536,
                                              "gro_max_size": 65536, "tso_max_size": 524280,
                                              "qdisc": "noqueue"}}
    assert reference.links("not json") == {}


def test_the_report_states_the_reference_and_its_doubt_first() -> None:
    from harness.bench.summary import PerformanceSummary
    from harness.reports.perf import reference_paragraphs

    ratios = [ratio("pasta", 1.30, 1.24, 1.41)]
    checked = reference.check(rounds(STEADY), ratios, margin=0.10,
                              setup={"cpu_placement": "the scheduler's"})
    # Written to run.json and read back, as a report reads it.
    record = PerformanceSummary(reference=checked.to_dict()).to_dict()
    what, doubt = reference_paragraphs(PerformanceSummary.from_dict(record))
    assert "cpu placement: the scheduler's" in what and "native inbound/tcp" in what
    assert doubt.startswith("⚠ The reference is in doubt") and "pasta inbound/tcp" in doubt
    trusted = reference.check(rounds(STEADY), {}, margin=0.10).to_dict()
    assert reference_paragraphs(PerformanceSummary(reference=trusted))[1].startswith(
        "Reference check passed")
    assert reference_paragraphs(PerformanceSummary()) == []
