"""Typed, frozen views of ``podman container inspect`` JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Attachment:
    """The container's address on one (custom) network."""

    network: str
    ip: str
    prefix: int
    gateway: str
    mac: str


@dataclass(frozen=True)
class PortBinding:
    container_port: int
    protocol: str
    host_ip: str
    host_port: int


@dataclass(frozen=True)
class ContainerInspect:
    id: str
    name: str
    status: str
    pid: int
    network_mode: str
    networks: tuple[Attachment, ...]
    ports: tuple[PortBinding, ...]
    sandbox_key: str

    @property
    def running(self) -> bool:
        return self.status == "running"

    def address_on(self, network: str) -> str | None:
        for attachment in self.networks:
            if attachment.network == network:
                return attachment.ip
        return None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ContainerInspect:
        settings = data.get("NetworkSettings") or {}
        networks = tuple(
            Attachment(name, net.get("IPAddress", ""), int(net.get("IPPrefixLen") or 0),
                       net.get("Gateway", ""), net.get("MacAddress", ""))
            for name, net in sorted((settings.get("Networks") or {}).items())
        )
        ports = []
        for key, bindings in sorted((settings.get("Ports") or {}).items()):
            port, _, proto = key.partition("/")
            for binding in bindings or ():
                ports.append(PortBinding(int(port), proto or "tcp", binding.get("HostIp", ""),
                                         int(binding.get("HostPort") or 0)))
        state = data.get("State") or {}
        return cls(
            id=data.get("Id", ""),
            name=data.get("Name", "").lstrip("/"),
            status=state.get("Status", ""),
            pid=int(state.get("Pid") or 0),
            network_mode=(data.get("HostConfig") or {}).get("NetworkMode", ""),
            networks=networks,
            ports=tuple(ports),
            sandbox_key=settings.get("SandboxKey", ""),
        )


def parse_inspect(payload: list[dict[str, Any]]) -> list[ContainerInspect]:
    """``podman container inspect`` prints a list, one entry per container."""
    return [ContainerInspect.from_json(entry) for entry in payload]
