"""The TCP health summary of pasta --pcap captures, on two recorded in the lab by
harness/bench/evidence.py (trixie: podman 5.4.2, pasta 2025-05-03, kernel 6.18), headers
only (tcp_health.truncate):

- pasta-outbound-stall.pcap: a container (192.0.2.1 inside) sends 4 MiB with iperf3 to
  host2 (192.0.2.10:5299): the finding "pasta, outbound/tcp at 0.002 of native";
- pasta-inbound-healthy.pcap: host2 sends 4 MiB to the container's published 5298, the
  direction in which pasta runs at native speed.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from harness.probes.tcp_health import Handshake, bulk_flow, summarise, truncate

FIXTURES = Path(__file__).parent / "fixtures" / "pcap"
STALL = FIXTURES / "pasta-outbound-stall.pcap"
HEALTHY = FIXTURES / "pasta-inbound-healthy.pcap"


def test_fixtures_are_small() -> None:
    assert STALL.stat().st_size < 20_000 and HEALTHY.stat().st_size < 20_000


def test_the_bulk_flow_is_the_data_connection_not_iperf3_control() -> None:
    flows = summarise(STALL)
    assert len(flows) == 2
    data, control = flows
    assert data.sender == bulk_flow(STALL).sender == f"192.0.2.1:{data.sender.split(':')[1]}"
    assert data.receiver == "192.0.2.10:5299"
    # iperf3 -n 4M: exactly 4 MiB delivered, retransmissions not counted twice.
    assert data.payload_bytes - 4 * 1024 * 1024 < 100
    assert control.payload_bytes < 1000


def test_handshake_shows_pasta_does_not_negotiate_sack() -> None:
    flow = bulk_flow(STALL)
    assert flow is not None
    # The container's kernel offers SACK and timestamps; pasta's SYN-ACK has neither.
    assert flow.syn == Handshake(mss=65480, sack=True, timestamps=True, window_scale=10)
    assert flow.syn_ack == Handshake(mss=61440, sack=False, timestamps=False, window_scale=8)
    assert flow.sack_negotiated is False


def test_the_stall_is_a_retransmission_timeout_after_too_few_duplicate_acks() -> None:
    flow = bulk_flow(STALL)
    assert flow is not None
    assert flow.retransmissions >= 1 and flow.retransmitted_bytes > 0
    assert flow.duplicate_acks >= 1
    # Fewer than three duplicate ACKs: no fast retransmit, the sender waits for its RTO.
    assert flow.longest_duplicate_run < 3
    assert len(flow.timeout_gaps) >= 1
    assert all(0.15 <= gap < 1.0 for gap in flow.timeout_gaps)
    assert flow.stalled_seconds / flow.seconds > 0.5


def test_a_healthy_transfer_has_no_retransmission_and_no_gap() -> None:
    flow = bulk_flow(HEALTHY)
    assert flow is not None
    assert flow.sender.startswith("192.0.2.10:") and flow.receiver == "192.0.2.1:5298"
    assert (flow.retransmissions, flow.duplicate_acks, flow.timeout_gaps) == (0, 0, ())
    assert flow.bits_per_second > 5 * bulk_flow(STALL).bits_per_second  # type: ignore[union-attr]
    # Inbound, pasta opens the connection into the container: its SYN has no SACK either.
    assert flow.syn is not None and flow.syn.sack is False
    assert flow.sack_negotiated is False


def test_window_is_scaled_by_the_receivers_own_shift() -> None:
    # Outbound the receiver is pasta (SYN-ACK, shift 8); inbound the container (shift 10).
    stall, healthy = bulk_flow(STALL), bulk_flow(HEALTHY)
    assert stall is not None and healthy is not None
    assert stall.smallest_window is not None and stall.smallest_window % 256 == 0
    assert healthy.smallest_window is not None and healthy.smallest_window % 1024 == 0


def test_as_dict_is_plain_data() -> None:
    data = bulk_flow(STALL).as_dict()  # type: ignore[union-attr]
    assert data["sack_negotiated"] is False
    assert data["syn_ack"] == {"mss": 61440, "sack": False, "timestamps": False,
                               "window_scale": 8}
    assert data["stalled_seconds"] == pytest.approx(sum(data["timeout_gaps"]), abs=1e-3)


def test_limit_reads_only_the_first_packets() -> None:
    flow = bulk_flow(STALL, limit=20)
    assert flow is not None and flow.payload_bytes < bulk_flow(STALL).payload_bytes  # type: ignore[union-attr]


def test_truncate_keeps_headers_and_original_lengths(tmp_path: Path) -> None:
    short = tmp_path / "short.pcap"
    count = truncate(STALL, short, snaplen=80)
    assert count == sum(1 for _ in _records(STALL))
    assert all(incl <= 80 for incl, _ in _records(short))
    assert [orig for _, orig in _records(short)] == [orig for _, orig in _records(STALL)]
    assert bulk_flow(short) == bulk_flow(STALL)


def test_truncate_refuses_a_file_that_is_not_a_pcap(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.pcap"
    bogus.write_bytes(b"not a capture at all, longer than a header")
    with pytest.raises(ValueError, match="not a classic pcap"):
        truncate(bogus, tmp_path / "out.pcap")


def _records(path: Path) -> list[tuple[int, int]]:
    data = path.read_bytes()
    found, offset = [], 24
    while offset + 16 <= len(data):
        _, _, included, original = struct.unpack_from("<IIII", data, offset)
        found.append((included, original))
        offset += 16 + included
    return found
