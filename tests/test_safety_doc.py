"""docs/safety.md names the tests that prove its promises: every test it names exists
(a renamed or deleted test leaves a promise without proof, and fails here)."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAFETY = REPO / "docs" / "safety.md"
#: `tests/x.py`, `tests/x.py::test_y` (a pattern with *), `scenarios/x.py::test_y`,
#: or a bare `test_y` / `::test_y` that belongs to the file named last before it.
REFERENCE = re.compile(r"`((?:tests|scenarios)/[\w/]+\.py)?(?:::)?(test_[\w*]*)?`")


def _tests_of(path: Path) -> list[str]:
    return re.findall(r"^def (test_\w+)", path.read_text(), flags=re.MULTILINE)


def references() -> list[tuple[str, str]]:
    """(file, test name or "") for every test docs/safety.md names, in order."""
    found, last = [], ""
    for match in REFERENCE.finditer(SAFETY.read_text()):
        path, name = match.group(1), match.group(2)
        if not path and not name:
            continue
        last = path or last
        found.append((last, name or ""))
    return found


def test_the_page_names_tests() -> None:
    assert len(references()) >= 20


def test_every_test_the_page_names_exists() -> None:
    missing = []
    for path, name in references():
        if not path:
            missing.append(f"{name}: no file named before it")
            continue
        if not (REPO / path).is_file():
            missing.append(f"{path}: no such file")
            continue
        if name and not fnmatch.filter(_tests_of(REPO / path), name):
            missing.append(f"{path}::{name}: no such test")
    assert not missing, "\n".join(missing)
