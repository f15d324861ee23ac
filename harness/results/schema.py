"""The run record: what one run of podnet found. JSON is the source of truth.

Schema (version 3), ``results/<run-id>/run.json``::

    {
      "schema": "podnet.run", "schema_version": 2,
      "run_id": "20261127T203000Z-1a2b3c",
      "podnet": {"version": "0.1.0", "commit": "7dad32a..."},
      "selection": "source_address and not proof",
      "guide": {"commit": "19f4819...", "date": "2026-08-10", "subject": "...", "source": ""},
      "started": 1764275400.0, "finished": 1764275460.0, "status": "complete",
      "environment": {"target": "lab:trixie", "release": "trixie", "kernel": "...",
                      "cpu": "...", "versions": {"podman": "5.4.2", ...}},
      "results": [ClaimResult, ...],
      "measurements": [Measurement, ...],
      "upstream": null or UpstreamSuite
    }

A ClaimResult is one check of one claim (for one method and protocol):
``claim_id, section, statement, method, protocol, expected, observed, outcome``
(``passed``/``failed``/``inconclusive``/``skipped``/``not_applicable``/``unsupported``/
``error``), ``reason``,
``evidence`` (log line, pcap record, ...), ``setup_seconds``, ``test`` (node id) and
``line``, where the claim's quote is in the guide revision the run judged.

``guide`` is that revision (harness.guide.revisions): its commit id and date, or
``source``, the path of a README.md that is no revision podnet knows; a record without
it was made when podnet knew only the seed revision 707d6f6.

``status`` is ``complete``, or ``interrupted`` when Ctrl-C stopped ``podnet verify``, or
when the run ended before its final record was written (the record is rewritten,
atomically, with every result and after every test, so a killed run keeps what it found):
the results are those gathered until then.

A Measurement is one sample: ``kind`` (``throughput``, ``latency``, ...), ``method``,
``direction``, ``protocol``, ``round``, ``value``, ``unit`` and ``extra``.

Version 1 had no ``inconclusive``: it recorded an undecided verdict as ``skipped`` with a
reason starting "inconclusive". Such a record is upgraded on reading (:func:`upgrade`).

Version 2 had no ``upstream``: podman's own system tests as ``podnet upstream-tests``
ran them (:mod:`harness.results.upstream`), null when the run did not run them.

``timings`` holds the wall time of each test and phase (:mod:`harness.results.timings`).
"""

from __future__ import annotations

import dataclasses
import time
import types
import typing
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from harness.errors import PodnetError
from harness.provenance import podnet_identity
from harness.results.timings import Timing
from harness.results.upstream import UpstreamSuite

SCHEMA = "podnet.run"
SCHEMA_VERSION = 3
#: Versions this podnet reads: older ones are upgraded on reading.
READABLE_VERSIONS = (1, 2, 3)
OUTCOMES = ("passed", "failed", "inconclusive", "skipped", "not_applicable", "unsupported",
            "error")
#: Outcomes that decide a claim: the run observed whether the guide's statement holds.
DECIDED = ("passed", "failed")
STATUSES = ("complete", "interrupted")


@dataclass
class ClaimResult:
    claim_id: str
    section: str
    statement: str
    expected: Any
    observed: Any
    outcome: str
    method: str | None = None
    protocol: str | None = None
    reason: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    setup_seconds: float | None = None
    test: str = ""
    #: The line of the guide revision the run judged where the claim's quote is.
    line: int | None = None

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {self.outcome!r}")

    @property
    def key(self) -> tuple[str, str]:
        """The claim and protocol ("" for none): a run's last result for a key is its own."""
        return self.claim_id, self.protocol or ""


@dataclass
class Measurement:
    kind: str
    method: str
    value: float
    unit: str
    direction: str = ""
    protocol: str = ""
    round: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Run:
    run_id: str
    started: float
    environment: dict[str, Any] = field(default_factory=dict)
    results: list[ClaimResult] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)
    finished: float | None = None
    #: Derived summaries (performance verdicts, ...) keyed by area.
    summaries: dict[str, Any] = field(default_factory=dict)
    #: ``complete``, or ``interrupted`` (Ctrl-C): the results are those gathered so far.
    status: str = "complete"
    #: The podnet that made the run: ``version`` and ``commit`` (None outside a git checkout).
    podnet: dict[str, Any] = field(default_factory=dict)
    #: The checks the run selected: pytest's marker expression ("" for every check; None:
    #: not recorded, by an older podnet).
    selection: str | None = None
    #: Wall time of each test and phase (harness.results.timings).
    timings: list[Timing] = field(default_factory=list)
    #: podman's own system tests, when the run ran them (``podnet upstream-tests``).
    upstream: UpstreamSuite | None = None
    #: The guide revision the run judged (harness.guide.revisions.Revision.record).
    guide: dict[str, str] | None = None

    @classmethod
    def begin(cls, run_id: str, **fields: Any) -> Run:
        """A run that starts now, made by this podnet."""
        return cls(run_id, time.time(), podnet=podnet_identity(), **fields)

    @property
    def release(self) -> str:
        """The release the run's target ran, as reports name the run; its id when it
        recorded none."""
        return str(self.environment.get("release") or self.run_id)

    def to_dict(self) -> dict[str, Any]:
        """The record; a summary held as a typed structure is written as its ``to_dict``."""
        data = asdict(replace(self, summaries={}))
        data["summaries"] = {k: v.to_dict() if hasattr(v, "to_dict") else v
                             for k, v in self.summaries.items()}
        return {"schema": SCHEMA, "schema_version": SCHEMA_VERSION, **data}

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "run.json") -> Run:
        if data.get("schema") != SCHEMA:
            raise PodnetError(f"{source} is not a podnet run record (schema={data.get('schema')!r})")
        version = data.get("schema_version")
        if version not in READABLE_VERSIONS:
            raise PodnetError(
                f"{source} has schema version {version}; this podnet reads versions "
                f"{', '.join(map(str, READABLE_VERSIONS))}: use a matching podnet release"
            )
        data = upgrade(data)
        problem = _problem(data)
        if problem:
            raise PodnetError(f"{source} is malformed: {problem}")
        try:
            return cls(**{
                **{f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data},
                "results": [ClaimResult(**r) for r in data.get("results", [])],
                "measurements": [Measurement(**m) for m in data.get("measurements", [])],
                "timings": [Timing(**t) for t in data.get("timings", [])],
                "upstream": None if data.get("upstream") is None
                else UpstreamSuite.from_dict(data["upstream"], source)})
        except (KeyError, TypeError, ValueError) as exc:
            raise PodnetError(f"{source} is malformed: {exc}") from exc


def _fields(record: type) -> list[tuple[str, tuple[type, ...], bool]]:
    """The fields of a record's dataclass checked on reading: each with the JSON types it
    accepts (a float also as an int, a nested record as an object; one of any type is not
    checked) and whether it is required (it has no default)."""
    hints = typing.get_type_hints(record)
    found = []
    for f in dataclasses.fields(record):
        hint = hints[f.name]
        if hint is not Any:
            kinds = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
            found.append((f.name, tuple(t for kind in kinds for t in JSON_TYPES.get(
                typing.get_origin(kind) or kind, (typing.get_origin(kind) or kind,))),
                f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING))
    return found


#: The JSON types of a field's Python type, where they differ.
JSON_TYPES: dict[object, tuple[type, ...]] = {float: (int, float), UpstreamSuite: (dict,)}


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """A record of an older schema version as the current version (a copy), one version
    at a time: version 1's undecided verdicts, ``skipped`` with a reason starting
    "inconclusive", become ``inconclusive``; version 2 had no ``upstream`` (none ran)."""
    version = data.get("schema_version")
    if version == SCHEMA_VERSION:
        return data
    upgraded = dict(data)
    if version == 1:
        if isinstance(results := data.get("results"), list):
            upgraded["results"] = [
                {**r, "outcome": "inconclusive"} if isinstance(r, dict)
                and r.get("outcome") == "skipped"
                and str(r.get("reason", "")).startswith("inconclusive") else r
                for r in results]
        version = 2
    if version == 2:
        upgraded["upstream"] = None
    upgraded["schema_version"] = SCHEMA_VERSION
    return upgraded


def _field_problem(where: str, data: dict[str, Any], record: type) -> str | None:
    for name, kinds, required in _fields(record):
        if name not in data:
            if required:
                return f"{where} lacks '{name}'"
            continue
        value = data[name]
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            words = " or ".join("null" if t is type(None) else t.__name__ for t in kinds)
            return f"{where}.{name} should be {words}, not {type(value).__name__}"
    return None


def _problem(data: dict[str, Any]) -> str | None:
    """The first structural problem of a run record (types of the known fields), if any.
    Unknown fields of results and measurements are reported by the constructors."""
    if problem := _field_problem("the run", data, Run):
        return problem
    if data.get("status", "complete") not in STATUSES:
        return f"status is {data['status']!r}; expected one of {', '.join(STATUSES)}"
    for name, record in (("results", ClaimResult), ("measurements", Measurement),
                         ("timings", Timing)):
        for i, entry in enumerate(data.get(name, [])):
            if not isinstance(entry, dict):
                return f"{name}[{i}] should be an object"
            if problem := _field_problem(f"{name}[{i}]", entry, record):
                return problem
            if record is ClaimResult and entry["outcome"] not in OUTCOMES:
                return (f"results[{i}].outcome is {entry['outcome']!r}; "
                        f"expected one of {', '.join(OUTCOMES)}")
    return None
