import json
from pathlib import Path

from harness.podman.inspect import parse_inspect

FIXTURES = Path(__file__).parent / "fixtures" / "podman"


def _load(name: str):  # type: ignore[no-untyped-def]
    return parse_inspect(json.loads((FIXTURES / name).read_text()))


def test_pasta_container_has_published_port_and_no_network_attachment() -> None:
    (container,) = _load("inspect-pasta-5.4.2.json")
    assert container.running
    assert container.network_mode == "pasta"
    assert container.pid > 0
    assert container.networks == ()
    (port,) = container.ports
    assert (port.container_port, port.protocol, port.host_ip, port.host_port) == (
        8080, "tcp", "0.0.0.0", 8080)
    assert container.sandbox_key.startswith("/run/user/1000/netns/")


def test_custom_network_container_has_an_address_on_its_network() -> None:
    (container,) = _load("inspect-custom-network-5.4.2.json")
    assert container.network_mode == "bridge"
    address = container.address_on("podnet-rec")
    assert address is not None and address.startswith("10.89.")
    assert container.address_on("other") is None
    assert container.networks[0].prefix == 24
