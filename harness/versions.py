"""Version objects that gate features and version conditions of claims.

Podman, netavark and friends use dotted versions (``5.4.2``, ``6.0.0-rc1``); passt
uses dates (``2025_05_03.587980c`` upstream, ``0.0~git20250503.587980c`` in Debian,
``0^20240821.g1d6142f`` in Fedora), compared as ``(year, month, day)``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from harness.errors import UsageError

_DOTTED = re.compile(r"(?<![\w.])(\d+)\.(\d+)(?:\.(\d+))?")
_BARE = re.compile(r"(?<![\w.])(\d+)(?![\w.])")
_DATE = re.compile(r"(20\d{2})[_-]?(\d{2})[_-]?(\d{2})")


@dataclass(frozen=True, order=True)
class Version:
    """Compared, equal and hashed by its numbers alone (``5.4`` is ``5.4.0``)."""

    parts: tuple[int, ...]
    text: str = field(default="", compare=False)

    @classmethod
    def parse(cls, text: str) -> Version:
        """Parse the first dotted version in ``text`` (``podman version 5.4.2`` works)."""
        match = _DOTTED.search(text) or _BARE.search(text)
        if match is None:
            raise ValueError(f"no version number in {text!r}")
        parts = tuple(int(p) for p in match.groups() if p is not None)
        return cls(parts + (0,) * (3 - len(parts)), match.group(0))

    def __str__(self) -> str:
        return ".".join(str(p) for p in self.parts)


def parse_passt(text: str) -> Version:
    """passt/pasta versions are dates: ``2025-05-03`` becomes ``Version((2025, 5, 3))``."""
    match = _DATE.search(text)
    if match is None:
        raise ValueError(f"no passt date version in {text!r}")
    year, month, day = (int(g) for g in match.groups())
    return Version((year, month, day), f"{year:04d}-{month:02d}-{day:02d}")


def parse_any(component: str, text: str) -> Version:
    return parse_passt(text) if component in ("passt", "pasta") else Version.parse(text)


_CONDITION = re.compile(r"^\s*(\w[\w-]*)\s*(>=|<=|==|!=|>|<)\s*(\S+)\s*$")
_OPERATORS: dict[str, Callable[[Version, Version], bool]] = {
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
    "==": operator.eq, "!=": operator.ne}


@dataclass(frozen=True)
class Condition:
    """A version condition such as ``podman >= 5.3`` or ``passt >= 2024-08-21``."""

    component: str
    op: str
    version: Version

    @classmethod
    def parse(cls, text: str) -> Condition:
        match = _CONDITION.match(text)
        if match is None:
            raise UsageError(f"invalid version condition {text!r}: expected 'name >= 1.2'")
        name, op, value = match.groups()
        try:
            return cls(name, op, parse_any(name, value))
        except ValueError as exc:
            raise UsageError(f"invalid version condition {text!r}: {exc}") from None

    def holds(self, versions: dict[str, Version | None]) -> bool | None:
        """True/False, or None when the component's version is unknown."""
        if (have := versions.get(self.component)) is None:
            return None
        return _OPERATORS[self.op](have, self.version)

    def __str__(self) -> str:
        return f"{self.component} {self.op} {self.version.text or self.version}"
