"""The guide's inbound methods, loaded from ``scenarios/methods.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from harness import names
from harness.errors import UsageError

METHODS_FILE = Path(str(resources.files("scenarios") / "methods.toml"))
FAMILIES = ("pasta", "slirp4netns", "socket_activation", "host_network", "custom_network")


@dataclass(frozen=True)
class Method:
    id: str
    title: str
    kind: str
    families: tuple[str, ...]
    network: str | None = None
    requires: tuple[str, ...] = ()
    #: Not one of the guide's methods: a method podman offers that the guide does not
    #: describe; its claims cite podman's documentation instead of the guide.
    beyond_guide: bool = False
    #: containers.conf ``[network]`` settings the method needs, as (key, value) pairs:
    #: written to the user's own configuration only while a check runs.
    network_settings: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        # The id becomes container, unit and file names (podnet-<id>-<token>, a drop-in
        # 99-podnet-<id>.conf): a name, never a path or a shell word.
        names.method_id(self.id)

    @property
    def uses_pasta_pcap(self) -> bool:
        return self.network in ("pasta", "custom")


@cache
def all_methods() -> dict[str, Method]:
    data = tomllib.loads(METHODS_FILE.read_text())
    methods = {}
    for mid, entry in data.get("method", {}).items():
        if unknown := set(entry.get("families", ())) - set(FAMILIES):
            raise UsageError(f"method {mid} in {METHODS_FILE} has unknown families {unknown}")
        settings = entry.get("network_settings", {})
        if not isinstance(settings, dict) or not all(
                isinstance(v, str) for v in settings.values()):
            raise UsageError(f"method {mid} in {METHODS_FILE}: network_settings must be a "
                             "table of string values")
        methods[mid] = Method(mid, entry["title"], entry["kind"],
                              tuple(entry.get("families", ())), entry.get("network"),
                              tuple(entry.get("requires", ())),
                              bool(entry.get("beyond_guide", False)),
                              tuple(sorted(settings.items())))
    return methods


def get_method(method_id: str) -> Method:
    methods = all_methods()
    if method_id not in methods:
        raise UsageError(f"unknown method '{method_id}': choose one of {', '.join(methods)}")
    return methods[method_id]
