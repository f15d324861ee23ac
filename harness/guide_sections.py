"""The guide's headings in the guide's order, as data: (GitHub anchor, heading).

Read from the revisions podnet ships (harness.guide.revisions): the newest revision's
headings, with those of older revisions that it no longer has each placed after the
heading that came before it there. Reports order claims by the position of their
``anchor`` here, which is the order in which the guide makes its statements.
"""

from __future__ import annotations

import functools

from harness.guide.revisions import known


@functools.cache
def headings() -> tuple[tuple[str, str], ...]:
    """The headings in the guide's order: the newest shipped revision's, and each older
    heading it lacks after the one before it in that older revision (made on first use:
    every shipped revision is read for them)."""
    revisions = known()
    order = list(revisions[-1].titles.items())
    for revision in reversed(revisions[:-1]):
        placed = {anchor for anchor, _ in order}
        previous = ""
        for anchor, title in revision.titles.items():
            if anchor not in placed:
                at = next((i + 1 for i, (a, _) in enumerate(order) if a == previous), 0)
                order.insert(at, (anchor, title))
                placed.add(anchor)
            previous = anchor
    return tuple(order)


@functools.cache
def _positions() -> tuple[dict[str, int], dict[str, int]]:
    order = headings()
    return ({anchor: i for i, (anchor, _) in enumerate(order)},
            {title.replace("`", "").replace("__", ""): i for i, (_, title) in enumerate(order)})


def position(anchor: str | None, section: str = "") -> int:
    """Where a claim's section comes in the guide: by its anchor, else by the last
    heading of its section path; sections the guide lacks come after all others."""
    by_anchor, by_title = _positions()
    if anchor in by_anchor:
        return by_anchor[anchor]
    last = section.split(" > ")[-1].strip()
    return by_title.get(last, len(headings()))
