"""The claims registry: every statement of the guide, as data, with its section.

Tests take expected outcomes from here, never from what they observe. The registry
files are ``scenarios/claims/*.toml``; this module only loads and queries it.
"""

from __future__ import annotations

import builtins
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from harness.errors import UsageError
from harness.versions import Condition, Version

GUIDE = "podman-networking-docs"


@dataclass(frozen=True)
class Claim:
    id: str
    #: The guide's section heading the claim comes from, and its anchor.
    section: str
    anchor: str
    statement: str
    #: What is measured: ``source_address_preserved``, ``native_performance``, ...
    property: str
    expected: Any
    method: str | None = None
    #: The guide table the claim is a cell of (for regenerating it), and its column.
    table: str | None = None
    column: str | None = None
    protocols: tuple[str, ...] = ()
    #: Conditions under which the guide's statement applies, e.g. ``podman >= 5.3``.
    conditions: tuple[Condition, ...] = ()
    notes: str = ""
    #: Why no scenario observes this statement (yet); empty when one does.
    unchecked: str = ""
    #: Why the scenario's check of this statement is weak (it could pass in a wrong world).
    weak: str = ""
    #: Not a statement of the guide: about a method the guide does not describe (podman 6's
    #: pasta port forwarder); ``source`` cites the documentation the expectation comes from.
    beyond_guide: bool = False
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @builtins.property  # the field 'property' shadows the builtin in this class
    def citation(self) -> str:
        if self.beyond_guide:
            return f"beyond the guide: {self.source}"
        return f"{GUIDE} § {self.section} ({self.anchor})"

    def applies(self, versions: dict[str, Version | None]) -> tuple[bool, str]:
        """Whether the claim applies to these versions, with the reason if not."""
        for cond in self.conditions:
            holds = cond.holds(versions)
            if holds is False:
                have = versions.get(cond.component)
                return False, f"the guide's statement needs {cond}; this target has {have}"
            if holds is None:
                return False, f"the guide's statement needs {cond}; {cond.component} is absent"
        return True, ""


_KNOWN_KEYS = {
    "id", "section", "anchor", "statement", "property", "expected", "method", "table",
    "column", "protocols", "conditions", "notes", "unchecked", "weak", "beyond_guide", "source",
}
#: Keys every claim has; a claim beyond the guide cites ``source`` instead of an anchor.
_REQUIRED = {"id", "section", "anchor", "statement", "property", "expected"}
_REQUIRED_BEYOND = _REQUIRED - {"anchor"} | {"source"}


@dataclass(frozen=True)
class Registry:
    claims: tuple[Claim, ...]
    tables: dict[str, dict[str, Any]]

    @classmethod
    def load(cls, path: Path) -> Registry:
        """Load one registry file, or every ``*.toml`` of a directory (one per area)."""
        files = sorted(path.glob("*.toml")) if path.is_dir() else [path]
        claims: list[Claim] = []
        tables: dict[str, dict[str, Any]] = {}
        for file in files:
            part = cls._load_file(file)
            claims += part.claims
            twice = set(tables) & set(part.tables)
            if twice:
                raise UsageError(f"table {sorted(twice)} is defined twice (again in {file})")
            tables.update(part.tables)
        ids = [c.id for c in claims]
        dupes = {i for i in ids if ids.count(i) > 1}
        if dupes:
            raise UsageError(f"duplicate claim ids in {path}: {sorted(dupes)}")
        return cls(tuple(claims), tables)

    @classmethod
    def _load_file(cls, path: Path) -> Registry:
        try:
            data = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise UsageError(f"cannot read the claims registry {path}: {exc}") from exc
        claims = []
        for entry in data.get("claim", []):
            beyond = entry.get("beyond_guide", False)
            if not isinstance(beyond, bool):
                raise UsageError(f"claim {entry.get('id', '?')} in {path}: beyond_guide must "
                                 "be true or false")
            missing = (_REQUIRED_BEYOND if beyond else _REQUIRED) - set(entry)
            if missing:
                raise UsageError(f"claim {entry.get('id', '?')} in {path} lacks {sorted(missing)}")
            claims.append(Claim(
                id=entry["id"], section=entry["section"], anchor=entry.get("anchor", ""),
                statement=entry["statement"], property=entry["property"],
                expected=entry["expected"], method=entry.get("method"),
                table=entry.get("table"), column=entry.get("column"),
                protocols=tuple(entry.get("protocols", ())),
                conditions=tuple(Condition.parse(c) for c in entry.get("conditions", ())),
                notes=entry.get("notes", ""),
                unchecked=_reason(entry, "unchecked", path),
                weak=_reason(entry, "weak", path),
                beyond_guide=beyond,
                source=_reason(entry, "source", path) if beyond else "",
                extra={k: v for k, v in entry.items() if k not in _KNOWN_KEYS},
            ))
        return cls(tuple(claims), data.get("table", {}))

    @builtins.property
    def guide_claims(self) -> tuple[Claim, ...]:
        """The guide's statements: every claim but those beyond the guide."""
        return tuple(c for c in self.claims if not c.beyond_guide)

    def get(self, claim_id: str) -> Claim:
        for claim in self.claims:
            if claim.id == claim_id:
                return claim
        raise UsageError(f"unknown claim '{claim_id}'")

    def select(self, prop: str | None = None, method: str | None = None,
               table: str | None = None) -> list[Claim]:
        return [
            c for c in self.claims
            if (prop is None or c.property == prop)
            and (method is None or c.method == method)
            and (table is None or c.table == table)
        ]

    def for_methods(self, prop: str, methods: Iterable[str]) -> list[Claim]:
        wanted = set(methods)
        return [c for c in self.select(prop) if c.method in wanted]


def _reason(entry: dict[str, Any], key: str, path: Path) -> str:
    """An ``unchecked``, ``weak`` or ``source`` key: one non-empty line."""
    value = entry.get(key, "")
    if not isinstance(value, str) or (key in entry and not value.strip()) or "\n" in value:
        what = "citing the documentation" if key == "source" else "saying why"
        raise UsageError(f"claim {entry['id']} in {path}: '{key}' must be one line {what}")
    return value.strip()


#: The suites' package carries the registry as its data (never imported from here).
DEFAULT_REGISTRY = Path(str(resources.files("scenarios") / "claims"))


def load_default() -> Registry:
    return Registry.load(DEFAULT_REGISTRY)
