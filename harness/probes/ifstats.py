"""An interface's counters and MTU, from ``ip -s -j link`` and ``tc -s -j qdisc``.

:data:`SCRIPT` prints both, separated by a line ``--``, in whatever network namespace
it runs (a container's, a lab host's).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
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
        return {f.name: getattr(self, f.name) for f in fields(self)}


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
        rx, tx = stats.get("rx", {}), stats.get("tx", {})
        q = roots.get(name, {})
        found[name] = Counters(
            name=name, mtu=_int(link.get("mtu")), txqlen=_int(link.get("txqlen")),
            rx_packets=_int(rx.get("packets")), rx_dropped=_int(rx.get("dropped")),
            rx_errors=_int(rx.get("errors")), tx_packets=_int(tx.get("packets")),
            tx_dropped=_int(tx.get("dropped")), tx_errors=_int(tx.get("errors")),
            qdisc=str(q.get("kind", link.get("qdisc", ""))),
            qdisc_drops=_int(q.get("drops")), qdisc_requeues=_int(q.get("requeues")),
            qdisc_overlimits=_int(q.get("overlimits")), qdisc_qlen=_int(q.get("qlen")),
            qdisc_backlog=_int(q.get("backlog")))
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
