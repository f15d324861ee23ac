"""procs and netconf parsing, on argv and routes recorded in the lab (podman 5.4.2)."""

import json
from pathlib import Path

from harness.probes import procs
from harness.probes.netconf import Route
from scenarios.test_unprivileged_port import minimum_port

FIXTURES = Path(__file__).parent / "fixtures" / "procs"


def test_pasta_cmdline_from_publish() -> None:
    args = procs.parse_cmdline((FIXTURES / "pasta-cmdline-p-8080-80.bin").read_text())
    assert args[0].endswith("pasta")
    assert procs.option_values(args, "-t", "--tcp-ports") == ["8080-8080:80-80"]
    assert procs.option_values(args, "-u") == ["none"]
    assert procs.option_values(args, "--netns")[0].startswith("/run/user/")


def test_option_values_long_form() -> None:
    assert procs.option_values(["pasta", "--tcp-ports=8080:80"], "-t", "--tcp-ports") == ["8080:80"]


def _routes(family: str) -> list[Route]:
    data = json.loads((FIXTURES / f"ip-route-{family[1]}.json").read_text())
    return [Route(family, spec) for spec in data]


def test_routes_recreated_with_their_attributes() -> None:
    v4 = {r.describe() for r in _routes("-4")}
    assert "default via 192.0.2.10 dev eth0" in v4
    assert "192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.1" in v4
    default6 = next(r for r in _routes("-6") if r.is_default)
    assert default6.argv()[:5] == ["ip", "-6", "route", "append", "default"]
    assert "via" in default6.argv() and "metric" in default6.argv()


def test_minimum_port_classification() -> None:
    assert minimum_port(below_ok=False, at_ok=True) == "ip_unprivileged_port_start"
    assert minimum_port(below_ok=True, at_ok=True) == 0
    assert isinstance(minimum_port(below_ok=False, at_ok=False), str)
