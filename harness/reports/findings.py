""""Findings beyond the guide": each finding of the throughput benchmark with its
evidence in words, complete enough to file an upstream bug report from (versions,
what was measured, interface counters, MTU on the path, the capture's summary and the
commands that reproduce it). Markdown and HTML render the same :class:`Section`s."""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.bench.findings import SLOW, Finding
from harness.bench.summary import PerformanceSummary
from harness.markup import Block, Group, Heading, Items, Para, Pre, counted

TITLE = "Findings beyond the guide"
INTRO = (f"Throughput ratios below {SLOW:g} of native, and ratios whose rounds split into "
         "two states. The guide does not mention them; the evidence under each was "
         "gathered by this run while the lab showed it.")
VERSION_KEYS = ("podman", "pasta", "slirp4netns", "netavark", "oci_runtime", "iperf3")


@dataclass(frozen=True)
class Section:
    title: str
    #: One fact per line, in words.
    lines: tuple[str, ...]
    #: Commands that reproduce the capture.
    commands: tuple[str, ...] = ()


def counts(summary: PerformanceSummary) -> str:
    """"3 findings: 2 below 0.1 of native, 1 split into two states only"."""
    found = summary.findings
    slow = sum(1 for f in found if "slow" in f.kinds)
    parts = [f"{slow} below {SLOW:g} of native"] if slow else []
    if split := len(found) - slow:
        parts.append(f"{split} split into two states only")
    return f"{counted(len(found), 'finding')}: " + ", ".join(parts) + "."


def sections(summary: PerformanceSummary, environment: Mapping[str, Any] | None = None) -> list[Section]:
    env = environment or {}
    return [Section(f"{n}. {f.headline()}", tuple(_lines(f, env)), tuple(_commands(f)))
            for n, f in enumerate(summary.findings, 1)]


def _scaled(n: Any, units: tuple[tuple[str, float], ...], unit: str) -> str:
    if not isinstance(n, int | float):
        return "?"
    for name, size in units:
        if n >= size:
            return f"{n / size:.3g} {name}"
    return f"{n:.0f} {unit}"


def rate_text(bits: Any) -> str:
    return _scaled(bits, (("Gbit/s", 1e9), ("Mbit/s", 1e6), ("kbit/s", 1e3)), "bit/s")


def _bytes(n: Any) -> str:
    return _scaled(n, (("MB", 1e6), ("kB", 1e3)), "B")


def _median(values: Any) -> float | None:
    numbers = [v for v in values if isinstance(v, int | float)] if isinstance(values, list) else []
    return statistics.median(numbers) if numbers else None


def _lines(f: Finding, env: Mapping[str, Any]) -> list[str]:
    ev = f.evidence
    lines = [*([f"In short: {short}."] if (short := _in_short(f)) else []),
             versions_line(env, ev)]
    if rounds := _rounds(ev):
        lines.append(rounds)
    if isinstance(ev.get("interface"), dict):
        lines.append(_interface(ev["interface"]))
    if isinstance(ev.get("mtu"), dict):
        lines.append(_mtu(ev["mtu"]))
    if isinstance(ev.get("capture"), dict):
        lines += capture_lines(ev["capture"])
    lines += [f"Not gathered: {step}." for step in ev.get("not_gathered", []) or []]
    lines += [f"Evidence step {step} failed: {error}"
              for step, error in (ev.get("errors") or {}).items()]
    if not ev:
        lines.append("No evidence recorded for this finding.")
    return lines


def _in_short(f: Finding) -> str:
    """What the evidence shows, from its figures only."""
    said = []
    capture = f.evidence.get("capture")
    tcp = capture.get("tcp") if isinstance(capture, dict) else None
    if isinstance(tcp, dict):
        gaps = tcp.get("timeout_gaps") or []
        if gaps and tcp.get("seconds"):
            share = tcp.get("stalled_seconds", 0) / tcp["seconds"]
            said.append(
                f"the captured transfer was stalled {share:.0%} of its time, in "
                + (f"{len(gaps)} silences of {_range_ms(gaps)} each" if len(gaps) > 1
                   else f"a silence of {_range_ms(gaps)}")
                + " ended by a retransmission (" + ("retransmission timeouts"
                                                    if len(gaps) > 1 else
                                                    "a retransmission timeout") + ")")
            if (run := tcp.get("longest_duplicate_run")) is not None and run < 3:
                said.append(f"at most {run} duplicate ACKs came in a row, too few for fast "
                            "retransmit")
        if tcp.get("sack_negotiated") is False:
            # The container's peer in the capture is pasta: it answers the container's
            # SYN outbound and sends the SYN inbound.
            side = "SYN-ACK" if f.direction.startswith("outbound") else "SYN"
            offer = tcp.get("syn_ack" if side == "SYN-ACK" else "syn") or {}
            missing = [name for name, key in (("SACK", "sack"), ("timestamps", "timestamps"))
                       if not offer.get(key)]
            said.append("SACK was not negotiated" + (
                f": pasta's {side} offers no {' and no '.join(missing)}" if missing else ""))
        if not gaps and not tcp.get("retransmissions"):
            said.append("the captured transfer did not show the slow state")
    interface = f.evidence.get("interface")
    delta = interface.get("delta") if isinstance(interface, dict) else None
    if isinstance(delta, dict) and delta:
        counted = [v.get(k, 0) for v in delta.values() if isinstance(v, dict)
                   for k in ("tx_dropped", "rx_dropped", "tx_errors", "rx_errors",
                             "qdisc_drops", "qdisc_qlen")]
        if not any(counted):
            said.append("the container's interface dropped and queued nothing")
    return "; ".join(said)


def _range_ms(gaps: list[float]) -> str:
    low, high = min(gaps) * 1000, max(gaps) * 1000
    return f"{low:.0f} ms" if round(low) == round(high) else f"{low:.0f} to {high:.0f} ms"


def versions_line(env: Mapping[str, Any], ev: Mapping[str, Any]) -> str:
    found = env.get("versions")
    versions: dict[str, Any] = found if isinstance(found, dict) else {}
    named = [f"{k} {versions[k]}" for k in VERSION_KEYS if versions.get(k)]
    kernel = env.get("kernel")
    text = "Versions: " + ", ".join(named + ([f"kernel {kernel}"] if kernel else []))
    if env.get("release"):
        text += f" (lab on Debian {env['release']})"
    congestion = ev.get("congestion_control")
    if isinstance(congestion, dict) and congestion:
        text += "; TCP congestion control: " + ", ".join(
            f"{where} {name}" for where, name in congestion.items())
    return text + "."


def _rounds(ev: Mapping[str, Any]) -> str:
    rounds = ev.get("rounds")
    if not isinstance(rounds, dict) or not rounds.get("measurements"):
        return ""
    count = rounds["measurements"]
    text = (f"In the rounds: {counted(count, 'measurement')}, median "
            f"{rate_text(_median(rounds.get('bits_per_second')))}")
    if (reference := ev.get("reference_bits_per_second")) is not None:
        text += f" (native: {rate_text(reference)})"
    if (retransmits := rounds.get("retransmits")) is not None:
        text += f"; iperf3 counted {', '.join(str(r) for r in retransmits)} retransmissions"
        if (per_second := rounds.get("retransmits_per_second")) is not None:
            text += f" (median {per_second:.0f} per second)"
    if (cwnd := _median(rounds.get("max_snd_cwnd"))) is not None:
        text += f"; the sender's largest congestion window {_bytes(cwnd)}"
    elif retransmits is not None:
        text += ("; no congestion window (iperf3 reports it only where its client "
                 "sends, not with -R)")
    if (rtt := _median(rounds.get("mean_rtt_us"))) is not None:
        text += f", mean RTT {rtt:.0f} µs"
    return text + "."


def _interface(interface: Mapping[str, Any]) -> str:
    if "note" in interface:
        return f"Interface counters: {interface['note']}."
    measured = interface.get("measurement", {})
    parts = []
    for name, d in (interface.get("delta") or {}).items():
        after = (interface.get("after") or {}).get(name, {})
        parts.append(
            f"{name} (MTU {after.get('mtu', '?')}, qdisc {after.get('qdisc', '?')}, txqlen "
            f"{after.get('txqlen', '?')}): sent {d.get('tx_packets', 0)} and received "
            f"{d.get('rx_packets', 0)} packets; dropped {d.get('tx_dropped', 0)} sending, "
            f"{d.get('rx_dropped', 0)} receiving; errors {d.get('tx_errors', 0)}/"
            f"{d.get('rx_errors', 0)}; qdisc drops {d.get('qdisc_drops', 0)}, requeues "
            f"{d.get('qdisc_requeues', 0)}; queue after: {d.get('qdisc_qlen', 0)} packets, "
            f"{d.get('qdisc_backlog', 0)} bytes")
    rate = rate_text(measured.get("bits_per_second"))
    retr = measured.get("retransmits")
    during = f"one more measurement ({rate}" + (
        f", {retr} retransmissions)" if retr is not None else ")")
    return (f"Container interface counters around {during}: " + "; ".join(parts)
            + ".") if parts else f"Container interface counters: none read ({during})."


def _mtu(mtu: Mapping[str, Any]) -> str:
    hops = [f"{host} " + ", ".join(f"{name} {value}" for name, value in links.items())
            for host, links in mtu.items() if isinstance(links, dict) and links]
    return "MTU on the path: " + " → ".join(hops) + "."


def capture_lines(capture: Mapping[str, Any]) -> list[str]:
    """A capture's summary (:func:`harness.bench.evidence.capture`) in words."""
    if "note" in capture:
        return [f"Capture: {capture['note']}."]
    tcp = capture.get("tcp")
    where = f" (headers kept in {capture['file']})" if capture.get("file") else ""
    if not isinstance(tcp, dict):
        return [f"Capture{where}: no TCP connection carried data."]
    lines = [f"Capture with pasta --pcap, a fresh container moving the same way{where}: "
             f"{_handshake(tcp)}"]
    gaps = tcp.get("timeout_gaps") or []
    stalled = tcp.get("stalled_seconds") or 0
    seconds = tcp.get("seconds") or 0
    share = f" ({stalled / seconds:.0%} of the transfer's time)" if seconds else ""
    lines.append(
        f"Capture, the transfer: {_bytes(tcp.get('payload_bytes'))} in "
        f"{seconds:.3f} s ({rate_text(tcp.get('bits_per_second'))}) in "
        f"{tcp.get('data_segments')} segments of up to {_bytes(tcp.get('largest_segment'))}; "
        f"{tcp.get('retransmissions')} retransmissions "
        f"({_bytes(tcp.get('retransmitted_bytes'))}); {tcp.get('duplicate_acks')} duplicate "
        f"ACKs, at most {tcp.get('longest_duplicate_run')} in a row (fast retransmit needs "
        f"3); {counted(len(gaps), 'silence')} like a retransmission "
        "timeout"
        + (f" ({', '.join(f'{g * 1000:.0f} ms' for g in gaps[:8])}), {stalled:.3f} s "
           f"stalled{share}" if gaps else "")
        + f"; at most {_bytes(tcp.get('largest_in_flight'))} in flight, smallest window "
        f"offered {_bytes(tcp.get('smallest_window'))}"
        + (f", {tcp['window_retractions']} window retractions"
           if tcp.get("window_retractions") else "") + ".")
    raw = capture.get("attempts")
    attempts: list[Any] = raw if isinstance(raw, list) else []
    if len(attempts) > 1 or (attempts and not tcp.get("retransmissions")):
        lines.append(f"Capture attempts: {_attempts(attempts)}"
                     + ("; the last one is summarised above." if len(attempts) > 1 else "."))
    if isinstance(iperf := capture.get("iperf3"), dict) and "bits_per_second" in iperf:
        lines.append(f"Capture, iperf3's view: {rate_text(iperf['bits_per_second'])}, "
                     f"{iperf.get('retransmits', '?')} retransmissions"
                     + (f", largest congestion window {_bytes(iperf['max_snd_cwnd'])}"
                        if iperf.get("max_snd_cwnd") else "") + ".")
    return lines


def _attempts(attempts: list[Any]) -> str:
    said = [f"{n}: {rate_text(a.get('bits_per_second'))}, {a.get('retransmissions')} "
            f"retransmissions, {a.get('stalled_seconds') or 0:.3f} s stalled"
            for n, a in enumerate(attempts, 1) if isinstance(a, dict)]
    healthy = all(isinstance(a, dict) and not a.get("retransmissions") for a in attempts)
    note = (" (the slow state did not show in a capture: it comes and goes)"
            if healthy else "")
    return "; ".join(said) + note


def _handshake(tcp: Mapping[str, Any]) -> str:
    def offer(side: Any) -> str:
        if not isinstance(side, dict):
            return "not captured"
        return (f"MSS {side.get('mss')}, window scale {side.get('window_scale')}, SACK "
                f"{'offered' if side.get('sack') else 'not offered'}, timestamps "
                f"{'offered' if side.get('timestamps') else 'not offered'}")

    negotiated = {True: "SACK negotiated", False: "SACK not negotiated",
                  None: "SACK negotiation not captured"}[tcp.get("sack_negotiated")]
    return (f"{negotiated}; sender {tcp.get('sender')}, receiver {tcp.get('receiver')}; "
            f"SYN: {offer(tcp.get('syn'))}; SYN-ACK: {offer(tcp.get('syn_ack'))}.")


def _commands(f: Finding) -> list[str]:
    capture = f.evidence.get("capture")
    if not isinstance(capture, dict) or "command" not in capture:
        return []
    container = [str(capture["command"])]
    peer = [f"# on the remote host: {capture['peer_command']}"] if capture.get(
        "peer_command") else []
    # Outbound the remote host serves first; inbound the container does.
    return peer + container if f.direction.startswith("outbound") else container + peer


def blocks(summary: PerformanceSummary, environment: Mapping[str, Any] | None = None) -> list[Block]:
    found = sections(summary, environment)
    if not found:
        return []
    return [Heading(2, TITLE, id="findings"), Para(f"{INTRO} {counts(summary)}"),
            *(Group([Heading(3, section.title), Items(section.lines),
                     *((Para("Reproduce:"), Pre("\n".join(section.commands)))
                       if section.commands else ())], cls="finding") for section in found)]
