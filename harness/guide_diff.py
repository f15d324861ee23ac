"""``podnet guide diff [OLD] [NEW]``: what changed between two revisions of the guide, for
the claims registry.

Per section of the newer revision, in its order: claims whose quote changed (the claim has
another wording there), that moved to another section, or vanished (no wording of it is
in NEW); sections, paragraphs and
table rows that are new and that no claim quotes yet; examples (the guide's fenced blocks
under one heading) that are new or whose blocks changed. Claims of sections NEW no longer
has come last. Paragraphs and rows count as new when their text (whitespace aside) is
nowhere in OLD.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from harness.claims import Claim, Registry
from harness.examples.parse import parse
from harness.examples.structure import Example
from harness.guide.revisions import Revision
from harness.markup import flat, shortened

#: The kinds of change, in the order a section lists them.
KINDS = ("new section", "claim reworded", "claim moved", "claim vanished", "new paragraph",
         "new table row", "new example", "changed example")
#: A section of the newer revision for claims of sections it no longer has.
GONE = "sections no longer in the newer revision"


@dataclass(frozen=True)
class Change:
    kind: str
    #: The line in the newer revision (in the older one for a vanished claim).
    line: int
    text: str
    #: The claim it is about, for the claim kinds.
    claim: str = ""


@dataclass(frozen=True)
class SectionChanges:
    anchor: str
    title: str
    line: int
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class GuideDiff:
    old: Revision
    new: Revision
    sections: tuple[SectionChanges, ...] = ()

    @property
    def unchanged(self) -> bool:
        return self.old.text == self.new.text

    def count(self, kind: str) -> int:
        return sum(1 for s in self.sections for c in s.changes if c.kind == kind)

    @property
    def uncovered(self) -> int:
        """New paragraphs and table rows that no claim quotes: statements not covered."""
        return self.count("new paragraph") + self.count("new table row")

    def lines(self) -> list[str]:
        """The terminal's text: a first line that says whether the guide changed, the
        totals, then each section with its changes."""
        head = f"guide diff {self.old.label} -> {self.new.label}"
        if self.unchanged:
            return [f"{head}: unchanged"]
        totals = ", ".join(f"{self.count(k)} {k}" for k in KINDS if self.count(k))
        out = [f"{head}: changed; {self.uncovered} new statements (paragraphs and table rows) "
               f"no claim quotes yet", f"totals: {totals or 'no change of note'}"]
        for section in self.sections:
            where = f" (line {section.line})" if section.line else ""
            out.append(f"## {section.title}{where}")
            for change in section.changes:
                about = f"{change.claim}: " if change.claim else ""
                text = shortened(flat(change.text), 160)
                out.append(f"  {change.kind} (line {change.line}): {about}{text}")
        return out


def _pieces(revision: Revision) -> Iterator[tuple[str, str, int, str]]:
    """Each section's own paragraphs and table rows (up to its first subsection) outside
    fenced blocks: anchor, kind, line, text."""
    headings = {start: anchor for anchor, (start, _) in revision.sections.items()}
    anchor, at = "", 0
    paragraph: list[str] = []
    for number, (line, fenced) in enumerate(zip(revision.text.splitlines(), revision.fenced,
                                                strict=True), 1):
        stripped = line.strip()
        table = not fenced and stripped.startswith("|")
        # No text: a heading, a blank line, markup (<details>) or a fenced block.
        textless = number in headings or fenced or not stripped or stripped.startswith("<")
        # A paragraph ends at a line without text or at a table.
        if paragraph and (textless or table):
            yield anchor, "new paragraph", at, " ".join(paragraph)
            paragraph = []
        anchor = headings.get(number, anchor)
        if not anchor or textless:
            continue  # before the first heading, or no text
        if table:
            if not re.fullmatch(r"\|[\s:|-]*", stripped):
                yield anchor, "new table row", number, stripped
            continue
        if not paragraph:
            at = number
        paragraph.append(stripped)
    if paragraph:
        yield anchor, "new paragraph", at, " ".join(paragraph)


def _block_texts(example: Example) -> tuple[str, ...]:
    return tuple(flat(block.text) for block in example.blocks)


def diff(old: Revision, new: Revision, registry: Registry) -> GuideDiff:
    """What changed from ``old`` to ``new`` for the claims of ``registry``."""
    if old.text == new.text:
        return GuideDiff(old, new)
    found: dict[str, list[Change]] = {
        anchor: [] if anchor in old.sections
        else [Change("new section", new.headings[anchor], new.titles[anchor])]
        for anchor in new.sections}
    gone: list[Change] = []
    worded = (c.wording_in(new) for c in registry.guide_claims)
    quotes_new = [w.quote for w in worded if w is not None and w.quote]
    for claim in registry.guide_claims:
        _claim_change(claim, old, new, found, gone)
    old_flat = flat(old.text)
    for anchor, kind, line, text in _pieces(new):
        if flat(text) in old_flat or any(flat(q) in flat(text) for q in quotes_new):
            continue
        found[anchor].append(Change(kind, line, text))
    old_examples = {e.id: e for e in parse(old.text)}
    for example in parse(new.text):
        before = old_examples.get(example.id)
        if before is None:
            change = Change("new example", example.line,
                            f"{example.id} ({len(example.blocks)} blocks)")
        elif _block_texts(before) != _block_texts(example):
            change = Change("changed example", example.line, example.id)
        else:
            continue
        found.setdefault(f"#{example.id}", []).append(change)
    sections = [SectionChanges(anchor, new.titles.get(anchor, anchor), new.headings.get(anchor, 0),
                               tuple(sorted(changes, key=lambda c: (KINDS.index(c.kind), c.line))))
                for anchor, changes in found.items() if changes]
    if gone:
        sections.append(SectionChanges("", GONE, 0, tuple(gone)))
    return GuideDiff(old, new, tuple(sections))


def _claim_change(claim: Claim, old: Revision, new: Revision, found: dict[str, list[Change]],
                  gone: list[Change]) -> None:
    before, after = claim.wording_in(old), claim.wording_in(new)
    if before is None:
        return
    if after is None:
        line = before.line_in(old) or 0
        change = Change("claim vanished", line, f"'{before.quote}' (line {line} of "
                                                f"{old.short})", claim.id)
        found.get(before.anchor, gone).append(change)
    elif after.quote != before.quote:
        found[after.anchor].append(Change(
            "claim reworded", after.line_in(new) or 0,
            f"'{before.quote}' -> '{after.quote}'", claim.id))
    elif after.anchor != before.anchor:
        found[after.anchor].append(Change(
            "claim moved", after.line_in(new) or 0,
            f"from '{before.section.split(' > ')[-1]}'", claim.id))
