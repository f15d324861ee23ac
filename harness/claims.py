"""The claims registry: every statement of the guide, as data, anchored by its text.

Tests take expected outcomes from here, never from what they observe. The registry
files are ``scenarios/claims/*.toml``; this module only loads and queries it.

Format: one ``[[claim]]`` table per statement (keys of :class:`Claim`)::

    [[claim]]
    id = "outbound.localhost.pasta-map-gw"
    section = "Outbound TCP/UDP connections to the host's localhost > example: ..."
    anchor = "#example-connect-to-hosts-localhost-using-the-pasta-option---map-gw"
    quote = "Add the pasta option `--map-gw` and connect to `10.0.2.2:8080`"
    statement = "..."            # what is checked, in podnet's words
    property = "..."             # what a scenario measures
    expected = ...               # the outcome the guide states (from the quote's text)

    [[claim.wording]]            # the statement reworded in a later revision
    quote = "If the container process connects to the default gateway"
    statement = "..."            # any key of the claim may differ in this wording:
    connect = ["{gateway}"]      # expected values come from this revision's text

A claim cites the guide by ``section`` (its heading's GitHub ``anchor``) and ``quote``,
a short text that occurs in that section of the revision verified, its subsections
included (whitespace counts as one space, so a quote may span the guide's line breaks);
line numbers are found in that revision (:meth:`Registry.placements`), never kept here.
The claim's own keys are its wording in the seed revision; each ``[[claim.wording]]`` is
its wording in later revisions whose text has that quote instead (a wording may change
``section`` and ``anchor`` too, for a statement that moved). For a revision, the claim
is the first wording whose quote occurs in its section (:meth:`Registry.for_revision`);
when none does, the claim is "not in this revision" there: a run records it as not
applicable with that reason, never judged against text the reader cannot see. A claim
without ``quote`` is anchored by its section heading (``anchor``) alone (every claim of
the shipped registry has one). Claims beyond the guide (``beyond_guide = true``) cite
``source`` instead and are in every revision.
"""

from __future__ import annotations

import builtins
import dataclasses
import functools
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from harness.errors import UsageError
from harness.guide.revisions import Revision, selected
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
    #: A short text of the guide that states it (see the module's docstring).
    quote: str = ""
    #: Its wordings in later revisions: each the registry entry's keys that differ.
    wordings: tuple[dict[str, Any], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    #: The registry entry it was read from.
    entry: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    #: For a later revision's wording: the claim as the registry has it.
    origin: Claim | None = field(default=None, repr=False, compare=False)

    def wording_in(self, revision: Revision) -> Claim | None:
        """The claim as ``revision`` words it, or None when no wording occurs in it."""
        base = self.origin or self
        if base.beyond_guide or base.line_in(revision) is not None:
            return base
        return next((worded for worded in base.all_wordings()[1:]
                     if worded.line_in(revision) is not None), None)

    def all_wordings(self) -> tuple[Claim, ...]:
        """The claim in each of its wordings, the seed's first."""
        base = self.origin or self
        return (base, *(dataclasses.replace(
            _claim({**base.entry, **wording, "wording": []}, Path(base.id)), origin=base)
            for wording in base.wordings))

    @builtins.property
    def quotes(self) -> tuple[str, ...]:
        """The quote of each wording, the seed's first."""
        base = self.origin or self
        return (base.quote, *(str(w["quote"]) for w in base.wordings))

    def line_in(self, revision: Revision) -> int | None:
        """The line of ``revision`` where this wording's statement is."""
        if self.quote:
            return revision.line_in_section(self.quote, self.anchor)
        return revision.headings.get(self.anchor)


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


#: Keys of a registry entry that are the claim's own (the rest are its ``extra``).
_KNOWN_KEYS = {f.name for f in dataclasses.fields(Claim)
               if f.name not in ("wordings", "extra", "entry", "origin")} | {"wording"}
#: Keys whose value the claim keeps as written (the others are read by :func:`_claim`).
_AS_WRITTEN = ("id", "section", "statement", "property", "expected", "method", "table",
               "column", "notes")
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
            try:
                data = tomllib.loads(file.read_text())
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise UsageError(f"cannot read the claims registry {file}: {exc}") from exc
            claims += [_claim(entry, file) for entry in data.get("claim", [])]
            if twice := set(tables) & set(data.get("table", {})):
                raise UsageError(f"table {sorted(twice)} is defined twice (again in {file})")
            tables.update(data.get("table", {}))
        ids = [c.id for c in claims]
        if dupes := {i for i in ids if ids.count(i) > 1}:
            raise UsageError(f"duplicate claim ids in {path}: {sorted(dupes)}")
        return cls(tuple(claims), tables)

    def for_revision(self, revision: Revision) -> Registry:
        """The registry as ``revision`` words it: each claim in the wording whose quote
        occurs there; a claim in no wording there stays as the seed words it (its
        placement says it is not in this revision)."""
        return Registry(tuple(c.wording_in(revision) or c for c in self.claims), self.tables)

    def placements(self, revision: Revision) -> dict[str, Placement]:
        """Where each claim is in ``revision``: its line, or why it is not there."""
        out = {}
        for claim in self.claims:
            worded = claim.wording_in(revision)
            if worded is None:
                quotes = " or ".join(repr(q) for q in claim.quotes if q) or repr(claim.anchor)
                out[claim.id] = Placement(None, f"not in this revision: the guide at "
                                                f"{revision.label} has no {quotes}")
            else:
                out[claim.id] = Placement(None if worded.beyond_guide
                                          else worded.line_in(revision), "")
        return out

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


@dataclass(frozen=True)
class Placement:
    """Where a claim is in one revision: ``line`` (None for a claim beyond the guide),
    or ``absent``, why it is not in it."""

    line: int | None
    absent: str = ""


def _claim(entry: dict[str, Any], path: Path) -> Claim:
    """One ``[[claim]]`` of a registry file."""
    beyond = entry.get("beyond_guide", False)
    if not isinstance(beyond, bool):
        raise UsageError(f"claim {entry.get('id', '?')} in {path}: beyond_guide must "
                         "be true or false")
    if missing := (_REQUIRED_BEYOND if beyond else _REQUIRED) - set(entry):
        raise UsageError(f"claim {entry.get('id', '?')} in {path} lacks {sorted(missing)}")
    wordings = entry.get("wording", [])
    if not isinstance(wordings, list) or not all(
            isinstance(w, dict) and isinstance(w.get("quote"), str) and w["quote"].strip()
            and "id" not in w for w in wordings):
        raise UsageError(f"claim {entry['id']} in {path}: each [[claim.wording]] needs a "
                         "quote (and keeps the claim's id)")
    return Claim(
        **{key: entry[key] for key in _AS_WRITTEN if key in entry},
        anchor=entry.get("anchor", ""),
        protocols=tuple(entry.get("protocols", ())),
        conditions=tuple(Condition.parse(c) for c in entry.get("conditions", ())),
        unchecked=_reason(entry, "unchecked", path),
        weak=_reason(entry, "weak", path),
        beyond_guide=beyond,
        source=_reason(entry, "source", path) if beyond else "",
        quote=_quote(entry, path),
        wordings=tuple(wordings),
        extra={k: v for k, v in entry.items() if k not in _KNOWN_KEYS},
        entry=entry,
    )


def _quote(entry: dict[str, Any], path: Path) -> str:
    value = entry.get("quote", "")
    if not isinstance(value, str) or (value and not value.strip()):
        raise UsageError(f"claim {entry['id']} in {path}: 'quote' must be a text of the guide")
    return value


def _reason(entry: dict[str, Any], key: str, path: Path) -> str:
    """An ``unchecked``, ``weak`` or ``source`` key: one non-empty line."""
    value = entry.get(key, "")
    if not isinstance(value, str) or (key in entry and not value.strip()) or "\n" in value:
        what = "citing the documentation" if key == "source" else "saying why"
        raise UsageError(f"claim {entry['id']} in {path}: '{key}' must be one line {what}")
    return value.strip()


#: The suites' package carries the registry as its data (never imported from here).
DEFAULT_REGISTRY = Path(str(resources.files("scenarios") / "claims"))


@functools.cache
def _shipped() -> Registry:
    """The registry shipped with podnet, read once per process."""
    return Registry.load(DEFAULT_REGISTRY)


def load_default(revision: Revision | None = None) -> Registry:
    """The registry as ``revision`` words it (default: the revision this process judges,
    :func:`harness.guide.revisions.selected`), made once per process per revision."""
    return _worded(revision or selected())


@functools.cache
def _worded(revision: Revision) -> Registry:
    return _shipped().for_revision(revision)
