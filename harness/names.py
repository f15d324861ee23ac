"""The one place that validates every name that becomes a path, a unit, a namespace or
a shell word: lab names, run ids, releases, method ids, and the roots podnet writes
under.

A valid name is short, starts with a letter or digit and holds only letters, digits,
``.``, ``_`` and ``-`` (never ``..``): it can be joined to a root, used as a network
namespace or unit name, or passed to a shell, without quoting tricks.
"""

from __future__ import annotations

import re
from pathlib import Path

from harness.errors import UsageError

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
#: A lab name becomes ``<lab>-host1`` (a network namespace) and veth peers in it:
#: short enough that every derived name fits the kernel's limits.
LAB_NAME_MAX = 24
RUN_ID_MAX = 64


def _checked(kind: str, value: str, max_len: int, hint: str) -> str:
    if (not isinstance(value, str) or not _NAME.fullmatch(value) or ".." in value
            or len(value) > max_len):
        raise UsageError(f"invalid {kind} {value!r}: {hint}")
    return value


def lab_name(value: str) -> str:
    """A lab name: ``podnet``, ``ci-1`` (at most 24 letters, digits, '.', '_', '-')."""
    return _checked("lab name", value, LAB_NAME_MAX,
                    f"use at most {LAB_NAME_MAX} letters, digits, '.', '_' or '-', "
                    "starting with a letter or digit (e.g. podnet)")


def run_id(value: str) -> str:
    """A run id: the name of a run directory under the results root."""
    return _checked("run id", value, RUN_ID_MAX,
                    f"use at most {RUN_ID_MAX} letters, digits, '.', '_' or '-' "
                    "(a directory name under results/, not a path)")


def release(value: str) -> str:
    return _checked("release", value, 32, "name a Debian release such as trixie")


def method_id(value: str) -> str:
    return _checked("method id", value, 64, "use letters, digits, '.', '_' or '-'")


def root_dir(variable: str, value: str) -> Path:
    """A directory podnet owns and deletes inside (state, data, cache): absolute,
    normalised, and never ``/`` or a top-level system directory."""
    path = Path(value)
    if not value or not path.is_absolute():
        raise UsageError(f"invalid {variable} {value!r}: give an absolute directory "
                         "such as /var/lib/podnet")
    if any(part in (".", "..") for part in value.split("/")) or "//" in value.rstrip("/"):
        raise UsageError(f"invalid {variable} {value!r}: give a normalised path "
                         "without '.' or '..'")
    if len(path.parts) < 3:
        raise UsageError(f"invalid {variable} {value!r}: podnet deletes inside it, so it "
                         "must be a directory of its own two levels below / "
                         "(e.g. /var/lib/podnet)")
    return path
