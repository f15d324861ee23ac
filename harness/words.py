"""Claim values and outcomes in the guide's words: the one place that turns a recorded
value (``False``, ``'ip_unprivileged_port_start'``) into what the guide would write
("not preserved", "port 80 needs ip_unprivileged_port_start ≤ 80").

Each property of the claims registry has a :class:`Wording`; a claim may override the
words of the guide's value with ``expected_words`` in the registry. The release matrix
and the single-run report both word their cells with :func:`result_words`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.claims import Claim, Registry
from harness.results.schema import ClaimResult


@dataclass(frozen=True)
class Wording:
    """How one property's values read: booleans as ``yes``/``no``, particular values as
    ``values`` says, anything else through ``template`` (``{}`` is the value, lists and
    objects comma-separated, each key and value of an object through ``pair``)."""

    yes: str = "yes"
    no: str = "no"
    values: Mapping[str, str] = field(default_factory=dict)
    template: str = "{}"
    #: How a key and its value read, for values that are objects.
    pair: str = "{}: {}"


#: Per property of the registry: how its values read.
PROPERTY_WORDS: dict[str, Wording] = {
    "source_address_preserved": Wording("preserved", "not preserved"),
    "native_performance": Wording("native performance", "below native performance"),
    "bind_device_supported": Wording("supported", "not supported"),
    "bind_device_restricts": Wording("served through that device only",
                                     "served through other devices too"),
    "minimum_port": Wording(values={
        "ip_unprivileged_port_start": "port 80 needs ip_unprivileged_port_start ≤ 80",
        "0": "any port, whatever ip_unprivileged_port_start says",
    }),
    "ip_unprivileged_port_start": Wording(template="set to {}"),
    "publish_below_default_after_lowering": Wording("published once the setting is lowered",
                                                    "not published even after lowering"),
    "serves_privileged_port": Wording("serves port 80", "does not serve port 80"),
    "publishes_below_unprivileged_start": Wording("published", "not published"),
    "performance_order": Wording(template="fastest first: {}"),
    "methods_combined": Wording("can be combined", "mutually exclusive"),
    "reaches_internet": Wording("reaches the internet", "does not reach the internet"),
    "reaches_host_localhost": Wording("reaches the host's localhost",
                                      "does not reach the host's localhost"),
    "reaches_host_main_interface": Wording("reaches the host's main interface",
                                           "does not reach the host's main interface"),
    "etc_hosts_addresses": Wording(template="/etc/hosts: {}", pair="{} at {}"),
    "pasta_map_guest_addr_default": Wording("set by default", "not set by default"),
    "custom_network_address_reachable": Wording("reachable", "not reachable"),
    "unix_socket_reachable": Wording("reachable", "not reachable"),
    "openfile_inherited": Wording("inherited", "not inherited"),
    "network_backend": Wording(template="{}"),
    "cni_backend_available": Wording("available", "removed"),
    "pcap_http_host_method": Wording("shown in the capture", "not shown in the capture"),
    "pcap_destination_address": Wording("included", "not included"),
    "pcap_dns_destination": Wording(template="DNS sent to {}"),
    "host_network_reaches_localhost": Wording("reaches the host's 127.0.0.1",
                                              "does not reach the host's 127.0.0.1"),
    "host_network_reaches_abstract_socket": Wording("reaches the host's abstract sockets",
                                                    "does not reach the host's abstract sockets"),
    "mtu_improves_performance": Wording("improves performance", "does not improve performance"),
    "pasta_tcp_ports_option": Wording(template="-t {}"),
    "pasta_argument": Wording(yes="given", no="not given", template="given as {}"),
    "containers_conf_pasta_options": Wording(template="grep prints {}"),
    "quadlet_percent_escaping_needed": Wording("a single % fails, %% is needed",
                                               "a single % works too"),
    "publishes_like_p": Wording("same as -p", "not like -p"),
    "auto_publishes_later_listener": Wording("published automatically",
                                             "not published automatically"),
    "rootless_network_cmd": Wording(template="{}"),
    "rootless_network_helper_process": Wording(template="a {} process runs"),
    "network_mode_without_option": Wording(template="network mode {}"),
    "pasta_error_without_network": Wording(template="says “{}”"),
    "runs_without_network": Wording("works", "fails"),
    "wait_online_script": Wording(template="runs “{}”"),
    "quadlet_waits_for_network": Wording("waits for the network", "does not wait for the network"),
    "proxy_socket_activation": Wording("supported", "not supported"),
    "proxy_systemd_notify": Wording("supported", "not supported"),
    "proxy_reload_keeps_serving": Wording("keeps serving after a reload",
                                          "stops serving after a reload"),
    "proxy_socket_activation_needs_env": Wording("only through the NGINX variable",
                                                 "without the NGINX variable too"),
    "proxy_not_found_after_ready": Wording("may answer 404 after READY=1",
                                           "ready when it says so"),
    "proxy_forwards_client_address": Wording("passes the client's address",
                                             "does not pass the client's address"),
    "combination_native_performance": Wording("native performance",
                                              "below native performance"),
    "quoted_source_address": Wording(template="logged as {}"),
    "quoted_container_address": Wording(template="address {}"),
    "quadlet_example_serves": Wording("serves", "does not serve"),
    "socket_activation_service_form": Wording("the .service form serves too",
                                              "the .service form does not serve"),
    "socket_activation_combines": Wording("can be combined", "cannot be combined"),
    "socket_activation_works_with_any_image": Wording("works with any image",
                                                      "needs an image that supports it"),
    "tcp_ns_better_than_map_gw": Wording("-T is the better alternative",
                                         "-T is not better than --map-gw"),
    "main_interface_socket_activated_server": Wording("serves", "does not serve"),
    "main_interface_request_source": Wording(template="logged as coming from the {}"),
    "pasta_rpm_package": Wording(template="in the {} package"),
    "rootless_network_cmd_before_5": Wording(template="{} was the default"),
    "rootless_network_cmd_json": Wording("the same result", "a different result"),
    "sysctl_d_sets_unprivileged_port_start": Wording(template="set to {}"),
    "unprivileged_port_start_scope": Wording(template="{}"),
    "fails_after_reboot_late_network": Wording(template="fails, saying “{}”",
                                               values={"started": "starts, no error"}),
    "user_service_waits_for_system_target": Wording("supported", "not supported"),
    "starts_after_reboot_late_network": Wording("starts after a reboot",
                                                "does not start after a reboot"),
    "manual_wait_online_starts": Wording("starts", "does not start"),
    "wait_online_activating": Wording(template="{}"),
    "active_state_values": Wording(template="prints {}"),
    # the newest guide's statements
    "pasta_process_count": Wording(template="{} pasta processes"),
    "map_gw_podman_option": Wording(template="pasta's argv: {}",
                                    pair="{} {}", yes="given", no="not given"),
    "pasta_help_map_gw": Wording(template="pasta --help: {}", pair="{} {}",
                                 yes="listed", no="not listed"),
    "server_sees_source": Wording(template="the server sees {}"),
    "network_directive_reaches_internet": Wording("reaches the internet",
                                                  "does not reach the internet"),
    "quadlet_reaches_host_main_interface": Wording("reaches the host's main interface",
                                                   "does not reach the host's main interface"),
    "quadlet_reaches_host_localhost": Wording("reaches the host's localhost",
                                              "does not reach the host's localhost"),
    "reuse_port_serves": Wording(template="{}", pair="{}: {}"),
    "second_socket_fails": Wording("the second socket fails", "the second socket listens"),
    "shared_socket": Wording(template="{}", pair="{}: {}"),
    "socket_activates_service": Wording(template="activates {}"),
    "inherited_socket_kept": Wording("the socket is inherited", "the socket is closed"),
    "fd_store_socket_kept": Wording("the socket is inherited", "no reply through the socket"),
    "isolate_allows": Wording("allowed", "not allowed"),
    "quadlet_dependencies": Wording(template="{}", pair="{}: {}"),
    "quadlet_network_name": Wording(template="named {}"),
    "several_network_lines_refused": Wording("refused", "accepted"),
    "port_mappings_discarded": Wording(yes="discarded with a warning",
                                       no="not discarded", template="warns “{}”"),
    "container_unprivileged_port_start": Wording(template="{}"),
    "container_user_binds_port": Wording("binds the port", "permission denied"),
    "pasta_executable_shown": Wording(template="{}"),
    "helper_binaries_dir_pasta": Wording(template="{}", pair="{}: {}"),
    "pasta_built_from_source": Wording("built from source", "not built"),
    "pasta_debug_files": Wording(template="{}", pair="{}: {}"),
    "pasta_log_truncated": Wording("the first log is kept", "the first log is truncated"),
    "restricted_socket_serves": Wording("serves", "does not serve"),
    "multiple_networks_reachable": Wording(template="reached from {}", pair="{}: {}"),
    "internal_network_listens": Wording("listens to the internet",
                                        "does not listen to the internet"),
    "container_firewall_passes": Wording("goes through", "dropped"),
    "proxy_addhost_reached": Wording(yes="reaches the proxy", no="does not reach the proxy",
                                     template="{}", pair="{}: {}"),
    "proxy_alias_reached": Wording("reaches the proxy", "does not reach the proxy"),
    "network_tool_removed": Wording("removed", "still supported"),
    "pod_same_mapping": Wording("as the guide says", "otherwise"),
    "pod_conversion": Wording("converted", "not converted"),
    "compose_extra_hosts": Wording("equivalent", "not equivalent"),
    "aardvark_dns_debug_log": Wording("logs its configuration", "logs nothing"),
    "restricted_pull": Wording("cannot pull", "can pull"),
    "no_new_privileges_newuidmap": Wording("newuidmap fails", "newuidmap works"),
    "pesto_privileged_port": Wording("yes", "no"),
    "ipv6_inbound": Wording(template="{}", pair="{}: {}"),
}

#: An outcome in words; a cell reads "<outcome words>: <detail>".
OUTCOME_WORDS = {
    "passed": "as the guide says", "failed": "differs", "inconclusive": "inconclusive",
    "unsupported": "unsupported", "not_applicable": "not applicable", "skipped": "skipped",
    "error": "error",
}
NOT_RUN = "not run"
#: How reports mark a claim that is not a statement of the guide (claims.Claim.beyond_guide):
#: its expectation is the documentation its ``source`` cites, so a cell reads "as
#: documented" rather than "as the guide says".
BEYOND_GUIDE = "beyond the guide"
BEYOND_OUTCOME_WORDS = {**OUTCOME_WORDS, "passed": "as documented",
                        "failed": "differs from the documentation"}


def _plain(value: Any, pair: str) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v, pair) for v in value)
    if isinstance(value, dict):
        return ", ".join(pair.format(k, _plain(v, pair)) for k, v in value.items())
    return str(value)


def value_words(prop: str | None, value: Any) -> str:
    """``value`` of property ``prop`` as the guide would write it."""
    wording = PROPERTY_WORDS.get(prop or "", Wording())
    if value is None:
        return "nothing observed"
    if value is True:
        return wording.yes
    if value is False:
        return wording.no
    text = _plain(value, wording.pair)
    return wording.values.get(text, wording.template.format(text))


@dataclass(frozen=True)
class Words:
    """Words for the results of one registry (claims it does not know read plainly)."""

    registry: Registry

    def claim(self, claim_id: str) -> Claim | None:
        return next((c for c in self.registry.claims if c.id == claim_id), None)

    def beyond_guide(self, result: ClaimResult) -> bool:
        """Whether the result's claim is beyond the guide (not one of its statements)."""
        claim = self.claim(result.claim_id)
        return claim is not None and claim.beyond_guide

    def statement(self, result: ClaimResult) -> str:
        claim = self.claim(result.claim_id)
        return claim.statement if claim else result.statement

    def guide(self, result: ClaimResult) -> str:
        """What the guide says, in words (the registry's ``expected_words`` if any)."""
        claim = self.claim(result.claim_id)
        if claim is not None and isinstance(claim.extra.get("expected_words"), str):
            return str(claim.extra["expected_words"])
        return value_words(claim.property if claim else None,
                           claim.expected if claim else result.expected)

    def detail(self, result: ClaimResult) -> str:
        """What a cell says after its outcome: the observation, or the reason."""
        if result.outcome in ("passed", "failed"):
            claim = self.claim(result.claim_id)
            return value_words(claim.property if claim else None, result.observed)
        if result.outcome == "unsupported":
            message = result.evidence.get("podman_message") if result.evidence else None
            return str(message or result.reason or "(podman gave no message)")
        return result.reason or "(no reason recorded)"


def outcome_words(outcome: str | None, beyond_guide: bool = False) -> str:
    """An outcome in words; for a claim beyond the guide, against its documentation."""
    table = BEYOND_OUTCOME_WORDS if beyond_guide else OUTCOME_WORDS
    return NOT_RUN if outcome is None else table.get(outcome, outcome.replace("_", " "))


def cell_words(outcome: str | None, detail: str, beyond_guide: bool = False) -> str:
    """A cell of an outcome and its detail: "differs: not preserved", "not run"."""
    return NOT_RUN if outcome is None else f"{outcome_words(outcome, beyond_guide)}: {detail}"


def result_words(words: Words, result: ClaimResult | None) -> str:
    """A whole cell in words: "as the guide says: preserved", "differs: not preserved",
    "unsupported: <podman's message>", "skipped: <reason>", "not run" ("as documented"
    for a claim beyond the guide)."""
    return cell_words(None, "") if result is None else cell_words(
        result.outcome, words.detail(result), words.beyond_guide(result))
