"""The custom-network unit checks (two networks, internal networks) fed wrong worlds."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.results.recorder import ClaimMismatch, NoObservation
from scenarios.test_network_units import internal_listens, reachable_from
from tests.claim_check import check


def test_on_both_networks_holds(tmp_path: Path) -> None:
    check("restrict.multiple-networks.quadlet", reachable_from(
        {"a": "10.89.1.2", "b": "10.89.0.2"}, {"a": True, "b": True}), tmp_path)


@pytest.mark.parametrize(("addresses", "fetched"), [
    ({"a": "10.89.1.2", "b": None}, {"a": True}),  # one Network= line kept
    ({"a": "10.89.1.2", "b": "10.89.0.2"}, {"a": True, "b": False}),  # not reached there
])
def test_a_container_missing_from_one_network_fails(addresses: dict[str, str | None],
                                                    fetched: dict[str, bool],
                                                    tmp_path: Path) -> None:
    with pytest.raises(ClaimMismatch):
        check("restrict.multiple-networks.quadlet", reachable_from(addresses, fetched),
               tmp_path)


def test_a_container_that_never_ran_is_no_observation() -> None:
    with pytest.raises(NoObservation, match="did not run"):
        reachable_from({"a": None, "b": None}, {})


def test_internal_network_not_listening_fails_next_to_a_serving_control(
        tmp_path: Path) -> None:
    assert internal_listens(True, None) is True
    with pytest.raises(ClaimMismatch):
        check("restrict.internal.publish-port", internal_listens(False, True), tmp_path)
    with pytest.raises(NoObservation, match="Internal=false"):
        internal_listens(False, False)
