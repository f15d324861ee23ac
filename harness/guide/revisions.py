"""The guide's revisions podnet knows, and the one a command judges.

A revision is the guide's README.md at one commit of its repository: its text, commit id,
date and subject. ``harness/data/guide/revisions.toml`` lists them oldest first (written
by ``scripts/guide-revisions`` from the guide's history); the seed's and the newest's
full texts are files beside it, the others zero-context patches on the revision before.
The default revision is the newest one shipped. ``--guide`` selects another: a known
commit id (7 or more hex digits), a date (the newest revision of that day or before), or
the path of a README.md (a revision of its own, named by its path; when its text is a
known revision's, it is that revision).
"""

from __future__ import annotations

import functools
import re
import tomllib
from bisect import bisect_right
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from harness.errors import UsageError

DATA = "data/guide"
#: A hunk of a zero-context unified diff: the old text's first line and line count, then
#: its removed and added lines.
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@.*\n((?:[-+].*(?:\n|$))*)",
                   re.MULTILINE)
#: An ATX heading: its level's hashes and its text.
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COMMIT = re.compile(r"^[0-9a-f]{7,40}$")


@dataclass(frozen=True)
class Revision:
    """One revision of the guide. ``commit`` and ``date`` are empty for a file that is
    no known revision; ``source`` is then its path."""

    text: str = field(repr=False)
    commit: str = ""
    date: str = ""
    subject: str = ""
    source: str = ""

    @property
    def short(self) -> str:
        """The name a report gives it: the short commit id, or the file's path."""
        return self.commit[:7] if self.commit else self.source

    @property
    def label(self) -> str:
        """``19f4819 (2026-08-10)``, or ``file ./README.md`` for an unknown file."""
        return f"{self.short} ({self.date})" if self.commit else f"file {self.source}"

    @property
    def known(self) -> bool:
        return bool(self.commit)

    def record(self) -> dict[str, str]:
        """What a run record keeps of it (:func:`from_record` reads it back)."""
        return {"commit": self.commit, "date": self.date, "subject": self.subject,
                "source": self.source}

    @functools.cached_property
    def _line_starts(self) -> list[int]:
        """The offsets where the text's lines start."""
        return [0] + [m.end() for m in re.finditer("\n", self.text)]

    def line_of(self, quote: str, after: int = 0) -> int | None:
        """The line (from 1) where ``quote`` first starts in this revision at or after
        line ``after``, or None when it does not occur there. Whitespace counts as one
        space, so a quote may span the guide's line breaks."""
        words = quote.split()
        if not words:
            return None
        starts = self._line_starts
        begin = starts[after - 1] if 0 < after <= len(starts) else 0
        found = re.compile(r"\s+".join(map(re.escape, words))).search(self.text, begin)
        return bisect_right(starts, found.start()) if found else None

    def line_in_section(self, quote: str, anchor: str) -> int | None:
        """The line of ``quote`` in the section whose heading has GitHub anchor ``anchor``
        (its subsections included), None when the revision has no such heading or the
        quote is not in its section."""
        if anchor not in self.sections:
            return None
        start, end = self.sections[anchor]
        line = self.line_of(quote, start)
        return line if line is not None and line < end else None

    def contains(self, quote: str) -> bool:
        return self.line_of(quote) is not None

    @functools.cached_property
    def headings(self) -> dict[str, int]:
        """GitHub's anchor of each heading (``#...``, repeated ones ``-1``, ``-2``) and
        its line, in the guide's order."""
        return {anchor: start for anchor, (start, _) in self.sections.items()}

    @functools.cached_property
    def titles(self) -> dict[str, str]:
        """Each heading's anchor and its text as the guide writes it, in the guide's order."""
        lines = self.text.splitlines()
        return {anchor: _HEADING.sub(r"\2", lines[start - 1])
                for anchor, (start, _) in self.sections.items()}

    @functools.cached_property
    def fenced(self) -> list[bool]:
        """Whether each line (the first at 0) is in a fenced block, its fences included."""
        marks: list[bool] = []
        fence = ""
        for line in self.text.splitlines():
            stripped = line.strip()
            marker = re.match(r"`{3,}|~{3,}", stripped)
            marks.append(bool(fence or marker))
            if marker and not fence:
                fence = marker.group()[0]
            elif marker and stripped.startswith(fence * 3):
                fence = ""
        return marks

    @functools.cached_property
    def sections(self) -> dict[str, tuple[int, int]]:
        """Each heading's anchor and its section: the heading's line and the line of the
        next heading of the same or a higher level (one past the end for the last)."""
        found: list[tuple[str, int, int]] = []
        seen: dict[str, int] = {}
        lines = self.text.splitlines()
        for number, (line, fenced) in enumerate(zip(lines, self.fenced, strict=True), 1):
            if fenced or not (heading := _HEADING.match(line)):
                continue
            found.append(("#" + anchor(heading.group(2), seen), number, len(heading.group(1))))
        return {name: (start, next((line for _, line, other in found[index + 1:] if other <= level),
                                   len(lines) + 1))
                for index, (name, start, level) in enumerate(found)}

def github_slug(heading: str) -> str:
    """GitHub's anchor for a heading: rendered text, lowercase, punctuation dropped."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links keep their text
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)  # bold
    text = re.sub(r"(?<!\w)([*_])(.+?)\1(?!\w)", r"\2", text)  # emphasis
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchor(heading: str, seen: dict[str, int]) -> str:
    """GitHub's anchor for a heading, without its ``#``: one repeated gets ``-1``, ``-2``,
    ... (``seen`` counts the slugs so far)."""
    slug = github_slug(heading)
    count = seen.get(slug, 0)
    seen[slug] = count + 1
    return slug if count == 0 else f"{slug}-{count}"


def _apply(text: str, patch: str, name: str) -> str:
    """``text`` with a zero-context unified diff applied (the form scripts/guide-revisions
    writes); a hunk whose removed lines are not in the text is an error."""
    lines = text.split("\n")
    out: list[str] = []
    done = 0  # lines of ``lines`` consumed
    for hunk in _HUNK.finditer(patch):
        start, count = int(hunk.group(1)), int(hunk.group(2) or 1)
        body = hunk.group(3).split("\n")
        first = start - 1 if count else start  # an insertion comes after line ``start``
        if lines[first:first + count] != [line[1:] for line in body if line.startswith("-")]:
            raise ValueError(f"{name}: a hunk at line {start} does not match the text")
        out += lines[done:first] + [line[1:] for line in body if line.startswith("+")]
        done = first + count
    return "\n".join(out + lines[done:])


def _read(name: str) -> str:
    return resources.files("harness").joinpath(f"{DATA}/{name}").read_text(encoding="utf-8")


@functools.cache
def known() -> tuple[Revision, ...]:
    """Every revision podnet ships, oldest first."""
    entries: list[dict[str, Any]] = tomllib.loads(_read("revisions.toml"))["revision"]
    revisions: list[Revision] = []
    text = ""
    for entry in entries:
        if "patch" in entry:
            text = _apply(text, _read(entry["patch"]), entry["patch"])
        if "text" in entry:
            full = _read(entry["text"])
            if "patch" in entry and full != text:
                raise ValueError(f"{entry['text']} is not its patch applied to the "
                                 "revision before it")
            text = full
        revisions.append(Revision(text, entry["commit"], entry["date"], entry["subject"]))
    return tuple(revisions)


def seed() -> Revision:
    """The revision podnet was first written against (the oldest shipped)."""
    return known()[0]


def newest() -> Revision:
    """The default: the newest revision shipped."""
    return known()[-1]


def resolve(spec: str | None) -> Revision:
    """The revision ``--guide`` names (None or empty: the newest); anything else is one
    line listing the known revisions."""
    if not spec:
        return newest()
    text = spec.strip()
    if _COMMIT.match(text.lower()):
        found = [r for r in known() if r.commit.startswith(text.lower())]
        if len(found) == 1:
            return found[0]
    if _DATE.match(text):
        before = [r for r in known() if r.date <= text]
        if before:
            return before[-1]
        raise UsageError(f"--guide {text}: no known revision of the guide is that old; the "
                         f"oldest is {seed().label}")
    path = Path(text)
    if path.is_file():
        try:
            content = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--guide {text}: cannot read it ({exc}); give the path of the "
                             "guide's README.md") from None
        same = [r for r in known() if r.text == content]
        return same[-1] if same else Revision(content, source=text)
    raise UsageError(f"unknown guide revision {text!r}: give a commit id, a date "
                     f"(YYYY-MM-DD) or the path of a README.md; known revisions: "
                     + ", ".join(r.label for r in known()))


def judged(record: dict[str, Any] | None) -> Revision:
    """The revision a run judged, from its record: a run recorded before runs named
    their revision judged the seed; a file podnet does not know, the newest (its text was
    not kept: the results carry their lines and what was not in it)."""
    if not record:
        return seed()
    commit = record.get("commit")
    return next((r for r in known() if commit and r.commit == commit), newest())


def record_label(record: dict[str, Any] | None) -> str:
    """How a report names the revision a run judged, from the run's record. A run
    recorded before podnet knew revisions judged the seed, the only one it shipped."""
    if not record:
        return f"{seed().label} (recorded before runs named their revision)"
    return Revision("", str(record.get("commit") or ""), str(record.get("date", "")),
                    source=str(record.get("source", "?"))).label


def records_label(records: list[dict[str, Any] | None]) -> str:
    """The revisions several runs judged, each once, for a report on them all."""
    return ", ".join(dict.fromkeys(record_label(r) for r in records)) or "none"


#: The revision this process judges: set once by the command line or the pytest
#: plugin from ``--guide``; the newest shipped until then.
_selected: list[Revision] = []


def select(revision: Revision) -> None:
    _selected[:] = [revision]


def selected() -> Revision:
    return _selected[0] if _selected else newest()
