"""The isolate table's judge fed wrong worlds: curl's results as seen in the lab (netavark
1.14, trixie: a connection across isolated networks times out, exit 28)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.claims import load_default
from harness.results.recorder import ClaimMismatch, NoObservation
from scenarios.test_isolate import Attempt, connection_allowed, isolate_options
from tests.claim_check import check

SERVED = Attempt("net2", 0, "200", "podman run ... curl")
TIMED_OUT = Attempt("net1", 28, "000curl: (28) Connection timed out after 3001 milliseconds",
                    "podman run ... curl")


def test_the_table_has_every_pair_and_the_default() -> None:
    claims = load_default().select("isolate_allows")
    pairs = {(c.extra.get("net1"), c.extra.get("net2")) for c in claims}
    values = ("strict", "true", "false")
    assert {(a, b) for a in values for b in values} <= pairs
    assert (None, "false") in pairs
    assert isolate_options(None) == [] and isolate_options("strict") == ["--opt=isolate=strict"]


def test_a_strict_network_letting_the_connection_through_fails(tmp_path: Path) -> None:
    with pytest.raises(ClaimMismatch):
        check("restrict.isolate.strict-to-false", connection_allowed(SERVED, SERVED), tmp_path)


def test_false_networks_that_isolate_fail(tmp_path: Path) -> None:
    with pytest.raises(ClaimMismatch):
        check("restrict.isolate.false-to-false", connection_allowed(TIMED_OUT, SERVED),
               tmp_path)


def test_not_allowed_needs_the_control_served() -> None:
    with pytest.raises(NoObservation, match="control"):
        connection_allowed(TIMED_OUT, TIMED_OUT)


def test_another_curl_failure_is_no_observation() -> None:
    with pytest.raises(NoObservation, match="another reason"):
        connection_allowed(Attempt("net1", 6, "Could not resolve host", "curl"), SERVED)
