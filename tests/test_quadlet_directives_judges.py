"""The Quadlets checks fed wrong worlds: the quadlet generator's --dryrun output recorded
in the lab (podman 5.4.2, trixie: tests/fixtures/quadlet/dryrun-5.4.2.txt, made from
mynet.network, named.network with NetworkName=othername, and containers byfile
(Network=mynet.network), byname (Network=mynet), named (Network=named.network) and
nodeps ([Quadlet] DefaultDependencies=false, Network=none)) and podman's refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.claims import load_default
from harness.results.recorder import ClaimMismatch, NoObservation
from scenarios.test_quadlet_directives import (
    dependencies,
    generated_name,
    generated_units,
    network_option,
    several_refused,
)
from tests.claim_check import check

UNITS = generated_units((Path(__file__).parent / "fixtures" / "quadlet" /
                         "dryrun-5.4.2.txt").read_text())
REFUSED = ("Error: cannot set multiple networks without bridge network mode, selected mode "
           "none: invalid argument")


def _deps(unit: str, keys: dict[str, bool]) -> dict[str, bool]:
    found = dependencies(UNITS[unit], "mynet-network.service")
    return {k: found[k] for k in keys}


def test_the_dryrun_output_has_every_unit() -> None:
    assert {"mynet-network.service", "byfile.service", "byname.service",
            "nodeps.service"} <= set(UNITS)


def test_the_recorded_units_hold(tmp_path: Path) -> None:
    registry = load_default()
    for claim_id, unit in [("quadlets.network-file-adds-dependencies", "byfile.service"),
                           ("quadlets.network-name-no-dependencies", "byname.service"),
                           ("quadlets.default-wait-network-online", "byfile.service"),
                           ("quadlets.default-dependencies-false", "nodeps.service")]:
        check(claim_id, _deps(unit, registry.get(claim_id).expected), tmp_path)


@pytest.mark.parametrize(("claim_id", "unit"), [
    ("quadlets.network-file-adds-dependencies", "byname.service"),
    ("quadlets.network-name-no-dependencies", "byfile.service"),
    ("quadlets.default-wait-network-online", "nodeps.service"),
    ("quadlets.default-dependencies-false", "byfile.service"),
])
def test_the_other_units_fail(claim_id: str, unit: str, tmp_path: Path) -> None:
    """Each claim judged on the unit of the opposite setting: it must fail."""
    with pytest.raises(ClaimMismatch):
        check(claim_id, _deps(unit, load_default().get(claim_id).expected), tmp_path)


def test_network_names_are_read_from_podman_run() -> None:
    assert network_option(UNITS["byfile.service"]) == "systemd-mynet"
    assert network_option(UNITS["named.service"]) == "othername"
    assert generated_name("systemd-mynet", "mynet", "othername") == "systemd-{stem}"
    assert generated_name("othername", "named", "othername") == "{network_name}"


def test_a_name_other_than_networkname_fails(tmp_path: Path) -> None:
    with pytest.raises(ClaimMismatch):
        check("quadlets.network-name-set", generated_name("systemd-named", "named", "other"),
               tmp_path)


def test_several_networks_refused_only_for_that_reason() -> None:
    assert several_refused(125, REFUSED, 0, "") is True
    assert several_refused(0, "", 0, "") is False
    with pytest.raises(NoObservation, match="another reason"):
        several_refused(125, "Error: localhost/podnet/web: image not known", 0, "")
    with pytest.raises(NoObservation, match="control"):
        several_refused(125, REFUSED, 125, "Error: netavark: nftables error")


def test_a_pod_taking_its_own_mapping_fails(tmp_path: Path) -> None:
    from scenarios.test_quadlet_directives import own_mapping_refused
    message = ("Error: cannot specify a new uid/gid map when entering a pod with an infra "
               "container: invalid argument")
    check("quadlets.pod-same-mapping", own_mapping_refused((125, message), (0, "")), tmp_path)
    six = ("Error: cannot set user namespace mode when joining pod with infra container: "
           "invalid argument")  # podman 6.1.1
    assert own_mapping_refused((125, six), (0, "")) is True
    with pytest.raises(ClaimMismatch):
        check("quadlets.pod-same-mapping", own_mapping_refused((0, ""), (0, "")), tmp_path)
    with pytest.raises(NoObservation, match="outside a pod"):
        own_mapping_refused((125, message), (125, "Error: no subuid ranges found"))
    with pytest.raises(NoObservation, match="another reason"):
        own_mapping_refused((125, "Error: image not known"), (0, ""))


def test_a_container_user_binding_a_low_port_fails_the_denial(tmp_path: Path) -> None:
    from scenarios.test_quadlet_directives import bind_allowed
    denied = (1, "[Errno 13] Permission denied")
    check("quadlets.container-user-low-port-denied", bind_allowed(denied, (0, "")), tmp_path)
    with pytest.raises(ClaimMismatch):
        check("quadlets.container-user-low-port-denied", bind_allowed((0, ""), (0, "")),
              tmp_path)
    with pytest.raises(NoObservation, match="unprivileged port either"):
        bind_allowed(denied, (1, "[Errno 98] Address already in use"))
    with pytest.raises(NoObservation, match="another reason"):
        bind_allowed((1, "[Errno 98] Address already in use"), (0, ""))
