"""Run records derived from the recorded fixtures, made when the tests run instead of
kept as copies.

- ``new``: tests/fixtures/runs/base with one claim flipped from passed to failed and one
  method's latency samples slowed down, so a comparison has a claim regression and a
  performance regression to find.
- ``history``: three nights of two releases. trixie's nights are base (twice: the second
  night's pasta latency ratio drifts up) and new (its pasta UDP source-address claim
  fails); sid's nights are tests/fixtures/matrix/sid cut to its first results, the
  second night with the bind-device claim of socket activation (user service) failing
  and the third with it passing again. Each night gets its own run id and start (02:17
  UTC on 25, 26 and 27 November 2026).
"""

from __future__ import annotations

import calendar
import copy
import json
import random
import statistics
import time
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"
REFERENCE = "host"
FLIP = ("inbound.source-address.pasta", "udp")
SLOWER = ("pasta", 1.6)
SID_RESULTS = 30
NIGHTS = ("20261125T021700Z", "20261126T021700Z", "20261127T021700Z")
FLIPPED_SID = ("inbound.bind-device.socket-activation-user", "")


def read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def write(directory: Path, run: dict[str, Any], indent: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "run.json").write_text(json.dumps(run, indent=indent) + "\n")
    return directory


def summary(samples: list[dict[str, Any]], seed: int = 1) -> dict[str, Any]:
    """The latency performance summary of ``samples``: each method's median relative to
    ``host``, the native reference, with a bootstrap interval."""
    rng = random.Random(seed)
    by_method: dict[str, list[float]] = {}
    for s in samples:
        by_method.setdefault(s["method"], []).append(s["value"])
    ref = by_method[REFERENCE]
    ratios = []
    for method, values in by_method.items():
        boot = sorted(
            statistics.median(rng.choices(values, k=len(values)))
            / statistics.median(rng.choices(ref, k=len(ref)))
            for _ in range(1000))
        ratios.append({"method": method, "direction": "inbound", "protocol": "tcp",
                       "reference": REFERENCE, "kind": "latency", "higher_is_better": False,
                       "median": round(statistics.median(values) / statistics.median(ref), 4),
                       "low": round(boot[25], 4), "high": round(boot[974], 4),
                       "samples": len(values)})
    return {"settings": {"interval": "95% bootstrap of the median ratio",
                         "reference": REFERENCE}, "ratios": ratios}


def derive_new(base: dict[str, Any]) -> dict[str, Any]:
    new = copy.deepcopy(base)
    new["run_id"] = base["run_id"][:-6] + "f1a9ed"
    for r in new["results"]:
        if (r["claim_id"], r["protocol"]) == FLIP:
            r["observed"], r["outcome"] = False, "failed"
            r["evidence"]["observed_peer"] = "10.0.2.2"
    method, factor = SLOWER
    for m in new["measurements"]:
        if m["method"] == method:
            m["value"] = round(m["value"] * factor, 3)
    new["summaries"]["performance"] = summary(
        [m for m in new["measurements"] if m["kind"] == "latency"])
    return new


def new_record() -> dict[str, Any]:
    return derive_new(read(FIXTURES / "runs/base/run.json"))


def new_run(directory: Path) -> Path:
    """``directory`` with the ``new`` run's run.json."""
    return write(directory, new_record(), indent=2)


def _night(run: dict[str, Any], night: int, suffix: str) -> dict[str, Any]:
    run = copy.deepcopy(run)
    started = float(calendar.timegm(time.strptime(NIGHTS[night], "%Y%m%dT%H%M%SZ")))
    run["run_id"] = f"{NIGHTS[night]}-{suffix}"
    run["started"], run["finished"] = started, started + 600
    run["status"] = "complete"
    return run


def _drift(run: dict[str, Any], method: str, factor: float) -> None:
    for ratio in run["summaries"]["performance"]["ratios"]:
        if ratio["method"] == method:
            for key in ("median", "low", "high"):
                ratio[key] = round(ratio[key] * factor, 4)


def _flip(run: dict[str, Any], key: tuple[str, str], outcome: str) -> None:
    for result in run["results"]:
        if (result["claim_id"], result["protocol"] or "") == key:
            result["outcome"] = outcome


def history(directory: Path) -> list[Path]:
    """The six nights as run directories ``<release>-<night>`` under ``directory``."""
    base = read(FIXTURES / "runs/base/run.json")
    new = derive_new(base)
    sid = read(FIXTURES / "matrix/sid/run.json")
    sid["results"] = sid["results"][:SID_RESULTS]
    nights = {"trixie-1": _night(base, 0, "a1a1a1"), "trixie-2": _night(base, 1, "a2a2a2"),
              "trixie-3": _night(new, 2, "a3a3a3"), "sid-1": _night(sid, 0, "b1b1b1"),
              "sid-2": _night(sid, 1, "b2b2b2"), "sid-3": _night(sid, 2, "b3b3b3")}
    _drift(nights["trixie-2"], "pasta", 1.2)
    _flip(nights["sid-2"], FLIPPED_SID, "failed")
    return sorted(write(directory / name, run, indent=1) for name, run in nights.items())
