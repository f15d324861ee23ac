"""The judgments of the ip_unprivileged_port_start procedure and scope checks, of -T
against --map-gw and of web server Alternative 2, in the right world (observations
recorded in the lab, podman 5.4.2) and in wrong worlds that must fail them."""

from harness.bench import stats, verdict
from scenarios.test_outbound_alternatives import alternative2_conf, tcp_ns_judgment
from scenarios.test_unprivileged_port_setting import procedure_result, scope

#: Gbit/s per round, recorded in the lab: --map-gw, then -T.
MAP_GW = {0: 0.18e9, 1: 0.51e9, 2: 0.32e9}
TCP_NS = {0: 12.22e9, 1: 7.64e9, 2: 10.81e9}
LESS_EXPOSED = {"--map-gw": True, "-T": False}


def _perf(tcp_ns: dict[int, float], map_gw: dict[int, float]) -> verdict.Verdict:
    summary = stats.summarize(tcp_ns, map_gw)
    assert summary is not None
    return verdict.improves({"-T / --map-gw": summary}, min_rounds=3)


def test_procedure_reads_the_guides_value_and_publishes() -> None:
    assert procedure_result("443", True, "served") == 443


def test_procedure_fails_when_the_file_is_not_loaded() -> None:
    assert procedure_result("1024", False, "rootlessport cannot expose privileged port 443") != 443


def test_procedure_fails_when_the_port_is_not_published() -> None:
    assert procedure_result("443", False, "the service did not start") != 443


def test_scope_as_observed_is_per_network_namespace() -> None:
    observed = scope(False, True, {"unshare -n": "1024", "pasta container": "1024"})
    assert observed.startswith("per network namespace")


def test_scope_system_wide_when_every_namespace_follows() -> None:
    assert scope(False, True, {"unshare -n": "80", "pasta container": "80"}) == "system-wide"


def test_scope_not_system_wide_when_another_user_does_not_follow() -> None:
    assert scope(False, False, {"unshare -n": "80"}) != "system-wide"
    # a user allowed before the change shows nothing about the setting
    assert scope(True, True, {"unshare -n": "80"}) != "system-wide"


def test_tcp_ns_better_as_observed() -> None:
    assert tcp_ns_judgment(_perf(TCP_NS, MAP_GW), LESS_EXPOSED) is True


def test_tcp_ns_slower_fails() -> None:
    assert tcp_ns_judgment(_perf(MAP_GW, TCP_NS), LESS_EXPOSED) is False


def test_tcp_ns_straddling_is_inconclusive_never_passed() -> None:
    straddling = _perf({0: 1.2e9, 1: 0.9e9, 2: 1.05e9}, {0: 1e9, 1: 1e9, 2: 1e9})
    assert straddling.observed is None
    assert tcp_ns_judgment(straddling, LESS_EXPOSED) is None


def test_tcp_ns_exposing_as_much_fails() -> None:
    perf = _perf(TCP_NS, MAP_GW)
    assert tcp_ns_judgment(perf, {"--map-gw": True, "-T": True}) is False
    # --map-gw reaching nothing shows no difference in exposure either
    assert tcp_ns_judgment(perf, {"--map-gw": False, "-T": False}) is False


def test_alternative2_conf_listens_on_the_address_only() -> None:
    conf = alternative2_conf("192.0.2.1", 18093, "tok")
    assert "listen 192.0.2.1:18093;" in conf
    assert 'return 200 "tok\\n";' in conf
