"""PodmanInfo on recorded ``podman info`` output, and the capability gates built on it.

``info-5.4.2-trixie.json`` was recorded in the lab. ``info-4.3.1-derived.json`` is
hand-derived from it to look like bookworm's podman 4.3.1 (no pasta, no
rootlessNetworkCmd, slirp4netns present); its ``_derived`` key says so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.capabilities import Capabilities
from harness.environment import systemd_version
from harness.errors import UnreadableVersion
from harness.podman.info import PodmanInfo
from harness.versions import Version

FIXTURES = Path(__file__).parent / "fixtures" / "podman"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


@pytest.fixture
def trixie() -> PodmanInfo:
    return PodmanInfo.from_json(load("info-5.4.2-trixie.json"))


@pytest.fixture
def bookworm() -> PodmanInfo:
    return PodmanInfo.from_json(load("info-4.3.1-derived.json"))


class FakeTarget:
    """Just enough of a Target for Capabilities: only ``can_root`` is ever asked."""

    name = "fake"

    def __init__(self, can_root: bool = True) -> None:
        self.can_root = can_root


def capabilities(info: PodmanInfo, **kwargs: Any) -> Capabilities:
    return Capabilities(target=FakeTarget(**kwargs), info=info)  # type: ignore[arg-type]


def test_trixie_basics(trixie: PodmanInfo) -> None:
    assert trixie.components.podman == Version((5, 4, 2))
    assert trixie.rootless is True
    assert trixie.rootless_network_cmd == "pasta"
    assert trixie.network_backend == "netavark"
    assert trixie.cgroup_version == "v2"


def test_trixie_components(trixie: PodmanInfo) -> None:
    comp = trixie.components
    assert comp.podman.parts == (5, 4, 2)
    # Debian reports pasta's version only in the package name.
    assert comp.pasta is not None and comp.pasta.parts == (2025, 5, 3)
    assert comp.slirp4netns is not None and comp.slirp4netns.parts == (1, 2, 1)
    assert comp.netavark is not None and comp.netavark.parts == (1, 14, 0)
    assert comp.conmon is not None and comp.conmon.parts == (2, 1, 12)
    assert comp.oci_runtime_name == "crun"
    assert comp.oci_runtime is not None and comp.oci_runtime.parts == (1, 21, 0)
    assert comp.kernel == "6.18.44-fc-v595"


def test_trixie_as_conditions_and_text(trixie: PodmanInfo) -> None:
    conditions = trixie.components.as_conditions()
    assert conditions["passt"] == conditions["pasta"] == Version((2025, 5, 3))
    assert conditions["crun"] == Version((1, 21, 0))
    text = trixie.components.as_text()
    assert text["podman"] == "5.4.2"
    assert text["pasta"] == "2025-05-03"
    assert text["oci_runtime"] == "crun 1.21"


def test_derived_fixture_is_marked() -> None:
    assert "derived" in load("info-4.3.1-derived.json")["_derived"].lower()


def test_bookworm_without_pasta(bookworm: PodmanInfo) -> None:
    assert bookworm.components.podman == Version((4, 3, 1))
    assert bookworm.rootless is True
    assert bookworm.rootless_network_cmd is None
    assert bookworm.network_backend == "netavark"
    comp = bookworm.components
    assert comp.pasta is None
    assert comp.netavark is None  # podman 4.3 has no networkBackendInfo
    assert comp.slirp4netns is not None and comp.slirp4netns.parts == (1, 2, 0)
    assert comp.conmon is not None and comp.conmon.parts == (2, 1, 6)
    assert comp.as_text()["pasta"] == "absent"


def test_pasta_version_from_version_string() -> None:
    data = load("info-5.4.2-trixie.json")
    data["host"]["pasta"] = {"executable": "/usr/bin/pasta", "package": "passt-0^20240821-1.fc41",
                             "version": "pasta 0^20240906.g6b38f07-1.fc41.x86_64\n"}
    assert PodmanInfo.from_json(data).components.pasta == Version((2024, 9, 6))


def test_pasta_without_executable_is_absent() -> None:
    data = load("info-5.4.2-trixie.json")
    data["host"]["pasta"] = {"executable": "", "package": "", "version": ""}
    assert PodmanInfo.from_json(data).components.pasta is None


def test_unreadable_pasta_version_is_an_error_naming_it() -> None:
    """The wrong world: an installed pasta whose version podnet cannot read must not
    become "pasta is not installed" (which would skip every pasta claim)."""
    data = load("info-5.4.2-trixie.json")
    data["host"]["pasta"] = {"executable": "/usr/bin/pasta", "package": "passt-custom",
                             "version": "pasta unknown-build"}
    with pytest.raises(UnreadableVersion, match="pasta version 'pasta unknown-build / passt-custom'"):
        PodmanInfo.from_json(data)


@pytest.mark.parametrize(("key", "component"), [("slirp4netns", "slirp4netns"),
                                                ("conmon", "conmon"),
                                                ("networkBackendInfo", "netavark")])
def test_unreadable_component_version_is_an_error_naming_it(key: str, component: str) -> None:
    """The wrong world: an unreadable version must not become "absent", which makes every
    claim with a condition on it "not applicable"."""
    data = load("info-5.4.2-trixie.json")
    data["host"][key] = {**data["host"][key], "version": "git-main"}
    with pytest.raises(UnreadableVersion, match=f"{component} version 'git-main'"):
        PodmanInfo.from_json(data)


def test_unreadable_podman_version_is_an_error() -> None:
    data = load("info-5.4.2-trixie.json")
    data["version"]["Version"] = "dev"
    with pytest.raises(UnreadableVersion, match="podman version 'dev'"):
        PodmanInfo.from_json(data)


def test_systemd_version_absent_or_read_or_an_error() -> None:
    assert systemd_version({"versions": {"systemd": "absent"}}) is None
    read = systemd_version({"versions": {"systemd": "systemd 257 (257.7-1)"}})
    assert read is not None and read.parts[0] == 257
    with pytest.raises(UnreadableVersion, match="systemd version 'systemd unknown'"):
        systemd_version({"versions": {"systemd": "systemd unknown"}})


def test_gate_pasta_needs_podman_4_4(bookworm: PodmanInfo) -> None:
    reason = capabilities(bookworm).missing("pasta")
    assert reason is not None
    assert "needs podman >= 4.4" in reason
    assert "4.3.1" in reason


def test_gate_quadlet_needs_podman_4_4(bookworm: PodmanInfo, trixie: PodmanInfo) -> None:
    reason = capabilities(bookworm).missing("quadlet")
    assert reason == "quadlet needs podman >= 4.4; the target has podman 4.3.1"
    assert capabilities(trixie).missing("quadlet") is None


def test_gate_pasta_not_installed() -> None:
    data = load("info-5.4.2-trixie.json")
    del data["host"]["pasta"]
    reason = capabilities(PodmanInfo.from_json(data)).missing("pasta")
    assert reason == "pasta is not installed on the target"


def test_gates_on_trixie(trixie: PodmanInfo) -> None:
    caps = capabilities(trixie)
    assert caps.missing("pasta") is None
    assert caps.missing("slirp4netns") is None
    assert caps.missing("root") is None


def test_gate_slirp4netns(bookworm: PodmanInfo) -> None:
    assert capabilities(bookworm).missing("slirp4netns") is None
    data = load("info-5.4.2-trixie.json")
    del data["host"]["slirp4netns"]
    reason = capabilities(PodmanInfo.from_json(data)).missing("slirp4netns")
    assert reason is not None and "slirp4netns is not available" in reason


def test_gates_root_libsdsock_host3(trixie: PodmanInfo) -> None:
    caps = capabilities(trixie, can_root=False)
    assert caps.missing("root") is not None
    assert caps.missing("libsdsock") is not None and "--libsdsock" in str(caps.missing("libsdsock"))
    assert caps.missing("host3") is not None
    caps = Capabilities(target=FakeTarget(), info=trixie,  # type: ignore[arg-type]
                        libsdsock="/opt/libsdsock.so", has_host3=True)
    assert caps.missing("libsdsock") is None
    assert caps.missing("host3") is None


def test_unknown_requirement(trixie: PodmanInfo) -> None:
    with pytest.raises(ValueError, match="unknown requirement"):
        capabilities(trixie).missing("ipv7")
