"""Anchors of the claim rows of a run's report, so other pages (the release matrix) can
link to the evidence of one result: ``claim-<claim id>[-<protocol>]``, numbered from
``-2`` when a run holds the same claim and protocol more than once."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from harness.results.schema import ClaimResult


def claim_anchors(results: Sequence[ClaimResult]) -> list[str]:
    """One anchor per result, in the order of ``results``."""
    seen: Counter[str] = Counter()
    anchors = []
    for result in results:
        base = "claim-" + re.sub(r"[^A-Za-z0-9._-]", "-", "-".join(
            p for p in (result.claim_id, result.protocol) if p))
        seen[base] += 1
        anchors.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return anchors
