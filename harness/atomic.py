"""Atomic file writes: a reader sees the previous file or the new one, never half of one.

The content goes to a temporary file next to the target, is flushed to disk and then
renamed over the target. A failed write (a full disk, a read-only directory) removes the
temporary file, keeps the previous file as it was and raises one line.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

from harness.errors import PodnetError
from harness.fsguard import remove_tree


def write_bytes(path: Path, data: bytes) -> Path:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise PodnetError(f"cannot write {path}: {exc.strerror or exc}; free space or fix "
                          "the directory's permissions (any previous version is kept)") from None
    return path


def write_text(path: Path, text: str) -> Path:
    return write_bytes(path, text.encode())


def write_directory(out: Path, files: Mapping[str, str | bytes], root: Path) -> list[Path]:
    """Write ``files`` (name: content) into ``out`` under ``root``, each atomically; a
    failed write removes ``out`` if this call made it, and raises one line."""
    made = not out.exists()
    try:
        return [write_bytes(out / name, data.encode() if isinstance(data, str) else data)
                for name, data in files.items()]
    except PodnetError:
        if made:
            remove_tree(out, root)
        raise
