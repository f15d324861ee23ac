"""Evidence gathering for findings (harness/bench/evidence.py), against a fake target and
client that answer with readings recorded in the lab: interface counters, links, the
capture of a stalled pasta transfer and of a healthy one, iperf3's JSON."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from harness.bench import evidence
from harness.bench.findings import Finding
from harness.bench.progress import BenchProgress
from harness.bench.servers import Endpoints
from harness.bench.throughput import NATIVE, Probe, Sample
from harness.errors import PodnetError
from harness.results.schema import Measurement
from harness.run import Completed

FIXTURES = Path(__file__).parent / "fixtures"
COUNTERS = (FIXTURES / "ifstats" / "pasta-container.txt").read_text()
HOST1 = (FIXTURES / "ifstats" / "host1.txt").read_text()
STALL = FIXTURES / "pcap" / "pasta-outbound-stall.pcap"
HEALTHY = FIXTURES / "pcap" / "pasta-inbound-healthy.pcap"
IPERF3 = (FIXTURES / "iperf3" / "tcp-3.12-native.json").read_text()


def done(stdout: str = "", code: int = 0) -> Completed:
    return Completed(("fake",), code, stdout, "", 0.0)


class FakeTarget:
    home, main_address = "/home/test", "192.0.2.1"

    def __init__(self, captures: list[Path], broken_exec: bool = False,
                 seconds_per_command: float = 0.0) -> None:
        self.captures = captures
        self.broken_exec = broken_exec
        self.commands: list[tuple[str, ...]] = []
        #: A clock that each command moves on.
        self.now = 0.0
        self.step = seconds_per_command

    def clock(self) -> float:
        return self.now

    def podman(self, *args: str, check: bool = True, timeout: float | None = 120) -> Completed:
        self.commands.append(("podman", *args))
        self.now += self.step
        if args[0] == "exec":
            if self.broken_exec and check:
                raise PodnetError("podman exec: no such container")
            if "sh" in args:
                return done(COUNTERS)
            return done("bbr\n" if "cat" in args else COUNTERS.partition("\n--\n")[0])
        return done(IPERF3 if args[0] == "run" else "")

    def run(self, argv: list[str], check: bool = True, timeout: float | None = None
            ) -> Completed:
        self.commands.append(tuple(argv))
        self.now += self.step
        if argv[0] == "base64":
            return done(base64.b64encode(self.captures.pop(0).read_bytes()).decode())
        if argv[0] == "cat":
            return done("bbr\n")
        return done(HOST1.partition("\n--\n")[0] if argv[:2] == ["ip", "-j"] else "")

    def record_file(self, path: str) -> None:
        self.commands.append(("record", path))

    def remove_files(self, *paths: str) -> None:
        self.commands.append(("remove", *paths))


class FakeClient:
    name, address = "host2", "192.0.2.10"

    def run(self, argv: list[str], check: bool = True, timeout: float | None = None
            ) -> Completed:
        return done("cubic\n" if argv[0] == "cat" else HOST1.partition("\n--\n")[0])


def probe(method: str = "pasta", direction: str = "outbound") -> Probe:
    return Probe(method, direction, "tcp", "iperf3", NATIVE,
                 lambda seconds: Sample(16e6, 2_000_000, {"retransmits": 11}))


def finding(method: str = "pasta", direction: str = "outbound") -> Finding:
    return Finding(method, direction, "tcp", 0.0012, 0.0011, 0.0013, 5, ("slow",))


def samples() -> list[Measurement]:
    extra = {"seconds": 2.0, "retransmits": 60, "max_snd_cwnd": 737280, "mean_rtt_us": 35,
             "congestion": "bbr"}
    return ([Measurement("throughput", "pasta", 16e6 * r, "bit/s", "outbound", "tcp", r, extra)
             for r in (1, 2, 3)]
            + [Measurement("throughput", NATIVE, 14e9, "bit/s", "outbound", "tcp", r)
               for r in (1, 2, 3)]
            + [Measurement("throughput", "pasta", 0.0, "bit/s", "outbound", "tcp", 0)])


def gather(target: FakeTarget, tmp_path: Path, found: Finding | None = None,
           budget: float = 60.0, method: str = "pasta", **kw: Any) -> dict[str, Any]:
    found = found or finding(method)
    ends = Endpoints(containers={method: f"podnet-bench-{method}-abc"})
    (result,) = evidence.gather(target, FakeClient(), ends,  # type: ignore[arg-type]
                                [probe(method)], [found], samples(), seconds=2, budget=budget,
                                directory=tmp_path, **kw)
    return result.evidence


def test_round_figures_are_the_findings_own_measurements() -> None:
    figures = evidence.round_figures(samples(), ("pasta", "outbound", "tcp"))
    assert figures["measurements"] == 3  # the warm-up (round 0) left out
    assert figures["retransmits"] == [60, 60, 60]
    assert figures["retransmits_per_second"] == 30
    assert (figures["max_snd_cwnd"], figures["congestion"]) == ([737280] * 3, ["bbr"])


def test_every_step_for_a_pasta_outbound_finding(tmp_path: Path) -> None:
    target = FakeTarget([STALL])
    ev = gather(target, tmp_path)
    assert ev["reference_bits_per_second"] == 14e9
    assert ev["interface"]["measurement"]["retransmits"] == 11
    assert ev["interface"]["delta"]["eth0"]["tx_dropped"] == 0
    assert ev["mtu"] == {"container": {"eth0": 65520}, "host1": {"eth0": 1500, "eth1": 1500},
                         "host2": {"eth0": 1500, "eth1": 1500}}
    assert ev["congestion_control"] == {"container": "bbr", "host1": "bbr", "host2": "cubic"}
    capture = ev["capture"]
    assert capture["tcp"]["sack_negotiated"] is False
    assert capture["tcp"]["timeout_gaps"]
    assert len(capture["attempts"]) == 1  # the first capture showed the stall
    assert capture["command"].startswith("podman run --rm --network=pasta:--pcap,/home/test/")
    assert capture["peer_command"] == "iperf3 -s -p 5299"
    assert capture["iperf3"]["max_snd_cwnd"] == 2041680
    kept = tmp_path / capture["file"]
    assert kept.name == "pasta-outbound-tcp.pcap" and kept.stat().st_size < 20_000
    assert "not_gathered" not in ev and "errors" not in ev
    # The capture file on host1 is recorded before it is written, and removed.
    recorded = next(c for c in target.commands if c[0] == "record")
    assert ("remove", recorded[1]) in target.commands


def test_a_healthy_capture_is_repeated_until_it_shows_a_retransmission(tmp_path: Path) -> None:
    ev = gather(FakeTarget([HEALTHY, STALL]), tmp_path)
    attempts = ev["capture"]["attempts"]
    assert [a["retransmissions"] for a in attempts] == [0, ev["capture"]["tcp"]["retransmissions"]]
    assert attempts[1]["retransmissions"] > 0


def test_captures_stop_after_the_last_attempt(tmp_path: Path) -> None:
    ev = gather(FakeTarget([HEALTHY] * evidence.CAPTURE_ATTEMPTS), tmp_path)
    assert len(ev["capture"]["attempts"]) == evidence.CAPTURE_ATTEMPTS
    assert ev["capture"]["tcp"]["retransmissions"] == 0


def test_a_spent_budget_is_named_not_silent(tmp_path: Path) -> None:
    target = FakeTarget([STALL])
    ev = gather(target, tmp_path, budget=0.0)
    assert set(ev) == {"rounds", "reference_bits_per_second", "not_gathered", "seconds"}
    assert [s.split(":")[0] for s in ev["not_gathered"]] == [
        "interface", "mtu", "congestion_control", "capture"]
    assert target.commands == []


def test_other_networks_get_no_capture_and_say_why(tmp_path: Path) -> None:
    target = FakeTarget([])
    ev = gather(target, tmp_path, method="slirp4netns-slirp4netns")
    assert "pasta --pcap captures only" in ev["capture"]["note"]
    assert not any(c[:2] == ("podman", "run") for c in target.commands)


def test_a_failing_step_is_recorded_and_the_others_still_run(tmp_path: Path) -> None:
    ev = gather(FakeTarget([STALL], broken_exec=True), tmp_path)
    assert ev["errors"]["interface"] == "podman exec: no such container"
    assert ev["mtu"]["host1"] == {"eth0": 1500, "eth1": 1500}
    assert ev["capture"]["tcp"]["retransmissions"] > 0


def test_progress_is_reported_per_finding(tmp_path: Path) -> None:
    heard: list[BenchProgress] = []
    gather(FakeTarget([STALL]), tmp_path, report=heard.append)
    assert [(p.phase, p.method, p.combo, p.done, p.total) for p in heard] == [
        ("evidence", "pasta", f"outbound/tcp{step}", 0, 1)
        for step in ("", " (interface)", " (mtu)", " (congestion control)", " (capture)")]
    assert heard[0].seconds_left == pytest.approx(60.0, abs=1.0)


def test_a_finding_without_a_probe_keeps_its_round_figures(tmp_path: Path) -> None:
    lone = finding("pasta", "inbound")
    ev = gather(FakeTarget([]), tmp_path, found=lone)
    assert set(ev) == {"rounds"}


def test_no_finding_takes_more_than_its_cap(tmp_path: Path) -> None:
    """Healthy captures are repeated only while the first finding's FINDING_SECONDS last,
    though the budget would allow more; the second finding still gets its evidence."""
    target = FakeTarget([HEALTHY, STALL], seconds_per_command=2.0)
    ends = Endpoints(containers={"pasta": "podnet-bench-pasta-abc"})
    first, second = evidence.gather(
        target, FakeClient(), ends, [probe(), probe(direction="outbound-reverse")],  # type: ignore[arg-type]
        [finding(), finding(direction="outbound-reverse")], samples(), seconds=2,
        budget=60.0, directory=tmp_path, clock=target.clock)
    assert first.evidence["seconds"] <= evidence.FINDING_SECONDS
    assert len(first.evidence["capture"]["attempts"]) == 1
    assert first.evidence["capture"]["not_repeated"].startswith("this finding's share")
    assert "interface" in second.evidence
    assert second.evidence["capture"]["tcp"]["retransmissions"] > 0


def test_most_limits_the_findings_that_get_steps_on_the_lab(tmp_path: Path) -> None:
    target = FakeTarget([STALL])
    ends = Endpoints(containers={"pasta": "podnet-bench-pasta-abc"})
    first, second = evidence.gather(
        target, FakeClient(), ends, [probe(), probe(direction="outbound-reverse")],  # type: ignore[arg-type]
        [finding(), finding(direction="outbound-reverse")], samples(), seconds=2,
        budget=60.0, directory=tmp_path, most=1)
    assert "capture" in first.evidence
    assert second.evidence["not_gathered"] == [
        "all steps: this run gathers evidence for its 1 slowest findings only (--quick)"]
    assert "rounds" in second.evidence


def test_a_capture_that_is_not_a_pcap_is_an_error_of_that_step(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.pcap"
    bogus.write_bytes(b"pasta: cannot open capture file, and some more text")
    ev = gather(FakeTarget([bogus] * evidence.CAPTURE_ATTEMPTS), tmp_path)
    assert ev["errors"]["capture"].startswith("the capture /home/test/.cache/podnet/evidence-")
    assert "not a classic pcap" in ev["errors"]["capture"]
    assert "interface" in ev and "mtu" in ev
