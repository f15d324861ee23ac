"""The iperf3 JSON parser, on output recorded in the lab (iperf3 3.12 client on host2,
3.18 on host1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.probes import iperf3

FIXTURES = Path(__file__).parent / "fixtures" / "iperf3"


def load(name: str) -> iperf3.Iperf3Result:
    return iperf3.parse((FIXTURES / name).read_text())


def test_tcp_receiver_rate_and_retransmits() -> None:
    result = load("tcp-3.12-native.json")
    assert result.protocol == "tcp"
    assert not result.reverse
    assert result.bits_per_second == pytest.approx(
        result.bytes_received * 8 / result.seconds, rel=1e-6)
    assert result.retransmits is not None and result.retransmits >= 0
    assert result.lost_percent is None and result.jitter_ms is None
    assert result.cpu_host_percent is not None and result.cpu_remote_percent is not None
    assert result.version == "iperf 3.12"


def test_tcp_reverse_reports_what_the_client_received() -> None:
    result = load("tcp-reverse-3.12-native.json")
    assert result.reverse
    assert result.bits_per_second > 0


def test_a_stalled_transfer_is_a_low_rate_not_an_error() -> None:
    result = load("tcp-reverse-3.12-pasta-stalled.json")
    assert result.reverse
    assert result.bytes_received == 2073584
    assert result.bits_per_second == pytest.approx(16587477.7016, rel=1e-9)
    assert result.retransmits == 5


@pytest.mark.parametrize("name", ["udp-3.12-native.json", "udp-reverse-3.12-native.json"])
def test_udp_loss_and_jitter_from_the_receiver(name: str) -> None:
    result = load(name)
    assert result.protocol == "udp"
    assert result.retransmits is None
    assert result.lost_percent is not None and 0 <= result.lost_percent <= 100
    assert result.jitter_ms is not None and result.jitter_ms >= 0
    assert "lost_percent" in result.extra() and "retransmits" not in result.extra()


def test_newer_iperf3_output_parses() -> None:
    assert load("tcp-3.18-host1-loopback.json").version == "iperf 3.18"


def test_error_output_raises_with_iperf3s_message() -> None:
    with pytest.raises(iperf3.Iperf3Error, match="Connection refused"):
        load("error-refused-3.12.json")


@pytest.mark.parametrize("text", ["", "iperf3: error - unable to connect", "[]", "{}"])
def test_not_iperf3_json_raises(text: str) -> None:
    with pytest.raises(iperf3.Iperf3Error):
        iperf3.parse(text)


def test_client_argv() -> None:
    argv = iperf3.client_argv("192.0.2.1", 5201, 2, protocol="udp", reverse=True)
    assert argv[:6] == ["iperf3", "-c", "192.0.2.1", "-p", "5201", "-J"]
    assert argv[argv.index("-u"):argv.index("-u") + 5] == [
        "-u", "-b", str(iperf3.UDP_OFFERED_RATE), "-n", str(iperf3.UDP_OFFERED_RATE // 4)]
    assert argv[-1] == "-R"
    assert "-u" not in iperf3.client_argv("192.0.2.1", 5201, 2)
    search = iperf3.client_argv("192.0.2.1", 5201, 0.5, protocol="udp", rate=3e9,
                                window=iperf3.UDP_CAPACITY_WINDOW)
    assert search[search.index("-b") + 1] == "3000000000"
    assert search[search.index("-n") + 1] == str(int(3e9 * 0.5 / 8))
    assert search[search.index("-w") + 1] == iperf3.UDP_CAPACITY_WINDOW
