"""The layers of harness/ and scenarios/, drawn from their imports: every import points
down or stays on its floor, and no module imports itself back through others.

``FLOORS`` is the plan, bottom first; docs/architecture.md lists it (checked here). A module sits
on the floor of the longest room (package or module name) that contains it (the room
``harness`` is the package's ``__init__`` alone); a new module lands on its package's
floor, and a new package or top-level module needs a place here first.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("harness", "scenarios")

#: Floors, bottom first: a module may import from its own floor and the ones below.
FLOORS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("foundations: errors, commands, files, names, this machine's state and locks",
     ("harness", "harness.errors", "harness.names", "harness.run", "harness.wait",
      "harness.atomic", "harness.fsguard", "harness.versions", "harness.provenance",
      "harness.guide", "harness.guide_sections", "harness.image_names", "harness.markup",
      "harness.results.timings",
      "harness.lab.state", "harness.lab.lock", "harness.lab.topology", "harness.lab.releases",
      "harness.lab.mirror", "harness.lab.cgroup", "harness.lab.rootfs")),
    ("records: the guide's claims and methods, run records, pure computations",
     ("harness.claims", "harness.methods", "harness.words", "harness.results",
      "harness.podman", "harness.examples", "harness.guide_diff", "harness.outbound_params",
      "harness.workers", "harness.scheduling",
      "harness.hookspecs", "harness.timekeeper", "harness.bench.stats",
      "harness.bench.summary", "harness.bench.findings", "harness.bench.progress",
      "harness.bench.verdict", "harness.bench.machine",
      "harness.proxies.specs")),
    ("sessions: podnet's labels, session records and their cleanup; the ssh transport",
     ("harness.sessions", "harness.ssh")),
    ("the abstract target and the clients", ("harness.targets.base", "harness.clients")),
    ("what runs on a target: services, probes, benchmarks, proxies, the test image",
     ("harness.containers", "harness.network_settings", "harness.services",
      "harness.quadlet", "harness.environment", "harness.capabilities", "harness.probes",
      "harness.bench", "harness.proxies", "harness.lab.web_image")),
    ("the lab, its target among them", ("harness.lab",)),
    ("the other targets, and the factory that opens any of them", ("harness.targets",)),
    ("proofs and runs that drive the lab's target",
     ("harness.proofs", "harness.examples.runner", "harness.upstream")),
    ("reports from run records",
     ("harness.reports", "harness.coverage", "harness.matrix", "harness.matrix_changes",
      "harness.matrix_upstream", "harness.matrix_render", "harness.history")),
    ("the commands: the pytest plugin, options, verify, the CLI",
     ("harness.pytest_plugin", "harness.options", "harness.verify",
      "harness.upstream.command", "harness.ui", "harness.cli")),
    ("the suites", ("scenarios",)),
)


def module_names() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(modules: Mapping[str, Path]) -> dict[str, set[str]]:
    """Each module's imports of other modules of ``modules`` (a name imported from a
    package counts as the package's submodule when there is one, else the package),
    wherever in the module they are: lazy imports in functions included."""
    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    edges: dict[str, set[str]] = {}
    for module, path in modules.items():
        names: list[str] = []
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                assert not node.level, f"{module}: relative import"
                names += [f"{node.module}.{alias.name}" for alias in node.names]
        edges[module] = {t for n in names if (t := resolve(n)) and t != module}
    return edges


def floor_of(module: str) -> int:
    rooms = [(len(room), number) for number, (_, members) in enumerate(FLOORS)
             for room in members
             if module == room or (room != "harness" and module.startswith(room + "."))]
    assert rooms, f"{module} has no floor: give it one in tests/test_layers.py"
    return max(rooms)[1]


def cycles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in edges[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while (top := stack.pop()) != node:
                component.append(top)
            if component:
                found.append(sorted([node, *component]))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return imports(module_names())


def test_every_room_is_on_one_floor() -> None:
    rooms = [room for _, members in FLOORS for room in members]
    assert len(rooms) == len(set(rooms))
    modules = module_names()
    assert [room for room in rooms if room not in modules] == []


def test_no_import_runs_up_a_floor(graph: dict[str, set[str]]) -> None:
    upward = [f"{a} ({FLOORS[floor_of(a)][0].split(':')[0]}) imports {b} "
              f"({FLOORS[floor_of(b)][0].split(':')[0]})"
              for a, targets in sorted(graph.items()) for b in sorted(targets)
              if floor_of(b) > floor_of(a)]
    assert upward == []


def test_no_circle(graph: dict[str, set[str]]) -> None:
    assert cycles(graph) == []


def test_the_checks_find_what_they_look_for() -> None:
    """The wrong worlds: a circle, and an import from a lower floor to a higher one."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert floor_of("harness.errors") < floor_of("harness.cli")
    assert floor_of("harness.lab.lab") > floor_of("harness.targets.base")
    assert floor_of("harness.targets.local") > floor_of("harness.lab.lab")


def test_the_map_lists_the_floors_in_order() -> None:
    """docs/architecture.md names the floors as ``FLOORS`` does, bottom first."""
    text = (REPO / "docs" / "architecture.md").read_text()
    layers = text.split("## The layers", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\d+\. \*\*(.+?)\*\*", layers, re.MULTILINE)
    assert listed == [name.split(":")[0] for name, _ in FLOORS]
