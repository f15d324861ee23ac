"""The "Valid method combinations" checks, fed right and wrong worlds: podman's messages
and ``ss`` listings in ``fixtures/combinations`` were recorded in the lab (podman 5.4.2
on trixie)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.proxies.sockets import parse_ss
from harness.results.recorder import NoObservation
from scenarios.test_combinations import (
    PORTS_DISCARDED,
    Trial,
    combined,
    network_mode,
    publish_combined,
    socket_activated,
)

FIXTURES = Path(__file__).parent / "fixtures"


def recorded(name: str) -> str:
    return (FIXTURES / "combinations" / name).read_text()


def unrelated() -> str:
    return (FIXTURES / "refusals" / "unknown-option-5.4.2.txt").read_text()


def _trial(networks: tuple[str, str], returncode: int, stderr: str,
           controls: tuple[int, int] = (0, 0), mode: str | None = None) -> Trial:
    return Trial(networks, returncode, stderr, dict(zip(networks, controls, strict=True)), mode)


@pytest.mark.parametrize(("networks", "fixture"), [
    (("pasta", "slirp4netns"), "pasta-slirp4netns-5.4.2.txt"),
    (("host", "pasta"), "host-pasta-5.4.2.txt"),
    (("custom", "pasta"), "custom-pasta-5.4.2.txt"),
    (("host", "slirp4netns"), "host-slirp4netns-5.4.2.txt"),
    (("host", "custom"), "host-custom-5.4.2.txt"),
])
def test_refusal_naming_one_of_the_modes_is_exclusive(networks: tuple[str, str],
                                                      fixture: str) -> None:
    held, how = combined(_trial(networks, 125, recorded(fixture)))
    assert held is False
    assert how.startswith("podman refused:")


def test_refusal_naming_another_mode_is_no_observation() -> None:
    """podman refusing host + pasta says nothing about pasta + slirp4netns."""
    with pytest.raises(NoObservation, match="another reason"):
        combined(_trial(("pasta", "slirp4netns"), 125, recorded("host-pasta-5.4.2.txt")))


def test_unrelated_refusal_is_no_observation() -> None:
    with pytest.raises(NoObservation, match="another reason"):
        combined(_trial(("pasta", "slirp4netns"), 125, unrelated()))


def test_method_failing_alone_is_no_observation() -> None:
    """The positive control: slirp4netns broken on its own makes the refusal meaningless."""
    with pytest.raises(NoObservation, match="positive control"):
        combined(_trial(("pasta", "slirp4netns"), 125, recorded("pasta-slirp4netns-5.4.2.txt"),
                        controls=(0, 1)))


def test_accepted_pair_is_judged_by_the_network_the_container_gets() -> None:
    assert combined(_trial(("host", "pasta"), 0, "", mode="host"))[0] is False
    # A podman that really combined them (neither mode alone) fails the claim.
    assert combined(_trial(("custom", "pasta"), 0, "", mode="pasta+bridge"))[0] is True
    with pytest.raises(NoObservation, match="not observed"):
        combined(_trial(("slirp4netns:port_handler=rootlesskit",
                         "slirp4netns:port_handler=slirp4netns"), 0, "", mode="slirp4netns"))


def test_network_modes_as_podman_names_them() -> None:
    assert [network_mode(n) for n in ("pasta", "slirp4netns:port_handler=rootlesskit",
                                      "host", "podnet-net-1")] == [
        "pasta", "slirp4netns", "host", "bridge"]


def test_host_with_publish() -> None:
    assert PORTS_DISCARDED.search(recorded("host-publish-5.4.2.txt"))
    assert publish_combined(host_served=True, published_served=False, control_served=True) is False
    # The published port serving next to --network=host would contradict the guide.
    assert publish_combined(host_served=True, published_served=True, control_served=True) is True
    with pytest.raises(NoObservation, match="positive control"):
        publish_combined(host_served=True, published_served=False, control_served=False)
    with pytest.raises(NoObservation, match="does not serve"):
        publish_combined(host_served=False, published_served=False, control_served=True)


def test_socket_activated_needs_systemds_socket_shared_and_no_own_listener() -> None:
    activated = parse_ss(recorded("ss-socket-activated-pid1342.txt"))
    assert socket_activated(True, activated, 1342, "") is True
    assert socket_activated(False, activated, 1342, "") is False          # not served
    assert socket_activated(True, activated, 9999, "") is False           # another process
    own = "LISTEN 0 511 0.0.0.0:8080 0.0.0.0:*"
    assert socket_activated(True, activated, 1342, own) is False          # its own listener
    # nginx on the host network listening itself: no systemd socket.
    assert socket_activated(True, parse_ss(recorded("ss-own-listener-host-pid2337.txt")),
                            2337, "") is False
    both = parse_ss(recorded("ss-socket-activated-pid1342.txt")
                    + recorded("ss-own-listener-host-pid2337.txt"))
    assert socket_activated(True, both, 1342, "") is False                # two sockets


@pytest.mark.parametrize("networks", [("host", "slirp4netns"), ("host", "custom")])
def test_host_pairs_combined_fail_the_claim(networks: tuple[str, str]) -> None:
    """The wrong world of the host pairs: podman accepts the pair and the container gets
    both networks; a refusal for another reason is no observation."""
    other = network_mode(networks[1])
    assert combined(_trial(networks, 0, "", mode=f"host+{other}"))[0] is True
    with pytest.raises(NoObservation, match="another reason"):
        combined(_trial(networks, 125, unrelated()))
