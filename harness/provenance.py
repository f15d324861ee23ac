"""Which podnet made a run: its version, and its git commit when it runs from a checkout."""

from __future__ import annotations

from pathlib import Path

from harness import __version__
from harness.errors import PodnetError
from harness.run import run

#: The package's own directory: git is asked from here.
_PACKAGE = Path(__file__).resolve().parent


def podnet_identity() -> dict[str, str | None]:
    """``{"version": ..., "commit": ...}``; the commit is None for an installed wheel."""
    return {"version": __version__, "commit": _commit()}


def _commit() -> str | None:
    """HEAD of the checkout this package is part of: git must track this very file (an
    installed copy inside some other repository's tree, a venv say, is no checkout)."""
    git = ["git", "-C", str(_PACKAGE)]
    try:
        tracked = run([*git, "ls-files", "--error-unmatch", Path(__file__).name],
                      check=False, timeout=30)
        done = run([*git, "rev-parse", "HEAD"], check=False, timeout=30) if tracked.ok else None
    except PodnetError:  # git is not installed
        return None
    commit = done.stdout.strip() if done is not None and done.ok else ""
    return commit or None
