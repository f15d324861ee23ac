"""The claims registry under scenarios/claims, and its error cases.

Every claim cites a heading of a guide revision by its GitHub anchor, and names methods
of scenarios/methods.toml.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from harness.claims import DEFAULT_REGISTRY, Registry, load_default
from harness.errors import UsageError
from harness.guide import revisions
from harness.methods import METHODS_FILE
from harness.versions import Version

ROOT = Path(__file__).resolve().parent.parent
#: The seed revision of the guide (the one whose headings harness/guide_sections.py lists).
GUIDE = ROOT / "harness" / "data" / "guide" / "707d6f6.md"
REQUIRED = ("id", "section", "anchor", "statement", "property", "expected")
#: A claim beyond the guide cites the documentation (``source``) instead of a guide anchor.
REQUIRED_BEYOND = ("id", "section", "source", "statement", "property", "expected")


def github_slug(heading: str) -> str:
    """GitHub's anchor for a heading: rendered text, lowercase, punctuation dropped."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links keep their text
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)  # bold
    text = re.sub(r"(?<!\w)([*_])(.+?)\1(?!\w)", r"\2", text)  # emphasis
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def guide_anchors(markdown: str) -> dict[str, str]:
    """Anchor -> heading, with GitHub's -1, -2 suffixes for repeated headings."""
    anchors: dict[str, str] = {}
    seen: Counter[str] = Counter()
    fence: str | None = None
    for line in markdown.splitlines():
        stripped = line.lstrip()
        marker = re.match(r"(`{3,}|~{3,})", stripped)
        if marker:
            if fence is None:
                fence = marker.group(1)[0]
            elif stripped.startswith(fence * 3):
                fence = None
            continue
        if fence is not None:
            continue
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            slug = github_slug(heading.group(1))
            anchor = slug if seen[slug] == 0 else f"{slug}-{seen[slug]}"
            seen[slug] += 1
            anchors["#" + anchor] = heading.group(1)
    return anchors


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("Overview", "overview"),
        ("Configure `ip_unprivileged_port_start`", "configure-ip_unprivileged_port_start"),
        ("example: pasta + custom network - source address not preserved",
         "example-pasta--custom-network---source-address-not-preserved"),
        ("Outbound TCP/UDP connections to the host's main network interface (e.g eth0)",
         "outbound-tcpudp-connections-to-the-hosts-main-network-interface-eg-eth0"),
        ("About the pasta option __--map-guest-addr__", "about-the-pasta-option---map-guest-addr"),
        ("example:  use `podman run` option `-p`", "example--use-podman-run-option--p"),
        ("See [the docs](https://example.org/x)", "see-the-docs"),
    ],
)
def test_github_slug(heading: str, slug: str) -> None:
    assert github_slug(heading) == slug


def test_guide_anchors_skip_code_and_number_repeats() -> None:
    text = "# A\n```\n# not a heading\n```\n## A\n### B\n~~~sh\n# also not\n~~~\n#### A\n"
    assert guide_anchors(text) == {"#a": "A", "#a-1": "A", "#b": "B", "#a-2": "A"}


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_default()


@pytest.fixture(scope="module")
def raw_claims() -> list[dict[str, object]]:
    entries: list[dict[str, object]] = []
    for path in sorted(DEFAULT_REGISTRY.glob("*.toml")):
        entries += tomllib.loads(path.read_text()).get("claim", [])
    return entries


@pytest.fixture(scope="module")
def method_ids() -> set[str]:
    return set(tomllib.loads(METHODS_FILE.read_text())["method"])


@pytest.fixture(scope="module")
def anchors() -> dict[str, str]:
    """The headings of every revision podnet ships: a claim cites one of some revision."""
    found: dict[str, str] = {}
    for revision in revisions.known():
        found.update(guide_anchors(revision.text))
    return found


def test_registry_loads(registry: Registry) -> None:
    assert registry.claims
    assert registry.tables


def test_every_claim_has_the_required_fields(raw_claims: list[dict[str, object]]) -> None:
    lacking = [(c.get("id", "?"), f) for c in raw_claims
               for f in (REQUIRED_BEYOND if c.get("beyond_guide") else REQUIRED)
               if f not in c or c[f] in ("", None)]
    assert lacking == []


def test_ids_are_unique(registry: Registry) -> None:
    counts = Counter(c.id for c in registry.claims)
    assert [i for i, n in counts.items() if n > 1] == []


def _declared_subjects(registry: Registry) -> set[str]:
    """Subjects that are not inbound methods (e.g. proxies) are declared by a table's
    ``row_titles``."""
    return {row for table in registry.tables.values() for row in table.get("row_titles", {})}


def test_claim_methods_exist(registry: Registry, method_ids: set[str]) -> None:
    known = method_ids | _declared_subjects(registry)
    unknown = [(c.id, c.method) for c in registry.claims
               if c.method is not None and c.method not in known]
    assert unknown == []


def test_table_rows_are_methods(registry: Registry, method_ids: set[str]) -> None:
    """Rows are method ids (or subjects the table titles itself), unless the table keys
    them by another claim field (row_key)."""
    unknown = [(name, row) for name, table in registry.tables.items()
               if table.get("row_key", "method") == "method"
               for row in table.get("rows", ())
               if row not in method_ids and row not in table.get("row_titles", {})]
    assert unknown == []


def test_keyed_table_rows_have_claims(registry: Registry) -> None:
    empty = []
    for name, table in registry.tables.items():
        key = table.get("row_key", "method")
        if key == "method":
            continue
        keys = {c.extra.get(key) for c in registry.claims if c.table == name}
        empty += [(name, row) for row in table.get("rows", ()) if row not in keys]
    assert empty == []


def test_claim_tables_and_columns_exist(registry: Registry) -> None:
    wrong = [(c.id, c.table, c.column) for c in registry.claims if c.table is not None
             and (c.table not in registry.tables
                  or (c.column is not None
                      and c.column not in registry.tables[c.table].get("columns", ())))]
    assert wrong == []


def test_anchors_are_guide_headings(registry: Registry, anchors: dict[str, str]) -> None:
    cited = [(c.id, c.anchor) for c in registry.guide_claims]
    cited += [(name, str(t.get("anchor"))) for name, t in registry.tables.items()
              if "anchor" in t]
    assert [(what, a) for what, a in cited if not a.startswith("#")] == []
    assert [(what, a) for what, a in cited if a not in anchors] == []


def test_citation_names_section_and_anchor(registry: Registry) -> None:
    claim = registry.guide_claims[0]
    assert claim.section in claim.citation and claim.anchor in claim.citation


def test_claims_beyond_the_guide_cite_their_source(registry: Registry,
                                                   anchors: dict[str, str]) -> None:
    """A claim beyond the guide cites the documentation it comes from, not a guide
    heading, and is about a method of methods.toml: one marked beyond the guide, or one
    of the guide's methods observed where the guide says nothing (IPv6)."""
    beyond = [c for c in registry.claims if c.beyond_guide]
    assert beyond
    assert [c.id for c in beyond if not c.source or c.anchor in anchors] == []
    assert all(c.citation == f"beyond the guide: {c.source}" for c in beyond)
    methods = tomllib.loads(METHODS_FILE.read_text())["method"]
    assert [c.id for c in beyond if (c.method or "") not in methods] == []
    assert any(methods[c.method or ""].get("beyond_guide") for c in beyond)
    assert [c.id for c in registry.guide_claims] == [
        c.id for c in registry.claims if c not in beyond]


def test_get_and_select(registry: Registry) -> None:
    first = registry.claims[0]
    assert registry.get(first.id) is first
    assert first in registry.select(prop=first.property, method=first.method)
    with pytest.raises(UsageError, match="unknown claim"):
        registry.get("no.such.claim")


# Error cases on small registries written to tmp files.

CLAIM = """
[[claim]]
id = "{id}"
section = "Inbound TCP/UDP connections > Overview"
anchor = "#overview"
statement = "pasta preserves the client's source address"
property = "source_address_preserved"
expected = true
method = "pasta"
{extra}
"""


def write(path: Path, *claims: str) -> Path:
    path.write_text("".join(claims))
    return path


def test_load_one_file(tmp_path: Path) -> None:
    registry = Registry.load(write(tmp_path / "a.toml", CLAIM.format(
        id="x.one", extra='conditions = ["podman >= 5.3"]\nlink = "extra"')))
    claim = registry.get("x.one")
    assert claim.expected is True
    assert claim.extra == {"link": "extra"}
    assert claim.applies({"podman": Version.parse("5.4.2")}) == (True, "")
    applies, reason = claim.applies({"podman": Version.parse("4.9.4")})
    assert not applies and "podman >= 5.3" in reason
    applies, reason = claim.applies({})
    assert not applies and "absent" in reason


def test_duplicate_ids_in_one_file(tmp_path: Path) -> None:
    path = write(tmp_path / "a.toml", CLAIM.format(id="x.dup", extra=""),
                 CLAIM.format(id="x.dup", extra=""))
    with pytest.raises(UsageError, match=r"duplicate claim ids .*x\.dup"):
        Registry.load(path)


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    write(tmp_path / "a.toml", CLAIM.format(id="x.dup", extra=""))
    write(tmp_path / "b.toml", CLAIM.format(id="x.dup", extra=""))
    with pytest.raises(UsageError, match="duplicate claim ids"):
        Registry.load(tmp_path)


@pytest.mark.parametrize("field", REQUIRED[1:])
def test_missing_field(tmp_path: Path, field: str) -> None:
    text = "\n".join(line for line in CLAIM.format(id="x.lacking", extra="").splitlines()
                     if not line.startswith(f"{field} ="))
    with pytest.raises(UsageError, match=rf"claim x\.lacking .* lacks \['{field}'\]"):
        Registry.load(write(tmp_path / "a.toml", text))


def test_invalid_toml(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read the claims registry"):
        Registry.load(write(tmp_path / "a.toml", "[[claim]\nid = 1"))


BEYOND = """
[[claim]]
id = "x.beyond"
beyond_guide = true
section = "Beyond the guide > podman 6"
statement = "the pasta forwarder preserves the client's source address"
property = "source_address_preserved"
expected = true
{extra}
"""


def test_beyond_guide_needs_a_source_not_an_anchor(tmp_path: Path) -> None:
    registry = Registry.load(write(tmp_path / "a.toml", BEYOND.format(
        extra='source = "podman-run(1) --network"')))
    claim = registry.get("x.beyond")
    assert (claim.beyond_guide, claim.anchor, claim.source) == (
        True, "", "podman-run(1) --network")
    assert claim.citation == "beyond the guide: podman-run(1) --network"
    assert registry.guide_claims == ()
    with pytest.raises(UsageError, match=r"claim x\.beyond .* lacks \['source'\]"):
        Registry.load(write(tmp_path / "b.toml", BEYOND.format(extra="")))
    with pytest.raises(UsageError, match="'source' must be one line citing"):
        Registry.load(write(tmp_path / "c.toml", BEYOND.format(extra='source = " "')))
    with pytest.raises(UsageError, match="beyond_guide must be true or false"):
        Registry.load(write(tmp_path / "d.toml", BEYOND.format(
            extra='source = "x"').replace("beyond_guide = true", 'beyond_guide = "yes"')))


def test_guide_claims_still_need_an_anchor(tmp_path: Path) -> None:
    text = CLAIM.format(id="x.guide", extra="beyond_guide = false").replace(
        'anchor = "#overview"\n', "")
    with pytest.raises(UsageError, match=r"lacks \['anchor'\]"):
        Registry.load(write(tmp_path / "a.toml", text))


def test_invalid_condition(tmp_path: Path) -> None:
    path = write(tmp_path / "a.toml", CLAIM.format(id="x.c", extra='conditions = ["podman ~ 5"]'))
    with pytest.raises(UsageError, match="invalid version condition"):
        Registry.load(path)


#: Properties whose checks send IPv4 traffic only (host2 and host3 reach host1 at its IPv4
#: addresses; containers use curl -4 and UDP4): no check measures IPv6.
IPV4_ONLY = {
    "auto_publishes_later_listener", "bind_device_restricts", "bind_device_supported",
    "combination_native_performance", "custom_network_address_reachable",
    "host_network_reaches_localhost", "main_interface_request_source",
    "main_interface_socket_activated_server", "minimum_port", "mtu_improves_performance",
    "native_performance", "performance_order", "proxy_forwards_client_address",
    "proxy_socket_activation", "proxy_socket_activation_needs_env", "proxy_reload_keeps_serving",
    "proxy_not_found_after_ready", "publish_below_default_after_lowering",
    "publishes_below_unprivileged_start", "publishes_like_p", "quadlet_example_serves",
    "reaches_host_localhost", "reaches_host_main_interface", "reaches_internet",
    "serves_privileged_port", "socket_activation_combines", "socket_activation_service_form",
    "source_address_preserved", "sysctl_d_sets_unprivileged_port_start",
    "tcp_ns_better_than_map_gw", "pcap_destination_address", "pcap_http_host_method",
    "quadlet_percent_escaping_needed",
}


def test_claims_checked_over_ipv4_only_say_so() -> None:
    """The registry does not imply IPv6 results it never measured: every checked claim of
    a property measured over IPv4 only says so in its statement."""
    silent = [c.id for c in load_default().claims
              if c.property in IPV4_ONLY and not c.unchecked and "IPv4" not in c.statement]
    assert silent == []
