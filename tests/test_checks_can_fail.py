"""Each fixed check of the guide, fed the wrong world: it must fail or error, never pass.

The refusals in ``fixtures/refusals`` are podman's messages recorded in the lab (podman
5.4.2 on trixie, 6.1.1 on experimental); the systemd states are what ``systemctl --user
show`` reported for the proxies' units there.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.capabilities import Capabilities, removal_message
from harness.claims import Claim, load_default
from harness.methods import get_method
from harness.podman.info import PodmanInfo
from harness.probes import netconf, outbound, procs
from harness.probes.hostserver import HostServer
from harness.probes.reach import Publication, served_or_refused
from harness.proxies.sockets import inherited_socket_ignored
from harness.reports.markdown import summary_lines
from harness.results.recorder import ClaimMismatch, NoObservation, Recorder
from harness.results.schema import Run
from harness.run import Completed
from harness.ui import summary_table
from scenarios.test_backend import cni_available
from scenarios.test_bind_device import Observation, escaping_needed, restricted
from scenarios.test_pasta_options import (
    auto_udp_observed,
    pasta_argument,
    publish_holds,
    publish_observation,
)
from scenarios.test_reverse_proxy import (
    needs_env_observed,
    notify_observation,
    reload_finding,
    reload_works,
)
from scenarios.test_security import AbstractConnect, abstract_reached, localhost_urls
from scenarios.test_traffic_capture import (
    destination_seen,
    dns_forwarder,
    host_method_seen,
    resolved_seen,
)
from scenarios.test_troubleshooting import solution_works
from scenarios.test_unprivileged_port import lowering_works, minimum_port

FIXTURES = Path(__file__).parent / "fixtures"
REFUSALS = FIXTURES / "refusals"


def refusal(name: str) -> str:
    return (REFUSALS / name).read_text()


def _claim(expected: Any, **extra: Any) -> Claim:
    return Claim(id="test.claim", section="s", anchor="#s", statement="a statement",
                 property="p", expected=expected, method=extra.pop("method", None), extra=extra)


# --- bind to device -----------------------------------------------------------------------

def test_device_syntax_refusal_is_not_supported() -> None:
    seen = Observation(refusal=refusal("device-publish-5.4.2.txt"), control=True)
    assert restricted(seen) is False


def test_unrelated_refusal_is_no_observation() -> None:
    seen = Observation(refusal=refusal("unknown-option-5.4.2.txt"), control=True)
    with pytest.raises(NoObservation, match="another reason"):
        restricted(seen)


def test_eth1_reaching_nothing_cannot_pass_a_supported_cell() -> None:
    """eth1 down: host2 served, host3 not served, bound or not."""
    with pytest.raises(NoObservation, match="reaches nothing"):
        restricted(Observation(control=False, near=True, far=False))


def test_a_service_that_never_started_is_no_observation() -> None:
    with pytest.raises(NoObservation, match="never served host2"):
        restricted(Observation(control=True, near=False, far=False))


def test_bind_device_observations() -> None:
    assert restricted(Observation(control=True, near=True, far=False)) is True
    assert restricted(Observation(control=True, near=True, far=True)) is False


# --- CNI removed --------------------------------------------------------------------------

def test_cni_refusal_and_netavark_report_show_cni_gone() -> None:
    assert cni_available(125, "", refusal("cni-backend-5.4.2.txt"))[0] is False
    assert cni_available(0, refusal("cni-backend-6.1.1.txt"), "")[0] is False
    assert cni_available(0, "cni\n", "")[0] is True


@pytest.mark.parametrize("stderr", [refusal("bogus-backend-5.4.2.txt"),
                                    refusal("unknown-option-5.4.2.txt"),
                                    "Error: database is locked\n", ""])
def test_unrelated_podman_error_is_no_observation(stderr: str) -> None:
    with pytest.raises(NoObservation):
        cni_available(125, "", stderr)


# --- reverse proxies ----------------------------------------------------------------------

NOTIFY_TIMEOUT_STATE = {"ActiveState": "failed", "SubState": "failed", "Result": "timeout",
                        "MainPID": "0"}
FAILED_STATE = {"ActiveState": "failed", "SubState": "failed", "Result": "exit-code",
                "MainPID": "0"}


def test_notify_timeout_is_no_notify_support() -> None:
    assert notify_observation(False, NOTIFY_TIMEOUT_STATE) is False
    assert notify_observation(True, {"ActiveState": "active", "Result": "success"}) is True


@pytest.mark.parametrize("state", [FAILED_STATE, {**FAILED_STATE, "Result": "signal"},
                                   {**FAILED_STATE, "Result": "protocol"}, {}])
def test_a_unit_failing_otherwise_is_no_observation(state: dict[str, str]) -> None:
    with pytest.raises(NoObservation, match="neither became active nor timed out"):
        notify_observation(False, state)


def _setup(ok: bool) -> dict[str, Any]:
    return {"reload_ok": ok, "reload_rc": 0 if ok else 1, "serves_after_reload": ok,
            "status_after_reload": 200 if ok else 0, "reload_error": None if ok else "Error"}


CADDY_REFUSED = ('Dec 07 06:03:57 host1 podnet-rproxy[7033]: {"level":"error","ts":1796623437.09,'
                 '"msg":"sending configuration to instance: performing request: Post '
                 '\\"http://127.0.0.1/load\\": dial fd: unknown network fd"}')


@pytest.mark.parametrize("said", [
    "Dec 07 host1 systemd[129]: podnet-rproxy.service: Unit has no ExecReload= setting: error",
    "Failed to reload podnet-rproxy.service: Job type reload is not applicable for unit: error",
    None,
])
def test_caddy_reload_failing_without_caddy_is_no_observation(said: str | None) -> None:
    """The wrong world: the reload failed for a reason of its own (no ExecReload, the unit
    not running). Before, any failed reload passed "reload does not work"."""
    setup = {**_setup(False), "reload_error": said, "serves_after_reload": True}
    with pytest.raises(NoObservation, match="without an error of caddy's own"):
        reload_works(setup)


def test_caddy_refusing_the_reload_is_not_working() -> None:
    assert reload_works({**_setup(False), "reload_error": CADDY_REFUSED}) is False


def test_caddy_reload_judges_the_described_setup_only() -> None:
    """The issue-6631 setup failing must not decide the claim: the verdict is
    reload_works(described), the other setup becomes a labelled measurement."""
    assert reload_works(_setup(True)) is True
    assert reload_works({**_setup(True), "serves_after_reload": False}) is False
    finding = reload_finding("caddy", _setup(False))
    assert (finding.kind, finding.value) == ("finding", 0.0)
    assert "6631" in finding.extra["finding"]


# --- pasta -p becomes -t ------------------------------------------------------------------

ARGV = procs.parse_cmdline((FIXTURES / "procs" / "pasta-cmdline-p-8080-80.bin").read_text())


def test_publish_p_needs_the_port_served() -> None:
    assert publish_holds("8080-8080:80-80", publish_observation(ARGV, served=True))
    assert not publish_holds("8080-8080:80-80", publish_observation(ARGV, served=False))


def test_publish_p_unserved_fails_the_claim(tmp_path: Path) -> None:
    recorder = Recorder(Run("r", 0.0), tmp_path)
    with pytest.raises(ClaimMismatch):
        recorder.check(_claim("8080-8080:80-80"), publish_observation(ARGV, served=False),
                       matches=publish_holds)
    assert recorder.run.results[0].outcome == "failed"


# --- --map-guest-addr default: the container's own pasta ------------------------------------

def test_map_guest_addr_read_from_the_containers_own_pasta() -> None:
    """Another container's pasta has --map-guest-addr, this container's has not: the
    check must see none."""
    mine = "/run/user/1000/netns/netns-mine"
    other = ["/usr/bin/pasta", "--config-net", "--netns", "/run/user/1000/netns/netns-other",
             "--map-guest-addr", "169.254.1.2"]
    own = ["/usr/bin/pasta", "--config-net", "--netns", mine]
    args = procs.serving([other, own], mine)
    assert args == own
    assert procs.option_values(args, "--map-guest-addr") == []
    assert procs.serving([other], mine) is None
    assert procs.serving([other], "") is None


# --- pasta localhost security check ------------------------------------------------------

def test_localhost_check_tries_every_host_address() -> None:
    addresses = netconf.parse_ipv4_addresses(
        (FIXTURES / "procs" / "ip-addr-4.json").read_text())
    assert addresses == ["192.0.2.1", "198.51.100.1", "127.0.0.1"]
    service = HostServer("tok", 1, "/tmp/x", "127.0.0.1", 18085)
    isolated = localhost_urls(service, addresses, gateway=True)
    hosts = [url.split("/")[2].rsplit(":", 1)[0] for url in isolated]
    assert hosts == ["127.0.0.1", "192.0.2.1", "198.51.100.1", "host.containers.internal",
                     "{gateway}"]
    assert "{gateway}" not in " ".join(localhost_urls(service, addresses, gateway=False))


def test_same_address_check() -> None:
    assert outbound.share_one_address({"example.com": "169.254.1.2",
                                       "host.containers.internal": "169.254.1.2"})
    assert not outbound.share_one_address({"example.com": "10.89.0.1",
                                           "host.containers.internal": "169.254.1.2"})
    assert not outbound.share_one_address({"example.com": None,
                                           "host.containers.internal": None})


# --- unsupported: podman no longer offers the method -------------------------------------

def test_slirp4netns_removal_is_matched_specifically() -> None:
    message = removal_message("slirp4netns", 125, refusal("slirp4netns-6.1.1.txt"))
    assert message is not None and message.startswith("slirp4netns support has been removed")
    assert removal_message("slirp4netns", 125, refusal("unknown-option-5.4.2.txt")) is None
    assert removal_message("slirp4netns", 125, "Error: could not find slirp4netns") is None
    assert removal_message("slirp4netns", 0, refusal("slirp4netns-6.1.1.txt")) is None
    assert removal_message("pasta", 125, refusal("slirp4netns-6.1.1.txt")) is None


class FakeTarget:
    """A podman 6 target: ``podman run`` answers with a recorded stderr."""

    name = "fake"
    can_root = True
    isolated = True

    def __init__(self, stderr: str) -> None:
        self.stderr = stderr
        self.runs: list[tuple[str, ...]] = []

    def podman(self, *args: str, check: bool = True, **_: Any) -> Completed:
        self.runs.append(args)
        if args[0] == "run":
            return Completed(args, 125, "", self.stderr, 0.1)
        return Completed(args, 0, "", "", 0.1)

    def remove_own(self, kind: str, *names: str) -> None:
        self.runs.append(("remove_own", kind, *names))


def _podman6_capabilities(stderr: str) -> tuple[Capabilities, FakeTarget]:
    data = json.loads((FIXTURES / "podman" / "info-5.4.2-trixie.json").read_text())
    data["host"].pop("slirp4netns", None)
    data["version"]["Version"] = "6.1.1"
    target = FakeTarget(stderr)
    return Capabilities(target=target, info=PodmanInfo.from_json(data)), target  # type: ignore[arg-type]


def test_refusal_is_podmans_message_and_tried_once() -> None:
    caps, target = _podman6_capabilities(refusal("slirp4netns-6.1.1.txt"))
    method = get_method("slirp4netns-rootlesskit")
    found = caps.refusal(method.requires, method)
    assert found is not None and "has been removed" in found.message
    assert "--network=slirp4netns:port_handler=rootlesskit" in found.command
    assert caps.refusal(method.requires, method) == found
    assert sum(1 for args in target.runs if args[0] == "run") == 1


def test_other_refusal_is_not_unsupported() -> None:
    caps, _ = _podman6_capabilities("Error: crun: something else failed\n")
    method = get_method("slirp4netns-slirp4netns")
    assert caps.refusal(method.requires, method) is None
    assert caps.first_missing(method.requires) is not None


def test_unsupported_is_recorded_and_counted(tmp_path: Path) -> None:
    recorder = Recorder(Run("r", 0.0), tmp_path)
    message = "slirp4netns support has been removed, use --network=pasta instead"
    recorder.unsupported(_claim(True, method="slirp4netns-slirp4netns"), message,
                         evidence={"command": "podman run ..."})
    result = recorder.run.results[0]
    assert (result.outcome, result.reason, result.evidence["podman_message"]) == (
        "unsupported", message, message)
    again = Run.from_dict(json.loads(json.dumps(recorder.run.to_dict())))
    assert again.results[0].outcome == "unsupported"
    assert "1 unsupported" in "\n".join(summary_lines(recorder.run))
    table = summary_table(recorder.run)
    assert "unsup." in [str(column.header) for column in table.columns]
    assert "unsupported" in str(table.caption)


# --- pasta --pcap: tshark and scapy agree before the claim is recorded ---------------------

def test_capture_readers_disagreeing_is_no_observation(tmp_path: Path) -> None:
    """tshark reads another host than scapy: the claim is never recorded as passed."""
    recorder = Recorder(Run("r", 0.0), tmp_path)
    scapy = {("podnet.example", "GET")}
    with pytest.raises(NoObservation, match="disagree"):
        recorder.check(_claim(True), host_method_seen(
            "podnet.example", scapy, {"other.example\tGET"}))
    with pytest.raises(NoObservation, match=r"disagree on ip\.dst"):
        recorder.check(_claim(True), destination_seen(
            "192.0.2.10", {"192.0.2.10", "2001:db8:2::10"}, {"192.0.2.99"}))
    assert recorder.run.results == []


def test_capture_judges() -> None:
    scapy = {("podnet.example", "GET")}
    assert host_method_seen("podnet.example", scapy, {"podnet.example\tGET"}) is True
    assert host_method_seen("podnet.example", scapy, None) is True
    assert host_method_seen("podnet.example", {("other", "GET")}, None) is False
    assert destination_seen("192.0.2.10", {"192.0.2.10", "2001:db8:2::10"}, {"192.0.2.10"})
    assert not destination_seen("192.0.2.10", {"192.0.2.1"}, {"192.0.2.1"})


# --- troubleshooting: the solutions are judged only while the network is unusable ----------

ROUTED = "203.0.113.1 via 192.0.2.10 dev eth0 src 192.0.2.1 uid 0"
REFUSED = "RTNETLINK answers: Network is unreachable"


def test_solution_on_a_usable_network_is_no_observation() -> None:
    """The wrong world: the routes came back (or were never removed) while the container
    ran, so 'works without a usable network' would pass on a usable one."""
    with pytest.raises(NoObservation, match="usable during the check"):
        solution_works(0, "hello world", ROUTED, [REFUSED, ROUTED])
    with pytest.raises(NoObservation, match="usable during the check"):
        solution_works(0, "hello world", ROUTED, [ROUTED, ROUTED])


def test_solution_without_a_routable_control_is_no_observation() -> None:
    with pytest.raises(NoObservation, match="control failed"):
        solution_works(0, "hello world", REFUSED, [REFUSED, REFUSED])


def test_solution_judged_on_an_unusable_network() -> None:
    assert solution_works(0, "hello world", ROUTED, [REFUSED, REFUSED]) is True
    assert solution_works(125, "Error: pasta failed", ROUTED, [REFUSED, REFUSED]) is False


# --- pasta and host1's abstract socket ---------------------------------------------------

TOKEN = "podnet-token"
SOCAT_REFUSED = ('2026/12/07 05:53:52 socat[1] E connect(, AF=1 "\\0podnet-abc", 21): '
                 "Connection refused")


def _connect(exit_code: int, stdout: str = "", stderr: str = "") -> AbstractConnect:
    return AbstractConnect("podman run ...", exit_code, stdout, stderr)


@pytest.mark.parametrize("failure", [
    _connect(125, stderr="Error: pasta failed with exit code 1: External interface not usable"),
    _connect(127, stderr='Error: crun: executable file `socat` not found in $PATH'),
    _connect(1, stderr="socat[1] E unknown address type \"ABSTRACT-CONNECT\""),
])
def test_abstract_socket_other_failure_is_no_observation(failure: AbstractConnect) -> None:
    """The wrong world for the pasta cell: the container never got to connect. Before,
    any failure read as "not reached" and passed."""
    with pytest.raises(NoObservation, match="neither reached"):
        abstract_reached(failure, _connect(0, TOKEN), TOKEN)


def test_abstract_socket_refusal_needs_the_host_control() -> None:
    with pytest.raises(NoObservation, match="control"):
        abstract_reached(_connect(1, stderr=SOCAT_REFUSED), _connect(1, stderr=SOCAT_REFUSED),
                         TOKEN)


def test_abstract_socket_judged() -> None:
    assert abstract_reached(_connect(1, stderr=SOCAT_REFUSED), _connect(0, TOKEN), TOKEN) is False
    assert abstract_reached(_connect(0, TOKEN), _connect(0, TOKEN), TOKEN) is True


# --- minimum port: a port below the setting must be refused as privileged ---------------

DENIED = "[Errno 13] Permission denied"
IN_USE = "[Errno 98] Address already in use"
NAMED = ["port-80-pasta-5.4.2.txt", "port-80-rootlessport-5.4.2.txt"]
UNNAMED = ["port-80-slirp4netns-5.4.2.txt", "port-80-socket-activation-user-5.4.2.txt",
           "port-80-host-5.4.2.txt"]


@pytest.mark.parametrize("name", NAMED + UNNAMED)
def test_unserved_port_for_another_reason_is_no_observation(name: str) -> None:
    """The wrong world: port 80 was not served because something else holds it (or podman
    failed otherwise). Before, any error counted as "refused" and the minimum-port claims
    passed. Messages that name no cause need the user's own bind refused."""
    said = refusal(name).strip()
    unrelated = Publication(False, said.replace("Permission denied", "Address in use")
                            .replace("permission denied", "address in use")
                            .replace("cannot expose privileged port", "cannot expose port"),
                            IN_USE)
    with pytest.raises(NoObservation, match="neither served nor refused"):
        served_or_refused(unrelated, 80)
    with pytest.raises(NoObservation, match="neither served nor refused"):
        minimum_port(served_or_refused(unrelated, 80), True)
    with pytest.raises(NoObservation):
        lowering_works(unrelated, Publication(True, "served"), 80)


@pytest.mark.parametrize("name", NAMED)
def test_refusal_naming_the_privileged_port(name: str) -> None:
    refused = Publication(False, refusal(name).strip(), IN_USE)
    assert served_or_refused(refused, 80) is False
    assert minimum_port(served_or_refused(refused, 80), True) == "ip_unprivileged_port_start"


@pytest.mark.parametrize("name", UNNAMED)
def test_unnamed_refusal_confirmed_by_the_users_own_bind(name: str) -> None:
    refused = Publication(False, refusal(name).strip(), DENIED)
    assert served_or_refused(refused, 80) is False
    assert lowering_works(refused, Publication(True, "served"), 80) is True
    assert lowering_works(refused, Publication(False, "x", DENIED), 80) is False


# --- --map-gw: the guide's 10.0.2.2, not the gateway read from the container ---------------

def test_map_gw_counts_the_guides_address_only() -> None:
    """The wrong world: 10.0.2.2 is not special, only the container's gateway leads to the
    host's loopback. Before, the expected address was the gateway the container reported,
    so the claim passed; now the gateway is shown, not counted."""
    output = ("gateway 192.0.2.10\n"
              "result http://10.0.2.2:18080/t 28 \n"
              "result http://{gateway}:18080/t 0 tok\n")
    result = outbound.parse_fetch_output(output)
    assert result.gateway == "192.0.2.10"
    assert result.reached("tok")
    assert not result.reached("tok", among=["http://10.0.2.2:18080/t"])
    assert result.reached("tok", among=["http://{gateway}:18080/t"])


# --- nginx needs NGINX=3; ----------------------------------------------------------------

ACTIVE = {"ActiveState": "active", "SubState": "running", "Result": "success"}
LISTENING = "LISTEN 0      511    0.0.0.0:8080 0.0.0.0:*"


@pytest.mark.parametrize(("state", "listener"), [
    ({"ActiveState": "activating", "SubState": "start"}, ""),  # still starting
    (FAILED_STATE, ""),                                        # failed for another reason
    (ACTIVE, ""),                                              # up, but listening nowhere yet
])
def test_nginx_not_up_without_env_is_no_observation(state: dict[str, str], listener: str) -> None:
    """The wrong world: nginx had not come up when the request was made (slow start, or a
    failure unrelated to the variable). Before, one unanswered 4-second GET passed."""
    with pytest.raises(NoObservation, match="never came up"):
        needs_env_observed(True, False, state, listener)


def test_nginx_needs_env_needs_the_control() -> None:
    with pytest.raises(NoObservation, match="control"):
        needs_env_observed(False, False, ACTIVE, LISTENING)


def test_nginx_needs_env_judged() -> None:
    assert needs_env_observed(True, False, ACTIVE, LISTENING) is True
    assert needs_env_observed(True, True, ACTIVE, LISTENING) is False


# --- pasta's arguments and containers.conf's pasta_options (new claims) ---------------------

def test_pasta_arguments_read_from_the_argv() -> None:
    """Wrong worlds: pasta started without --no-map-gw, or with another --dns-forward."""
    without = [a for a in ARGV if a != "--no-map-gw"]
    assert pasta_argument(ARGV, "--no-map-gw", True) is True
    assert pasta_argument(without, "--no-map-gw", True) is False
    # podman 5.4.2 (the fixture) forwards DNS to 169.254.1.1, not the guide's 169.254.0.1
    assert pasta_argument(ARGV, "--dns-forward", "169.254.0.1") == "169.254.1.1"
    assert pasta_argument(without[:3], "--dns-forward", "169.254.0.1") is None


def test_containers_conf_with_pasta_options_set_fails(tmp_path: Path) -> None:
    claim = load_default().get("older.containers-conf-pasta-options-default")
    recorder = Recorder(Run("r", 0.0), tmp_path)
    with pytest.raises(ClaimMismatch):
        recorder.check(claim, ['pasta_options = ["--map-guest-addr","11.11.11.11"]'])
    with pytest.raises(ClaimMismatch):
        recorder.check(claim, [])
    recorder.check(claim, ["#pasta_options = []"])


# --- quadlet: a single % fails, %% works (new claim) ---------------------------------------

SPECIFIER_FAILED = ("Dec 07 06:08:22 host1 systemd[129]: /run/user/1000/systemd/generator/"
                    "podnet-pct.service:23: Failed to resolve unit specifiers in "
                    "'pasta:-t,0.0.0.0%eth0/8080:8080': Invalid slot")


def test_single_percent_serving_fails_the_claim() -> None:
    """The wrong world: systemd passes a single % through; the unit serves."""
    assert escaping_needed(True, True, "loaded", "") is False


@pytest.mark.parametrize(("load_state", "said"), [
    ("loaded", ""),                       # loaded, never served: some other failure
    ("bad-setting", "Unknown key name"),  # refused, for another setting
    ("not-found", ""),
])
def test_single_percent_failing_otherwise_is_no_observation(load_state: str, said: str) -> None:
    with pytest.raises(NoObservation, match="specifier refusal"):
        escaping_needed(True, False, load_state, said)


def test_percent_escaping_needs_the_control() -> None:
    with pytest.raises(NoObservation, match="control"):
        escaping_needed(False, False, "bad-setting", SPECIFIER_FAILED)
    assert escaping_needed(True, False, "bad-setting", SPECIFIER_FAILED) is True


def test_udp_port_unanswered_for_another_reason_is_no_observation() -> None:
    """UDP: the service started but no reply came, and the user may bind the port (so it
    is not privileged): no observation, never "refused"."""
    with pytest.raises(NoObservation, match="neither served nor refused"):
        served_or_refused(Publication(False, "timed out", "bound"), 80)
    refused = Publication(False, refusal("port-80-pasta-udp-5.4.2.txt").strip(), "bound")
    assert minimum_port(served_or_refused(refused, 80), True) == "ip_unprivileged_port_start"


# --- -t auto and a later UDP socket (new claim) ---------------------------------------------

REFUSED_UDP = {"error": "ConnectionRefusedError: [Errno 111] Connection refused"}
REPLY = {"reply": "peer=192.0.2.10 peer_port=41331"}
SILENT = {"error": "timed out after 10 s waiting for pasta -t auto to publish udp/8080"}


def test_t_auto_udp_silence_needs_the_u_auto_control() -> None:
    """The wrong world: the UDP server never came up, so nothing would answer under any
    option; without the -u auto control answering, silence is no observation."""
    with pytest.raises(NoObservation, match="control"):
        auto_udp_observed({"before": REFUSED_UDP, "after": SILENT},
                          {"before": REFUSED_UDP, "after": SILENT})


def test_t_auto_udp_judged() -> None:
    control = {"before": REFUSED_UDP, "after": REPLY}
    assert auto_udp_observed({"before": REFUSED_UDP, "after": SILENT}, control) is False
    assert auto_udp_observed({"before": REFUSED_UDP, "after": REPLY}, control) is True
    # answered before the socket was bound: something else answers, not a later publish
    assert auto_udp_observed({"before": REPLY, "after": REPLY}, control) is False


# --- the capture's DNS traffic (new claims) --------------------------------------------------

def test_capture_without_dns_is_no_observation() -> None:
    """The wrong world: the name was resolved without DNS (--add-host, /etc/hosts), so the
    capture has no query to judge either claim by."""
    with pytest.raises(NoObservation, match="no DNS query"):
        dns_forwarder([])
    with pytest.raises(NoObservation, match="no DNS query"):
        resolved_seen("192.0.2.10", [], {"192.0.2.10"})
    with pytest.raises(NoObservation, match="lookup"):
        resolved_seen("", ["169.254.1.1"], {"192.0.2.10"})


def test_capture_dns_judged() -> None:
    assert dns_forwarder(["169.254.1.1"]) == "169.254.1.1"  # podman 5.4.2, not the guide's
    assert resolved_seen("192.0.2.10", ["169.254.1.1"], {"169.254.1.1", "192.0.2.10"})
    assert not resolved_seen("192.0.2.10", ["169.254.1.1"], {"169.254.1.1", "192.0.2.99"})


# --- socket activation needs an image that supports it (new claim) -------------------------

def test_unaware_server_not_up_is_no_observation() -> None:
    """The wrong world: the server without socket activation support never started (a
    typo in Exec=, the image lacking python3); an unanswered request proves nothing."""
    with pytest.raises(NoObservation, match="never came up"):
        inherited_socket_ignored(True, False, False, "", "python3 -m http.server 8080")
    with pytest.raises(NoObservation, match="control"):
        inherited_socket_ignored(False, False, True, LISTENING, "python3 -m http.server 8080")


def test_unaware_server_judged() -> None:
    assert inherited_socket_ignored(True, False, True, LISTENING, "s") is True
    # served through the inherited socket after all: the image needs no support
    assert inherited_socket_ignored(True, True, True, LISTENING, "s") is False
