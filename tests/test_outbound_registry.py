"""scenarios/claims/outbound.toml: every claim cites a heading of a guide revision, and the
outbound tables can be regenerated from their cells."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.claims import Registry
from harness.guide import revisions

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = Registry.load(ROOT / "scenarios" / "claims" / "outbound.toml")
# outbound-internet (native performance) lives in performance.toml, with the benchmarks.
TABLES = ("outbound-localhost", "outbound-main-interface", "unix-socket")


def _slug(heading: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"(\*\*|__|`)", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return "#" + text.replace(" ", "-")


def _anchors() -> set[str]:
    return {_slug(h) for revision in revisions.known()
            for h in re.findall(r"^#+\s+(.*)$", revision.text, re.M)}


@pytest.mark.parametrize("claim", REGISTRY.claims, ids=lambda c: c.id)
def test_claim_cites_an_existing_heading(claim: object) -> None:
    assert claim.anchor in _anchors(), f"{claim.id}: no heading for {claim.anchor}"  # type: ignore[attr-defined]


def test_slug_matches_github() -> None:
    assert _slug("example: connect to host's localhost using the pasta option `--tcp-ns` (`-T`)") == \
        "#example-connect-to-hosts-localhost-using-the-pasta-option---tcp-ns--t"


@pytest.mark.parametrize("name", TABLES)
def test_table_rows_and_columns_have_cells(name: str) -> None:
    table = REGISTRY.tables[name]
    cells = REGISTRY.select(table=name)
    assert {c.extra["row"] for c in cells} == set(table["rows"])
    assert {c.column for c in cells} <= set(table["columns"])
    assert all(c.anchor == table["anchor"] or c.section.startswith(table["section"]) for c in cells)


def test_addresses_used_are_documentation_range() -> None:
    """Addresses the checks use (the guide's arbitrary 11.11.11.11 is only mentioned; the
    addresses the guide quotes as observations are compared with, never used)."""
    used = [c.extra.get(k) for c in REGISTRY.claims
            for k in ("network", "connect", "run_args", "pasta_options")]
    expected = [c.expected for c in REGISTRY.claims if not c.property.startswith("quoted_")]
    text = json.dumps([*used, *expected])
    for addr in re.findall(r"\b\d+\.\d+\.\d+\.\d+\b", text):
        assert addr.startswith(("192.0.2.", "198.51.100.", "203.0.113.", "10.0.2.", "169.254.",
                                "127.0.0.1")), addr
