"""The Network= table's judge fed wrong worlds: fetch output in the form the container's
script prints (harness.probes.outbound), with curl's exit statuses seen in the lab
(0 served, 7 no route from Network=none or an Internal=true network)."""

from __future__ import annotations

import pytest

from harness.claims import load_default
from harness.probes.outbound import FetchResult, parse_fetch_output
from harness.results.recorder import NoObservation
from scenarios.test_network_directive import PLACEHOLDER, internet_reached, unit_reached

URL = "http://192.0.2.10:18093/podnet-abc"
TOKEN = "podnet-abc"


def fetched(curl_exit: int, body: str = "", gateway: str = "") -> FetchResult:
    return parse_fetch_output(f"gateway {gateway}\nresult {URL} {curl_exit} {body}\n"
                              "hosts-begin\nhosts-end\n")


SERVED = fetched(0, TOKEN, "192.0.2.10")


def test_served_is_reached_without_a_control() -> None:
    assert internet_reached(SERVED, None, TOKEN) is True


def test_no_route_with_the_control_served_is_not_reached() -> None:
    assert internet_reached(fetched(7), SERVED, TOKEN) is False


def test_another_answer_is_not_the_server() -> None:
    """A reply without the token (another server on the way) is neither reached nor a
    connection failure."""
    with pytest.raises(NoObservation, match="neither reached"):
        internet_reached(fetched(0, "other"), SERVED, TOKEN)


@pytest.mark.parametrize("curl_exit", [28, 6, 127])
def test_a_timeout_or_a_broken_tool_is_no_observation(curl_exit: int) -> None:
    with pytest.raises(NoObservation, match="neither reached"):
        internet_reached(fetched(curl_exit), SERVED, TOKEN)


def test_without_a_control_that_reached_the_server_nothing_is_observed() -> None:
    with pytest.raises(NoObservation, match="control"):
        internet_reached(fetched(7), fetched(7), TOKEN)
    with pytest.raises(NoObservation, match="control"):
        internet_reached(fetched(7), None, TOKEN)


def test_claims_use_only_known_placeholders() -> None:
    for claim in load_default().select("network_directive_reaches_internet"):
        for line in claim.extra["network_lines"]:
            assert "{" not in PLACEHOLDER.sub("", line), (claim.id, line)


def test_addhost_unit_not_reaching_fails_only_next_to_a_control_that_did() -> None:
    assert unit_reached(SERVED, None, TOKEN) is True
    assert unit_reached(fetched(6), SERVED, TOKEN) is False  # AddHost= ignored: no name
    with pytest.raises(NoObservation, match="control"):
        unit_reached(fetched(6), fetched(6), TOKEN)
