"""The one guarded delete: a tree is removed only when it lies strictly inside its root,
and the removal never crosses into another mount (a bind mount or a mount a killed
build left behind is refused, not deleted through)."""

from __future__ import annotations

import os
import re
import shutil
import stat
from pathlib import Path

from harness.errors import PodnetError


class UnsafeDelete(PodnetError):
    """A delete that would leave its root or cross a mount point."""


def _inside(path: Path, root: Path) -> Path:
    real_root = Path(os.path.realpath(root))
    # Resolve the parent only: a symlink named ``path`` is itself what gets removed.
    real = Path(os.path.realpath(path.parent)) / path.name
    if path.name in ("", ".", "..") or real == real_root or real_root not in real.parents:
        raise UnsafeDelete(f"refusing to delete {path}: it is not strictly inside {root}")
    return real


_OCTAL = re.compile(rb"\\([0-7]{3})")


def mount_point(field: bytes) -> str:
    """A mountinfo mount point: the kernel writes bytes, escaping space, tab, newline
    and backslash as \\ooo; decoded as the file system's own names are (any bytes)."""
    return os.fsdecode(_OCTAL.sub(lambda m: bytes([int(m.group(1), 8)]), field))


def mounts_under(path: Path) -> list[Path]:
    """Mount points at or below ``path`` in this process's mount namespace."""
    real = os.path.realpath(path)
    found = []
    try:
        with open("/proc/self/mountinfo", "rb") as mountinfo:
            for line in mountinfo:
                point = mount_point(line.split()[4])
                if point == real or point.startswith(real.rstrip("/") + "/"):
                    found.append(Path(point))
    except OSError:
        pass
    return found


def remove_tree(path: Path, root: Path) -> bool:
    """Remove ``path`` (a directory tree, file or symlink) if it exists; return whether
    something was removed. Refuses, with :class:`UnsafeDelete`, a path that is not
    strictly inside ``root`` or that has a mount point at or below it."""
    real = _inside(path, root)
    try:
        info = os.lstat(real)
    except FileNotFoundError:
        return False
    if not stat.S_ISDIR(info.st_mode):
        real.unlink()
        return True
    if mounts := mounts_under(real):
        raise UnsafeDelete(f"refusing to delete {path}: {mounts[0]} is mounted inside it "
                           f"(umount it first, e.g. 'umount -R {mounts[0]}')")
    device = info.st_dev

    def on_error(func: object, failed: str, exc_info: object) -> None:
        raise UnsafeDelete(f"could not delete {failed}: {exc_info}")

    # rmtree does not follow symlinks; a directory on another device below would be
    # a mount, refused above; check again in case one appeared since.
    for current, dirs, _files in os.walk(real):
        for name in dirs:
            sub = os.path.join(current, name)
            st = os.lstat(sub)
            if stat.S_ISDIR(st.st_mode) and st.st_dev != device:
                raise UnsafeDelete(f"refusing to delete {path}: {sub} is another file system")
    shutil.rmtree(real, onerror=on_error)
    return True
