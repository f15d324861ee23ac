"""The lab's namespaces are found by their exact names: another lab's namespaces or a
user's own, even when their names start with the lab's, are never counted as leftovers."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from harness.lab import namespaces
from harness.lab.topology import LINKS


def test_only_the_labs_exact_names_are_its_namespaces(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(namespaces, "NETNS_DIR", tmp_path)
    ours = sorted(namespaces.netns_names("lab").values())
    others = ["lab-hostA-host1", "lab-host1x", "lab-host2-mine", "lab-hosts", "labhost1"]
    for name in ours + others:
        (tmp_path / name).touch()
    assert namespaces.existing("lab") == ours
    assert namespaces.existing("lab-hostA") == ["lab-hostA-host1"]
    (tmp_path / ours[0]).unlink()
    assert namespaces.existing("lab") == ours[1:]


def test_the_labs_links_use_documentation_addresses_only() -> None:
    documentation = [ipaddress.ip_network(n) for n in (
        "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")]
    for link in LINKS:
        for text in (link.host1_addr, link.peer_addr, link.host1_addr6, link.peer_addr6):
            address = ipaddress.ip_address(text)
            assert any(address in net for net in documentation if net.version == address.version), text
