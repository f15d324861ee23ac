"""The performance summary in words and table rows."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from harness.bench.stats import Interval, number
from harness.bench.summary import PerformanceSummary, PerfRatio
from harness.markup import Block, Grid, Heading, Para, Raw
from harness.methods import all_methods
from harness.reports import charts
from harness.results.schema import Measurement, Run
from harness.words import BEYOND_GUIDE

RATIO_HEADER = ["kind", "method", "direction", "protocol", "relative to", "median ratio",
                "interval", "rounds"]
VERDICT_HEADER = ["claim", "verdict", "reason"]
#: Shown under the ratios when one of them is split.
SPLIT_NOTE = ("⚠ split: the rounds of this ratio fell into two groups at least "
              "1.5 times apart (the method ran in two states during the run); its median "
              "depends on how many rounds fell into each, and another run may differ "
              "by more than its interval suggests.")


def blocks(summary: PerformanceSummary, measurements: Sequence[Measurement] = ()) -> list[Block]:
    """The reports' performance sections: the reference and the ratios to it, the CPU
    cost per gigabyte, the verdicts."""
    out: list[Block] = []
    if ratios := ratio_rows(summary):
        capacity = reference_capacity_text(measurements)
        note = SPLIT_NOTE if any(e.split for e in summary.ratios) else None
        out += [Heading(2, "Performance relative to the reference"),
                *(Para(text) for text in reference_paragraphs(summary)),
                Para(resolution_text(summary)), *([Para(capacity)] if capacity else []),
                Grid(RATIO_HEADER, ratios), *([Para(note)] if note else [])]
    if costs := cost_rows(summary):
        out += [Heading(3, "CPU cost per gigabyte"), Grid(COST_HEADER, costs),
                Para(COST_NOTE, cls="legend")]
    if verdicts := verdict_rows(summary):
        out += [Heading(3, "Performance verdicts"), Grid(VERDICT_HEADER, verdicts)]
    return out


def method_words(method: str) -> str:
    """A method id as the performance tables show it, marked when beyond the guide."""
    found = all_methods().get(method)
    return f"{method} ({BEYOND_GUIDE})" if found is not None and found.beyond_guide else method


def ratio_rows(summary: PerformanceSummary) -> list[list[str]]:
    return [[KIND_WORDS.get((e.kind, e.protocol), e.kind), method_words(e.method), e.direction, e.protocol,
             e.reference or "native",
             f"{e.median:.3f}", f"[{e.low:.3f}, {e.high:.3f}]", _rounds(e)]
            for e in summary.ratios]


def _rounds(e: PerfRatio) -> str:
    count = "" if e.rounds is None else str(e.rounds)
    if e.split is None:
        return count
    (a, b), (c, d) = e.split
    return f"{count} ⚠ split: {_range(a, b)} and {_range(c, d)}".strip()


def _range(a: float, b: float) -> str:
    return f"{a:.3f}" if a == b else f"{a:.3f} to {b:.3f}"


def verdict_rows(summary: PerformanceSummary) -> list[list[str]]:
    """How the benchmarks judged the performance claims."""
    return [[claim, str(v.get("verdict", "")), str(v.get("reason", ""))]
            for claim, v in summary.verdicts.items()]


def reference_paragraphs(summary: PerformanceSummary) -> list[str]:
    """The native reference's check (harness/bench/reference.py), first in every report:
    what the reference was, and each problem found with it, before any ratio."""
    found = summary.reference
    if found is None:
        return []
    raw_setup = found.get("setup")
    setup: dict[str, Any] = raw_setup if isinstance(raw_setup, dict) else {}
    rates = [f"{c.get('reference')} {c.get('combo')} {n / 1e9:.2f} Gbit/s"
             + (f", {r:.3%} retransmitted" if (r := number(c.get("retransmitted_share")))
                is not None else "")
             for c in found.get("combos", []) if isinstance(c, dict)
             and (n := number(c.get("bits_per_second"))) is not None]
    what = "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in setup.items()
                     if isinstance(v, str))
    raw_hosts = setup.get("links")
    hosts: dict[str, Any] = raw_hosts if isinstance(raw_hosts, dict) else {}
    links = "; ".join(
        f"{host} {name} MTU {link.get('mtu')} (GSO {link.get('gso_max_size')}, GRO "
        f"{link.get('gro_max_size')})" for host, found_links in hosts.items()
        if isinstance(found_links, dict) for name, link in found_links.items()
        if isinstance(link, dict))
    what += f"; links: {links}" if links else ""
    measured = ("The native reference: " + (what + ". " if what else "")
                + ("Measured: " + "; ".join(rates) + "." if rates else ""))
    if problems := _problems(found):
        return [measured, "⚠ The reference is in doubt, and with it every ratio to native "
                "below (the orderings, decided on paired method-over-method ratios, and the "
                "native verdicts, decided on which process carried the bytes, do not rest on "
                f"it): {problems}"]
    return [measured, "Reference check passed: no retransmissions beyond the limit, neither "
            "iperf3 end CPU-bound, its two measurements per round within the "
            "native-performance margin of each other, no method faster than it."]


def resolution_text(summary: PerformanceSummary) -> str:
    """The run's resolution from its A/A control, in one sentence (every report)."""
    found = summary.resolution
    if found is None:
        return ("Resolution: none (the run has no A/A control: `host` against native was "
                "not measured), so no difference between methods is known to exceed noise.")
    cpu = (f"; CPU per GB: {found.cpu:.1%}" if found.cpu is not None else "")
    combos = ", ".join(f"{c} {v:.1%}" for c, v in found.per_combo.items())
    return (f"Resolution of this run: {found.value:.1%} (throughput ratio{cpu}). A/A control: "
            f"`{found.method}` against {found.reference} takes the same path, so its ratio "
            "differs from 1 by noise only; the resolution is the largest distance of its "
            f"interval from 1" + (f" (by combination: {combos})" if combos else "") + ". "
            "Methods whose medians are closer than the resolution of their combination are "
            "reported as indistinguishable, not ordered; the resolution is the default "
            "tolerance of `podnet compare` and `podnet agree` for this run.")


COST_HEADER = ["method", "direction", "protocol", "forwarder CPU s/GB", "lab CPU s/GB",
               "lab CPU per GB / native's", "rounds"]
#: Shown under the cost table.
COST_NOTE = ("CPU seconds per gigabyte received: of the forwarding processes (pasta, "
             "slirp4netns, rootlessport, conmon) and of every process of the lab's host "
             "(its cgroup: forwarder, container, server or client on host1, podman, "
             "systemd), median over rounds with its 95% interval; the last column is the "
             "lab's CPU per GB over the native reference's in the same round. UDP counts "
             "the fixed-rate test and every step of the capacity search.")


def cost_rows(summary: PerformanceSummary) -> list[list[str]]:
    rows = []
    for cost in summary.costs:
        rounds = max((i.rounds for i in (cost.forwarder, cost.lab) if i is not None), default=0)
        rows.append([method_words(cost.method), cost.direction, cost.protocol,
                     _interval(cost.forwarder), _interval(cost.lab), _interval(cost.lab_ratio),
                     str(rounds or "")])
    return rows


def estimate(median: float, low: float, high: float) -> str:
    """A median with its interval: ``0.93 [0.9, 0.95]``."""
    return f"{median:.3g} [{low:.3g}, {high:.3g}]"


def _interval(found: Interval | None) -> str:
    return "" if found is None else estimate(found.median, found.low, found.high)


#: What a ratio's kind measures, where the kind alone would not say.
KIND_WORDS = {("throughput", "udp"): "UDP capacity (highest rate with < 1% loss)",
              ("udp_fixed_rate", "udp"): "UDP at a fixed 1 Gbit/s offer (received rate)"}


def reference_capacity_text(measurements: Sequence[Measurement]) -> str | None:
    """The native reference's UDP capacity by direction (median over rounds), beside
    the fixed offer UDP was measured at before; None without capacity measurements."""
    from harness.probes.iperf3 import UDP_OFFERED_RATE

    found: dict[str, list[float]] = {}
    saturated: list[bool] = []
    for m in measurements:
        if (m.kind, m.method, m.protocol) == ("throughput", "native", "udp") and m.round > 0 \
                and "search" in m.extra and (value := number(m.value)) is not None:
            found.setdefault(m.direction, []).append(value)
            saturated.append(bool(m.extra.get("saturated")))
    if not found:
        return None
    parts = ", ".join(f"{d} {statistics.median(v) / 1e9:.2f} Gbit/s ({len(v)} rounds)"
                      for d, v in sorted(found.items()))
    return (f"Native UDP capacity (highest rate with < 1% loss, median over rounds): {parts}; "
            f"the fixed offer UDP is also measured at is {UDP_OFFERED_RATE / 1e9:g} Gbit/s. "
            f"{sum(saturated)} of {len(saturated)} of native's searches reached the path's "
            "limit (the others may be limited by the offered rate).")


CURVE_HEADER = ["curve", "method", "x", "median", "95% interval", "over native", "rounds",
                "forwarder CPU s/GB"]
#: Shown under the cost curves' table.
CURVE_NOTE = ("Cost curves: `streams` is inbound TCP with x parallel iperf3 streams (Gbit/s; "
              "over native: the rate over the native reference's at the same stream count "
              "in the same round); `ports` is a container's start with x published ports "
              "until a client on another host connects to the first one (seconds); "
              "`connections` is new connections per second, short HTTP GETs (one "
              "connection each) from x parallel clients on host2 to the method's nginx "
              "(over native: over the same nginx with --network=host, no forwarder, in the "
              "same round); `memory` is the growth of the forwarders' resident memory "
              "(pasta, slirp4netns, rootlessport, conmon, MB) with x connections held open "
              "to the method, over the same reading with none. Rounds interleave every "
              "point; medians over rounds with 95% bootstrap intervals.")


def cost_curve_rows(run: Run) -> list[list[str]]:
    """``run.summaries["cost_curves"]`` as table rows (none without it)."""
    rows = []
    for point in charts.curve_points(run):
        scale = 1e-9 if point.unit == "bit/s" else 1.0
        rows.append([point.curve, point.method, str(point.x), f"{point.median * scale:.3g}",
                     f"[{point.low * scale:.3g}, {point.high * scale:.3g}]",
                     "" if point.ratio is None else estimate(*point.ratio), str(point.rounds),
                     "" if point.cpu_seconds_per_gb is None else
                     f"{point.cpu_seconds_per_gb:.3g}"])
    return rows


def curve_blocks(run: Run) -> list[Block]:
    """The reports' cost curves section ([] without curves): the points, the reference's
    check and, in Markdown, the curves' charts (the files :func:`render_run` writes)."""
    if not (rows := cost_curve_rows(run)):
        return []
    checked = cost_curve_reference_text(run)
    figures = [f"![cost curve: {curve}](cost-curve-{curve}.png)"
               for curve in dict.fromkeys(p.curve for p in charts.curve_points(run))]
    return [Heading(2, "Cost curves"), Grid(CURVE_HEADER, rows), Para(CURVE_NOTE, cls="legend"),
            Raw("\n".join(figures)), *([Para(checked)] if checked else [])]


def cost_curve_reference_text(run: Run) -> str:
    """The streams curve's reference check, in one paragraph ("" without one)."""
    raw = run.summaries.get("cost_curves")
    found = raw.get("reference") if isinstance(raw, dict) else None
    if not isinstance(found, dict):
        return ""
    if not (problems := _problems(found)):
        return "Reference check of the streams curve passed."
    return f"⚠ The streams curve's native reference is in doubt, and with it its ratios: {problems}"


def _problems(check: dict[str, Any]) -> str:
    """A reference check's problems, numbered: "(1) ... (2) ..." ("" when none)."""
    return " ".join(f"({i}) {p}." for i, p in enumerate(
        [p for p in check.get("problems", []) if isinstance(p, str)], 1))
