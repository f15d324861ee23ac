"""The run record: what one run of podnet found. JSON is the source of truth.

Schema (version 1), ``results/<run-id>/run.json``::

    {
      "schema": "podnet.run", "schema_version": 1,
      "run_id": "20261127T203000Z-1a2b3c",
      "started": 1764275400.0, "finished": 1764275460.0, "status": "complete",
      "environment": {"target": "lab:trixie", "release": "trixie", "kernel": "...",
                      "cpu": "...", "versions": {"podman": "5.4.2", ...}},
      "results": [ClaimResult, ...],
      "measurements": [Measurement, ...]
    }

A ClaimResult is one check of one claim (for one method and protocol):
``claim_id, section, statement, method, protocol, expected, observed, outcome``
(``passed``/``failed``/``skipped``/``not_applicable``/``unsupported``/``error``),
``reason``,
``evidence`` (log line, pcap record, ...), ``setup_seconds`` and ``test`` (node id).

``status`` is ``complete``, or ``interrupted`` when Ctrl-C stopped ``podnet verify``: the
results are those gathered until then.

A Measurement is one sample: ``kind`` (``throughput``, ``latency``, ...), ``method``,
``direction``, ``protocol``, ``round``, ``value``, ``unit`` and ``extra``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from harness.errors import PodnetError

SCHEMA = "podnet.run"
SCHEMA_VERSION = 1
OUTCOMES = ("passed", "failed", "skipped", "not_applicable", "unsupported", "error")
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

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {self.outcome!r}")


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

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "schema_version": SCHEMA_VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "run.json") -> Run:
        if data.get("schema") != SCHEMA:
            raise PodnetError(f"{source} is not a podnet run record (schema={data.get('schema')!r})")
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise PodnetError(
                f"{source} has schema version {version}; this podnet reads version "
                f"{SCHEMA_VERSION}: use a matching podnet release"
            )
        problem = _problem(data)
        if problem:
            raise PodnetError(f"{source} is malformed: {problem}")
        try:
            return cls(
                run_id=data["run_id"], started=data["started"], finished=data.get("finished"),
                environment=data.get("environment", {}),
                results=[ClaimResult(**r) for r in data.get("results", [])],
                measurements=[Measurement(**m) for m in data.get("measurements", [])],
                summaries=data.get("summaries", {}),
                status=data.get("status", "complete"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PodnetError(f"{source} is malformed: {exc}") from exc


#: Field types checked on reading: (field, accepted types, required).
_RUN_FIELDS: tuple[tuple[str, tuple[type, ...], bool], ...] = (
    ("run_id", (str,), True), ("started", (int, float), True),
    ("finished", (int, float, type(None)), False), ("environment", (dict,), False),
    ("results", (list,), False), ("measurements", (list,), False),
    ("summaries", (dict,), False), ("status", (str,), False),
)
_RESULT_FIELDS: tuple[tuple[str, tuple[type, ...], bool], ...] = (
    ("claim_id", (str,), True), ("section", (str,), True), ("statement", (str,), True),
    ("outcome", (str,), True), ("method", (str, type(None)), False),
    ("protocol", (str, type(None)), False), ("reason", (str,), False),
    ("evidence", (dict,), False), ("setup_seconds", (int, float, type(None)), False),
    ("test", (str,), False),
)
_MEASUREMENT_FIELDS: tuple[tuple[str, tuple[type, ...], bool], ...] = (
    ("kind", (str,), True), ("method", (str,), True), ("value", (int, float), True),
    ("unit", (str,), True), ("direction", (str,), False), ("protocol", (str,), False),
    ("round", (int,), False), ("extra", (dict,), False),
)


def _field_problem(where: str, data: dict[str, Any],
                   fields: tuple[tuple[str, tuple[type, ...], bool], ...]) -> str | None:
    for name, types, required in fields:
        if name not in data:
            if required:
                return f"{where} lacks '{name}'"
            continue
        value = data[name]
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            kinds = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            return f"{where}.{name} should be {kinds}, not {type(value).__name__}"
    return None


def _problem(data: dict[str, Any]) -> str | None:
    """The first structural problem of a run record (types of the known fields), if any.
    Unknown fields of results and measurements are reported by the constructors."""
    problem = _field_problem("the run", data, _RUN_FIELDS)
    if problem:
        return problem
    if data.get("status", "complete") not in STATUSES:
        return f"status is {data['status']!r}; expected one of {', '.join(STATUSES)}"
    for i, entry in enumerate(data.get("results", [])):
        if not isinstance(entry, dict):
            return f"results[{i}] should be an object"
        problem = _field_problem(f"results[{i}]", entry, _RESULT_FIELDS)
        if problem:
            return problem
        if entry["outcome"] not in OUTCOMES:
            return (f"results[{i}].outcome is {entry['outcome']!r}; "
                    f"expected one of {', '.join(OUTCOMES)}")
    for i, entry in enumerate(data.get("measurements", [])):
        if not isinstance(entry, dict):
            return f"measurements[{i}] should be an object"
        problem = _field_problem(f"measurements[{i}]", entry, _MEASUREMENT_FIELDS)
        if problem:
            return problem
    return None
