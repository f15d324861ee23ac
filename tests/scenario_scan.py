"""Which registry claims the scenarios record, read from their source (not imported).

Scenarios take their claims from the registry in three ways, all found here:

- by property: ``REGISTRY.select("prop", ...)`` / ``for_methods("prop", ...)``, also
  through a helper of the module that passes its parameter on to ``select`` (e.g.
  ``_params("prop")``);
- by id: ``REGISTRY.get("id")`` (also ``registry`` / ``CLAIMS``);
- by id in a marker: ``@pytest.mark.claims("id", ...)``, or by property for the
  ``claim`` parameter's method: ``@pytest.mark.claims(same_method="prop")``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
REGISTRY_NAMES = {"REGISTRY", "registry", "CLAIMS"}
SELECTORS = {"select", "for_methods"}


@dataclass
class Scan:
    #: property -> where it is selected ("file:line")
    properties: dict[str, list[str]] = field(default_factory=dict)
    #: claim id -> where it is read by id or named in a marker
    ids: dict[str, list[str]] = field(default_factory=dict)
    #: test function ("file::name") -> ids it reads with get(), ids its marker names
    tests: dict[str, tuple[set[str], set[str]]] = field(default_factory=dict)
    #: test function -> properties it selects in its body, its marker's same_method
    selecting: dict[str, tuple[set[str], set[str]]] = field(default_factory=dict)
    #: test functions that take the recorder fixture
    recording: set[str] = field(default_factory=set)


def _text(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _selected_property(call: ast.Call) -> ast.expr | None:
    """The property argument of a select()/for_methods() call, if it is one."""
    if not (isinstance(call.func, ast.Attribute) and call.func.attr in SELECTORS):
        return None
    if call.args:
        return call.args[0]
    return next((k.value for k in call.keywords if k.arg == "prop"), None)


def _is_get(call: ast.Call) -> bool:
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "get"):
        return False
    receiver = func.value
    return ((isinstance(receiver, ast.Name) and receiver.id in REGISTRY_NAMES)
            or (isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Name)
                and receiver.func.id == "load_default"))


def _is_claims_marker(call: ast.Call) -> bool:
    func = call.func
    return (isinstance(func, ast.Attribute) and func.attr == "claims"
            and isinstance(func.value, ast.Attribute) and func.value.attr == "mark")


def _forwarding_helpers(tree: ast.Module) -> dict[str, int]:
    """Module functions that pass one of their parameters to select(): name -> position."""
    helpers = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        params = [a.arg for a in node.args.args]
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call):
                prop = _selected_property(sub)
                if isinstance(prop, ast.Name) and prop.id in params:
                    helpers[node.name] = params.index(prop.id)
    return helpers


def scan(paths: Iterable[Path] | None = None) -> Scan:
    found = Scan()
    for path in sorted(paths if paths is not None else SCENARIOS.glob("test_*.py")):
        tree = ast.parse(path.read_text(), str(path))
        helpers = _forwarding_helpers(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            where = f"{path.name}:{node.lineno}"
            prop = _text(_selected_property(node))
            if prop is None and isinstance(node.func, ast.Name) and node.func.id in helpers:
                position = helpers[node.func.id]
                prop = _text(node.args[position]) if len(node.args) > position else None
            if prop is not None:
                found.properties.setdefault(prop, []).append(where)
            if _is_get(node) or _is_claims_marker(node):
                for arg in node.args if _is_claims_marker(node) else node.args[:1]:
                    if (claim_id := _text(arg)) is not None:
                        found.ids.setdefault(claim_id, []).append(where)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                body = [c for statement in node.body for c in ast.walk(statement)]
                got = {_text(c.args[0]) for c in body
                       if isinstance(c, ast.Call) and _is_get(c) and c.args}
                marked = {_text(a) for d in node.decorator_list
                          if isinstance(d, ast.Call) and _is_claims_marker(d) for a in d.args}
                name = f"{path.name}::{node.name}"
                found.tests[name] = ({i for i in got if i}, {i for i in marked if i})
                selected = {_text(_selected_property(c)) for c in body
                            if isinstance(c, ast.Call)}
                same = {_text(k.value) for d in node.decorator_list
                        if isinstance(d, ast.Call) and _is_claims_marker(d)
                        for k in d.keywords if k.arg == "same_method"}
                found.selecting[name] = ({p for p in selected if p}, {p for p in same if p})
                if "recorder" in [a.arg for a in node.args.args]:
                    found.recording.add(name)
    return found
