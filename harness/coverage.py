"""How much of the guide podnet observes: every statement of the guide is a claim of the
registry, and each is *observed* (a scenario records it with a check that can fail),
*weak* (a scenario records it, but its check could pass in a wrong world: ``weak``
says why) or *unchecked* (no scenario observes it: ``unchecked`` says why).

Grouped per section of the guide (the heading each claim cites), in the guide's order.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from harness.claims import Claim, Registry
from harness.guide_sections import HEADINGS, position

#: Properties some scenario records (tests/test_claim_coverage.py checks this against
#: the scenarios' source): a claim of another property has no scenario.
RECORDED_PROPERTIES = frozenset({
    "auto_publishes_later_listener", "bind_device_restricts", "bind_device_supported",
    "cni_backend_available", "custom_network_address_reachable", "etc_hosts_addresses",
    "host_network_reaches_abstract_socket", "host_network_reaches_localhost",
    "ip_unprivileged_port_start", "main_interface_request_source", "minimum_port",
    "mtu_improves_performance", "native_performance", "network_backend",
    "openfile_inherited", "pasta_error_without_network", "pasta_map_guest_addr_default",
    "pasta_tcp_ports_option", "pcap_destination_address", "pcap_http_host_method",
    "performance_order", "proxy_forwards_client_address", "proxy_not_found_after_ready",
    "proxy_reload_keeps_serving", "proxy_socket_activation",
    "proxy_socket_activation_needs_env", "proxy_systemd_notify",
    "publish_below_default_after_lowering", "publishes_below_unprivileged_start",
    "publishes_like_p", "quadlet_example_serves", "quadlet_waits_for_network",
    "quoted_container_address", "quoted_source_address", "reaches_host_localhost",
    "reaches_host_main_interface", "reaches_internet", "rootless_network_cmd",
    "rootless_network_cmd_json", "rootless_network_helper_process", "runs_without_network",
    "serves_privileged_port", "source_address_preserved", "unix_socket_reachable",
    "wait_online_script",
    "sysctl_d_sets_unprivileged_port_start", "unprivileged_port_start_scope",
    "tcp_ns_better_than_map_gw", "main_interface_socket_activated_server",
    "methods_combined", "socket_activation_combines", "socket_activation_service_form",
    "fails_after_reboot_late_network", "user_service_waits_for_system_target",
    "starts_after_reboot_late_network", "manual_wait_online_starts",
    "wait_online_activating", "active_state_values",
    "combination_native_performance",
})
STATUSES = ("observed", "weak", "unchecked")
NO_SCENARIO = "no scenario records it"


@dataclass(frozen=True)
class Judged:
    claim: Claim
    status: str
    reason: str = ""


@dataclass(frozen=True)
class Section:
    title: str
    claims: tuple[Judged, ...]

    def count(self, status: str) -> int:
        return sum(1 for j in self.claims if j.status == status)


def judge(claim: Claim) -> Judged:
    if claim.unchecked:
        return Judged(claim, "unchecked", claim.unchecked)
    if claim.property not in RECORDED_PROPERTIES:
        return Judged(claim, "unchecked", NO_SCENARIO)
    if claim.weak:
        return Judged(claim, "weak", claim.weak)
    return Judged(claim, "observed")


_TITLES = dict(HEADINGS)


def section_title(claim: Claim) -> str:
    """The guide's heading the claim cites (its anchor), else its section path."""
    return _TITLES.get(claim.anchor, claim.section)


def sections(registry: Registry) -> list[Section]:
    """The guide's statements per section, sections and claims in the guide's order
    (claims beyond the guide are not the guide's and not counted)."""
    ordered = sorted(registry.guide_claims, key=lambda c: position(c.anchor, c.section))
    groups: dict[str, list[Judged]] = {}
    for claim in ordered:
        groups.setdefault(section_title(claim), []).append(judge(claim))
    return [Section(title, tuple(judged)) for title, judged in groups.items()]


def summary(found: list[Section]) -> str:
    observed = sum(s.count("observed") for s in found)
    total = sum(len(s.claims) for s in found)
    return f"{observed} of {total} statements observed"


def _counts(section: Section) -> list[str]:
    return [str(section.count(status)) for status in STATUSES]


def _explained(found: list[Section]) -> list[Judged]:
    return [j for s in found for j in s.claims if j.status != "observed"]


def text_lines(found: list[Section]) -> list[str]:
    """For the terminal: one line per section, then its weak and unchecked claims."""
    width = max((len(s.title) for s in found), default=7)
    lines = [f"{'section':<{width}}  observed  weak  unchecked"]
    for section in found:
        observed, weak, unchecked = _counts(section)
        lines.append(f"{section.title:<{width}}  {observed:>8}  {weak:>4}  {unchecked:>9}")
        lines += [f"    {j.status:<9}  {j.claim.id}: {j.reason}"
                  for j in section.claims if j.status != "observed"]
    return [*lines, summary(found)]


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_lines(found: list[Section]) -> list[str]:
    """The per-section table, then every weak and unchecked claim with its reason."""
    lines = ["| section | observed | weak | unchecked |", "|-|-:|-:|-:|"]
    lines += [f"| {_md(s.title)} | " + " | ".join(_counts(s)) + " |" for s in found]
    lines += ["", "| claim | status | why |", "|-|-|-|"]
    lines += [f"| `{j.claim.id}` | {j.status} | {_md(j.reason)} |" for j in _explained(found)]
    return [*lines, "", summary(found)]


def html_fragment(found: list[Section]) -> str:
    esc = html.escape
    rows = "".join(f"<tr><td>{esc(s.title)}</td>" + "".join(
        f'<td class="num">{n}</td>' for n in _counts(s)) + "</tr>" for s in found)
    explained = "".join(
        f"<tr><td><code>{esc(j.claim.id)}</code></td><td>{j.status}</td>"
        f"<td>{esc(j.reason)}</td></tr>" for j in _explained(found))
    return (
        "<table><thead><tr><th>section</th><th>observed</th><th>weak</th>"
        f"<th>unchecked</th></tr></thead><tbody>{rows}</tbody></table>"
        "<table><thead><tr><th>claim</th><th>status</th><th>why</th></tr></thead>"
        f"<tbody>{explained}</tbody></table><p>{esc(summary(found))}</p>"
    )


DOC_HEADER = """# Coverage of the guide

Every verifiable statement of [the guide](guide.md) is a claim of the registry
([claims.md](claims.md)). *observed*: a scenario records it with a check that can fail;
*weak*: a scenario records it, but the check could pass in a wrong world; *unchecked*:
no scenario observes it. Generated by `podnet coverage --markdown > docs/coverage.md`
(a unit test checks this file is up to date); do not edit.
"""


def document(registry: Registry) -> str:
    return DOC_HEADER + "\n" + "\n".join(markdown_lines(sections(registry))) + "\n"
