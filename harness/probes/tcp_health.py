"""The health of the TCP connections in a capture (pasta ``--pcap``), read with scapy:
what was negotiated in the handshake (SACK, timestamps, window scale, MSS), and how the
bulk transfer went (retransmissions, duplicate ACKs, gaps that look like
retransmission timeouts, the largest amount of data in flight).

Segment lengths come from the IP headers, not from the captured bytes, so a capture
truncated to its headers (:func:`truncate`) reads the same as the full one.
"""

from __future__ import annotations

import struct
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness.probes.pcap import Packet, packets

#: A silence of the sender this long, with data unacknowledged and ended by a
#: retransmission, looks like a retransmission timeout (Linux's minimum RTO is 200 ms).
RTO_GAP = 0.15
#: Packets read at most (a capture of a fast transfer can be large).
MAX_PACKETS = 200_000
#: Bytes kept of each packet by :func:`truncate`: Ethernet, IPv6 and TCP with options.
SNAPLEN = 128

_SEQ = 1 << 32


@dataclass(frozen=True)
class Handshake:
    """The options of a SYN or SYN-ACK."""

    mss: int | None
    sack: bool
    timestamps: bool
    window_scale: int | None


@dataclass(frozen=True)
class FlowHealth:
    """One TCP connection, seen from its data sender's side."""

    sender: str
    receiver: str
    #: The SYN's options (None when the capture started after the handshake).
    syn: Handshake | None
    syn_ack: Handshake | None
    #: Data delivered, retransmissions not counted.
    payload_bytes: int
    seconds: float
    data_segments: int
    retransmissions: int
    retransmitted_bytes: int
    duplicate_acks: int
    #: The most duplicate ACKs of one acknowledgement number in a row.
    longest_duplicate_run: int
    #: Silences of the sender (seconds) ended by a retransmission, see :data:`RTO_GAP`.
    timeout_gaps: tuple[float, ...]
    largest_in_flight: int
    #: The smallest window the receiver advertised (bytes, scaled), after the handshake.
    smallest_window: int | None
    largest_segment: int
    #: ACKs whose window ends before an earlier one did (the receiver took back space
    #: it had offered, RFC 9293 3.8.6: "strongly discouraged").
    window_retractions: int = 0

    @property
    def sack_negotiated(self) -> bool | None:
        if self.syn is None or self.syn_ack is None:
            return None
        return self.syn.sack and self.syn_ack.sack

    @property
    def bits_per_second(self) -> float:
        return self.payload_bytes * 8 / self.seconds if self.seconds > 0 else 0.0

    @property
    def stalled_seconds(self) -> float:
        return sum(self.timeout_gaps)

    def as_dict(self) -> dict[str, Any]:
        """The fields (the handshakes' options as dicts), times rounded, and the
        properties."""
        return {**asdict(self), "seconds": round(self.seconds, 6),
                "timeout_gaps": [round(g, 4) for g in self.timeout_gaps],
                "sack_negotiated": self.sack_negotiated, "bits_per_second": self.bits_per_second,
                "stalled_seconds": round(self.stalled_seconds, 4)}


def _handshake(segment: Packet) -> Handshake:
    mss, scale = segment.options.get("MSS"), segment.options.get("WScale")
    return Handshake(int(mss) if mss is not None else None, "SAckOK" in segment.options,
                     "Timestamp" in segment.options,
                     int(scale) if scale is not None else None)


def _after(a: int, b: int) -> bool:
    """Sequence number ``a`` is after ``b`` (modulo 2**32)."""
    return 0 < (a - b) % _SEQ < _SEQ // 2


def _health(flow: list[Packet]) -> FlowHealth | None:
    sent = {source: sum(s.length for s in flow if s.source == source)
            for source in dict.fromkeys(s.source for s in flow)}
    sender = max(sent, key=lambda k: sent[k])
    receiver = next((s.destination for s in flow if s.source == sender), "")
    data = [s for s in flow if s.source == sender]
    acks = [s for s in flow if s.source == receiver]
    # pasta may set PSH on the SYN it sends into the container ("SP").
    syn = next((s for s in data + acks if "S" in s.flags and "A" not in s.flags), None)
    syn_ack = next((s for s in data + acks if "S" in s.flags and "A" in s.flags), None)
    if not sent[sender]:
        return None
    # The receiver's window is scaled by the shift it offered in its own SYN or SYN-ACK,
    # if both sides offered one (RFC 7323).
    offers = [_handshake(s).window_scale for s in (syn, syn_ack) if s is not None]
    own = next((s for s in (syn, syn_ack) if s is not None and s.source == receiver), None)
    scale = 1 << ((_handshake(own).window_scale or 0)
                  if own is not None and len(offers) == 2 and None not in offers else 0)
    # Walk both directions in time order.
    highest: int | None = None  # end of the highest data sent
    acked: int | None = None
    last_ack: tuple[int, int] | None = None
    run = longest = dupacks = retransmissions = retransmitted = in_flight = retractions = 0
    smallest_window: int | None = None
    right_edge: int | None = None  # the furthest sequence number the receiver allowed
    gaps: list[float] = []
    previous_data: float | None = None
    payload = [s for s in data if s.length > 0]
    for s in sorted(flow, key=lambda s: s.time):
        if s.source == sender and s.length > 0:
            end = (s.seq + s.length) % _SEQ
            if highest is not None and not _after(end, highest):
                retransmissions += 1
                retransmitted += s.length
                if (previous_data is not None and s.time - previous_data >= RTO_GAP
                        and acked is not None and _after(highest, acked)):
                    gaps.append(s.time - previous_data)
            else:
                highest = end
            previous_data = s.time
            if acked is not None and highest is not None:
                in_flight = max(in_flight, (highest - acked) % _SEQ)
        elif s.source == receiver and "A" in s.flags and "S" not in s.flags:
            window = s.window * scale
            if s.length == 0 and "F" not in s.flags and "R" not in s.flags:
                # a duplicate ACK: the same as the last, with data outstanding
                if last_ack == (s.ack, s.window) and highest is not None and _after(highest, s.ack):
                    dupacks += 1
                    run += 1
                    longest = max(longest, run)
                else:
                    run = 0
            edge = (s.ack + window) % _SEQ
            if right_edge is not None and _after(right_edge, edge):
                retractions += 1
            elif right_edge is None or _after(edge, right_edge):
                right_edge = edge
            if acked is None or _after(s.ack, acked):
                acked = s.ack
            last_ack = (s.ack, s.window)
            if highest is not None:
                smallest_window = window if smallest_window is None else min(
                    smallest_window, window)
    times = [s.time for s in payload]
    return FlowHealth(
        sender=sender, receiver=receiver,
        syn=_handshake(syn) if syn else None, syn_ack=_handshake(syn_ack) if syn_ack else None,
        payload_bytes=sent[sender] - retransmitted, seconds=max(times) - min(times) if times else 0.0,
        data_segments=len(payload), retransmissions=retransmissions,
        retransmitted_bytes=retransmitted, duplicate_acks=dupacks,
        longest_duplicate_run=longest, timeout_gaps=tuple(gaps),
        largest_in_flight=in_flight, smallest_window=smallest_window,
        largest_segment=max((s.length for s in payload), default=0),
        window_retractions=retractions)


def summarise(path: Path, *, limit: int = MAX_PACKETS) -> list[FlowHealth]:
    """Every TCP connection that carried data, the largest transfer first."""
    flows: dict[frozenset[str], list[Packet]] = {}
    for segment in packets(path, limit):
        if segment.proto == "tcp":
            flows.setdefault(frozenset((segment.source, segment.destination)), []).append(segment)
    found = [h for flow in flows.values() if (h := _health(flow)) is not None]
    return sorted(found, key=lambda h: -h.payload_bytes)


def bulk_flow(path: Path, *, limit: int = MAX_PACKETS) -> FlowHealth | None:
    """The connection that carried the most data (iperf3's test stream, not its control
    connection)."""
    return next(iter(summarise(path, limit=limit)), None)


# --- keeping captures small -------------------------------------------------------------

_MAGICS = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">",
           b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\x3c\x4d": ">"}


def truncate(source: Path, destination: Path, snaplen: int = SNAPLEN) -> int:
    """Copy a classic pcap keeping the first ``snaplen`` bytes of each packet (the
    headers) and each packet's original length; the number of packets copied."""
    data = source.read_bytes()
    order = _MAGICS.get(data[:4])
    if order is None or len(data) < 24:
        raise ValueError(f"{source} is not a classic pcap file")
    header = bytearray(data[:24])
    struct.pack_into(order + "I", header, 16, min(snaplen, struct.unpack_from(
        order + "I", data, 16)[0]))
    out = [bytes(header)]
    offset, count = 24, 0
    while offset + 16 <= len(data):
        seconds, fraction, included, original = struct.unpack_from(order + "IIII", data, offset)
        kept = data[offset + 16:offset + 16 + min(included, snaplen)]
        out.append(struct.pack(order + "IIII", seconds, fraction, len(kept), original) + kept)
        offset += 16 + included
        count += 1
    destination.write_bytes(b"".join(out))
    return count
