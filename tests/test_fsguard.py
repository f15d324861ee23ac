"""The guarded delete refuses anything not strictly inside its root, and never deletes
through a mount."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.fsguard import UnsafeDelete, mount_point, remove_tree


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "root" / "lab" / "deep").mkdir(parents=True)
    (tmp_path / "root" / "lab" / "deep" / "file").write_text("x")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "keep").write_text("keep")
    return tmp_path / "root"


def test_removes_a_tree_inside_its_root(root: Path) -> None:
    assert remove_tree(root / "lab", root)
    assert not (root / "lab").exists()
    assert root.is_dir()


def test_missing_path_is_nothing_to_do(root: Path) -> None:
    assert not remove_tree(root / "absent", root)


@pytest.mark.parametrize("relative", ["", ".", "..", "lab/../..", "../outside", "/"])
def test_refuses_paths_not_strictly_inside(root: Path, relative: str) -> None:
    path = Path("/") if relative == "/" else root / relative
    with pytest.raises(UnsafeDelete, match="not strictly inside"):
        remove_tree(path, root)
    assert (root.parent / "outside" / "keep").exists()
    assert (root / "lab" / "deep" / "file").exists()


def test_a_symlink_out_of_the_root_is_removed_not_followed(root: Path) -> None:
    link = root / "link"
    link.symlink_to(root.parent / "outside")
    assert remove_tree(link, root)
    assert not link.exists()
    assert (root.parent / "outside" / "keep").exists()


def test_a_path_through_a_symlinked_directory_is_judged_by_where_it_leads(root: Path) -> None:
    (root / "escape").symlink_to(root.parent / "outside")
    with pytest.raises(UnsafeDelete, match="not strictly inside"):
        remove_tree(root / "escape" / "keep", root)
    assert (root.parent / "outside" / "keep").exists()


def test_mount_points_are_decoded_as_bytes() -> None:
    # The kernel escapes only space, tab, newline and backslash; other bytes (UTF-8 here)
    # come through as they are and must not be read as Latin-1.
    assert mount_point("/mnt/caf\u00e9\\040x".encode()) == "/mnt/caf\u00e9 x"
    assert mount_point(b"/mnt/a\\134b\\011c") == "/mnt/a\\b\tc"


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
@pytest.mark.parametrize("name", ["lab", "caf\u00e9 \u6df1"])
def test_refuses_to_delete_through_a_mount(root: Path, name: str) -> None:
    # In a private mount namespace of its own, so the machine's mount table never changes.
    # A tree whose own name is not ASCII: its mounts are found only when read as bytes.
    deep = root / name / "deep"
    deep.mkdir(parents=True, exist_ok=True)
    code = ("import sys; from pathlib import Path; from harness.fsguard import remove_tree; "
            "remove_tree(Path(sys.argv[1]), Path(sys.argv[2]))")
    done = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c",
         'mount -t tmpfs podnet-test "$1" && touch "$1/on-tmpfs" && shift && exec "$@"',
         "sh", str(deep), sys.executable, "-c", code, str(root / name), str(root)],
        capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "is mounted inside it" in done.stderr
    assert deep.is_dir()
