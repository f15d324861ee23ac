"""An interface's counters and MTU, from ``ip -s -j link`` and ``tc -s -j qdisc``.

:data:`SCRIPT` prints both, separated by a line ``--``, in whatever network namespace
it runs (a container's, a lab host's).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

SCRIPT = "ip -s -j link; echo --; tc -s -j qdisc 2>/dev/null || echo '[]'"


@dataclass(frozen=True)
class Counters:
    name: str
    mtu: int
    #: The transmit queue length the interface is configured with (``txqlen``).
    txqlen: int
    rx_packets: int = 0
    rx_dropped: int = 0
    rx_errors: int = 0
    tx_packets: int = 0
    tx_dropped: int = 0
    tx_errors: int = 0
    qdisc: str = ""
    qdisc_drops: int = 0
    qdisc_requeues: int = 0
    qdisc_overlimits: int = 0
    #: Packets and bytes waiting in the queue when read.
    qdisc_qlen: int = 0
    qdisc_backlog: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


#: Counters that only grow; :func:`delta` subtracts them, the rest are states.
GROWING = ("rx_packets", "rx_dropped", "rx_errors", "tx_packets", "tx_dropped", "tx_errors",
           "qdisc_drops", "qdisc_requeues", "qdisc_overlimits")


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _json_list(text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except ValueError:
        return []
    return [d for d in data if isinstance(d, dict)] if isinstance(data, list) else []


def parse(text: str) -> dict[str, Counters]:
    """The output of :data:`SCRIPT`: counters by interface name (loopback left out)."""
    links_text, _, qdisc_text = text.partition("\n--\n")
    roots = {q.get("dev"): q for q in _json_list(qdisc_text) if q.get("root")}
    found: dict[str, Counters] = {}
    for link in _json_list(links_text):
        name = str(link.get("ifname", ""))
        if not name or "LOOPBACK" in link.get("flags", []):
            continue
        stats = link.get("stats64") or link.get("stats") or {}
        q = roots.get(name, {})
        counted: dict[str, Any] = {}  # rx_packets: the link's rx.packets; qdisc_drops: its root qdisc's drops
        for field in (f.name for f in fields(Counters) if "_" in f.name):
            kind, _, key = field.partition("_")
            counted[field] = _int((q if kind == "qdisc" else stats.get(kind, {})).get(key))
        found[name] = Counters(**{
            **counted, "name": name, "mtu": _int(link.get("mtu")),
            "txqlen": _int(link.get("txqlen")),
            "qdisc": str(q.get("kind", link.get("qdisc", "")))})
    return found


def delta(before: Mapping[str, Counters], after: Mapping[str, Counters]
          ) -> dict[str, dict[str, int]]:
    """What grew on each interface between two readings, and the queue when read last."""
    changed: dict[str, dict[str, int]] = {}
    for name, now in after.items():
        then = before.get(name)
        grown = {k: getattr(now, k) - (getattr(then, k) if then else 0) for k in GROWING}
        changed[name] = {**grown, "qdisc_qlen": now.qdisc_qlen,
                         "qdisc_backlog": now.qdisc_backlog}
    return changed


def mtus(counters: Mapping[str, Counters]) -> dict[str, int]:
    return {name: c.mtu for name, c in counters.items()}
