"""Typed, frozen views of ``podman info --format json``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.errors import UnreadableVersion
from harness.versions import Version, parse_passt


@dataclass(frozen=True)
class ComponentVersions:
    """Versions of the networking stack, as podman reports them (None when absent)."""

    podman: Version
    pasta: Version | None
    slirp4netns: Version | None
    netavark: Version | None
    conmon: Version | None
    oci_runtime_name: str
    oci_runtime: Version | None
    kernel: str

    def as_conditions(self) -> dict[str, Version | None]:
        """Keyed by the names used in the claims registry's version conditions."""
        return {
            "podman": self.podman, "passt": self.pasta, "pasta": self.pasta,
            "slirp4netns": self.slirp4netns, "netavark": self.netavark,
            "conmon": self.conmon, self.oci_runtime_name: self.oci_runtime,
        }

    def as_text(self) -> dict[str, str]:
        def show(v: Version | None) -> str:
            return (v.text or str(v)) if v is not None else "absent"

        shown = ("podman", "pasta", "slirp4netns", "netavark", "conmon")
        return {**{name: show(getattr(self, name)) for name in shown},
                "oci_runtime": f"{self.oci_runtime_name} {show(self.oci_runtime)}",
                "kernel": self.kernel}


@dataclass(frozen=True)
class PodmanInfo:
    rootless: bool
    rootless_network_cmd: str | None
    network_backend: str
    cgroup_version: str
    components: ComponentVersions

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PodmanInfo:
        host = data.get("host", {})
        runtime = host.get("ociRuntime", {}) or {}
        components = ComponentVersions(
            podman=read_version("podman", data.get("version", {}).get("Version", "0")),
            pasta=_passt(host.get("pasta")),
            slirp4netns=_dotted("slirp4netns", (host.get("slirp4netns") or {}).get("version")),
            netavark=_dotted("netavark", (host.get("networkBackendInfo") or {}).get("version")),
            conmon=_dotted("conmon", (host.get("conmon") or {}).get("version")),
            oci_runtime_name=runtime.get("name", "unknown"),
            oci_runtime=_dotted(runtime.get("name", "oci runtime"), runtime.get("version")),
            kernel=host.get("kernel", ""),
        )
        return cls(
            rootless=bool(host.get("security", {}).get("rootless")),
            rootless_network_cmd=host.get("rootlessNetworkCmd"),
            network_backend=host.get("networkBackend", ""),
            cgroup_version=host.get("cgroupVersion", ""),
            components=components,
        )


def _dotted(component: str, text: str | None) -> Version | None:
    """A component's version; None when podman reports none, an error when it reports
    text that is no version."""
    return read_version(component, text) if text else None


def read_version(component: str, text: str, source: str = "podman info") -> Version:
    """``text`` as a version; an error naming it and its ``source`` when it is none."""
    try:
        return Version.parse(text)
    except ValueError:
        raise UnreadableVersion(component, text, source) from None


def _passt(entry: dict[str, str] | None) -> Version | None:
    """pasta's version: from the version string, else the package name (Debian). None
    only when podman reports no pasta executable; an installed pasta whose version
    cannot be read is an error naming the text."""
    if not entry or not entry.get("executable"):
        return None
    texts = (entry.get("version", ""), entry.get("package", ""))
    for text in texts:
        try:
            return parse_passt(text)
        except ValueError:
            continue
    raise UnreadableVersion("pasta", " / ".join(t for t in texts if t) or "(empty)")
