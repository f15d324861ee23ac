"""podnet as a package: the wheel carries ``harness`` and the suites with their data
(``scenarios``), and a podnet installed from it into a fresh virtual environment outside
the repository works from any directory, its pytest plugin loaded once through the
``pytest11`` entry point.

The fresh environment gets podnet from the wheel alone (``--no-index --no-deps``); its
dependencies are this environment's, through a ``.pth`` line (what
``--system-site-packages`` does for a system interpreter), so no package index is asked.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
#: The packages the wheel ships.
PACKAGES = ("harness", "scenarios")
#: The files of the source tree a wheel is built from.
SOURCES = (*PACKAGES, "pyproject.toml", "README.md")


def _run(argv: list[str | Path], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False)


def build_wheel(root: Path, edit_pyproject: tuple[str, str] | None = None) -> Path:
    """The wheel, built from a copy of the source tree (the checkout is not written)."""
    src = root / "src"
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(REPO / name, src / name)
    if edit_pyproject:
        pyproject = src / "pyproject.toml"
        assert edit_pyproject[0] in pyproject.read_text()
        pyproject.write_text(pyproject.read_text().replace(*edit_pyproject))
    done = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                 "--no-index", "-q", "-w", root / "dist", src], cwd=root)
    assert done.returncode == 0, done.stderr[-3000:]
    (found,) = (root / "dist").glob("podnet-*.whl")
    return found


def missing_from(wheel: Path) -> set[str]:
    """The packages' files that the wheel lacks."""
    names = set(zipfile.ZipFile(wheel).namelist())
    tree = {str(p.relative_to(REPO)) for package in PACKAGES for p in (REPO / package).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}
    return tree - names


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("build"))


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment outside the repository with podnet from the wheel."""
    env = tmp_path_factory.mktemp("venv") / "env"
    base = getattr(sys, "_base_executable", sys.executable)
    done = _run([base, "-m", "venv", env], cwd=env.parent)
    assert done.returncode == 0, done.stderr
    done = _run([env / "bin" / "python", "-m", "pip", "install", "-q", "--no-index",
                 "--no-deps", wheel], cwd=env.parent)
    assert done.returncode == 0, done.stderr
    # Dependencies from this environment, added only after podnet is installed, so pip
    # never sees (and never touches) this environment's own podnet.
    site = _run([env / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                cwd=env.parent).stdout.strip()
    (Path(site) / "podnet-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return env


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A working directory that is not the repository."""
    work = tmp_path / "work"
    work.mkdir()
    return work


def test_the_wheel_carries_every_file_of_the_package(wheel: Path) -> None:
    """Suites, claims, methods, the guide and the lab's files included: whatever the
    package holds, the wheel holds."""
    assert missing_from(wheel) == set()
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"scenarios/methods.toml", "harness/data/guide/revisions.toml",
            "harness/data/guide/LICENSE", "harness/data/guide/19f4819.md",
            "harness/data/guide/patches/ca0550c.diff",
            "harness/lab/files/image/Containerfile"} <= names
    assert any(re.fullmatch(r"scenarios/claims/\w+\.toml", n) for n in names)
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[pytest11]\npodnet = harness.pytest_plugin" in text


def test_a_package_data_pattern_that_misses_files_is_found(tmp_path: Path) -> None:
    """The wrong world: package data that does not recurse into the lab's image files."""
    wheel = build_wheel(tmp_path, ('"lab/files/**/*"', '"lab/files/*"'))
    assert "harness/lab/files/image/Containerfile" in missing_from(wheel)


def test_podnet_from_the_wheel_runs_from_any_directory(venv: Path, elsewhere: Path) -> None:
    where = _run([venv / "bin" / "python", "-c", "import harness; print(harness.__file__)"],
                 cwd=elsewhere)
    assert where.stdout.strip().startswith(str(venv)), where.stdout + where.stderr
    claims = _run([venv / "bin" / "podnet", "claims"], cwd=elsewhere)
    assert claims.returncode == 0, claims.stderr
    assert "source" in claims.stdout and "pasta" in claims.stdout
    coverage = _run([venv / "bin" / "podnet", "coverage"], cwd=elsewhere)
    assert coverage.returncode == 0 and "statements observed" in coverage.stdout


def test_results_go_to_the_working_directory(venv: Path, elsewhere: Path) -> None:
    runs = [FIXTURES / "matrix" / "sid", FIXTURES / "matrix" / "experimental"]
    done = _run([venv / "bin" / "podnet", "matrix", *runs], cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    (matrix,) = (elsewhere / "results").glob("matrix-*/matrix.md")
    assert "experimental (podman 6.1.1" in matrix.read_text()
    done = _run([venv / "bin" / "podnet", "history", "--results-dir", "elsewhere", *runs],
                cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    assert list((elsewhere / "elsewhere").glob("history-*/history.md"))


def test_the_suites_collect_from_the_wheel_with_the_plugin_loaded_once(
        venv: Path, elsewhere: Path) -> None:
    """The documented form, ``pytest -p podnet --pyargs scenarios``: the suites
    from the installed package, the plugin by its entry point (and ``-p podnet`` is no
    second registration)."""
    done = _run([venv / "bin" / "python", "-m", "pytest", "-p", "podnet", "--pyargs",
                 "scenarios", "--collect-only", "-q", "-p", "no:cacheprovider",
                 "-m", "source_address"], cwd=elsewhere)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert any("test_source_address.py::" in line for line in done.stdout.splitlines())
    assert re.search(r"\d+/\d+ tests collected", done.stdout), done.stdout[-500:]
    assert not (elsewhere / ".pytest_cache").exists()


def test_the_package_reads_nothing_outside_itself() -> None:
    """No module climbs from its own file above its package (``docs/``, ``tests/`` of a
    checkout): an installed podnet has none of them."""
    climbing = re.compile(
        r"Path\(__file__\)(?:\.resolve\(\))?(?:\.parents\[(\d+)\]|((?:\.parent\b)+))")
    outside = []
    for path in (p for package in PACKAGES for p in (REPO / package).rglob("*.py")):
        depth = len(path.relative_to(REPO).parts) - 1
        for match in climbing.finditer(path.read_text()):
            ups = int(match[1]) + 1 if match[1] else match[2].count(".parent")
            if ups > depth:
                outside.append(f"{path.relative_to(REPO)}: {match[0]}")
    assert outside == []
