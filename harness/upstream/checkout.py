"""A podman source checkout as ``--podman-src`` names it: its ``test/system`` directory,
the bats files to run, the test image its ``helpers.bash`` expects and its version."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from harness.errors import UsageError

SYSTEM_TESTS = Path("test") / "system"
#: podman's networking system tests, run when no file is named.
DEFAULT_FILES = ("500-networking.bats", "505-networking-pasta.bats")
#: What the suite needs beside the bats files (sourced by every file).
HELPERS = "helpers.bash"
#: ``helpers.bash``'s defaults that make up the test image's name.
_IMAGE_PARTS = ("REGISTRY", "USER", "NAME", "TAG")
_VERSION_GO = Path("version") / "rawversion" / "version.go"


@dataclass(frozen=True)
class Checkout:
    #: the directory as given
    root: Path
    #: its ``test/system``
    system: Path
    #: ``quay.io/libpod/testimage:<tag>`` from ``helpers.bash``
    image: str
    #: ``v5.4.2``, or "" when the checkout does not say
    version: str

    @property
    def image_tag(self) -> str:
        return self.image.rsplit(":", 1)[1]

    def files(self, names: list[str] | tuple[str, ...]) -> list[str]:
        """The bats files to run (the networking ones when ``names`` is empty), each
        checked to exist; one line naming the first that does not."""
        chosen = list(names) or list(DEFAULT_FILES)
        for name in chosen:
            if "/" in name or not name.endswith(".bats"):
                raise UsageError(f"invalid test file {name!r}: name a .bats file of "
                                 f"{self.system}, e.g. {DEFAULT_FILES[1]}")
            if not (self.system / name).is_file():
                raise UsageError(f"no {name} in {self.system}: name a .bats file there, e.g. "
                                 f"{DEFAULT_FILES[1]}")
        return chosen


def open_checkout(text: str, source: str = "--podman-src") -> Checkout:
    """The checkout at ``text``, or one line saying what is wrong and what to give."""
    hint = ("give the directory of a podman source checkout (git clone "
            "https://github.com/containers/podman), or its test/system directory")
    if not text:
        raise UsageError(f"{source} is empty: {hint}")
    given = Path(text).expanduser()
    if not given.is_dir():
        raise UsageError(f"{source} {text}: no such directory: {hint}")
    root, system = ((given.parent.parent, given)
                    if (given / HELPERS).is_file() else (given, given / SYSTEM_TESTS))
    helpers = system / HELPERS
    if not helpers.is_file():
        raise UsageError(f"{source} {text}: not a podman checkout (no "
                         f"{SYSTEM_TESTS / HELPERS}): {hint}")
    if (image := image_name(helpers.read_text(errors="replace"))) is None:
        raise UsageError(f"{source} {text}: {helpers} does not name the test image "
                         "(PODMAN_TEST_IMAGE_...): use a podman checkout of v4.0 or later")
    return Checkout(given, system, image, version_of(root))


def image_name(helpers: str) -> str | None:
    """``registry/user/name:tag`` from the defaults ``helpers.bash`` gives
    ``PODMAN_TEST_IMAGE_REGISTRY`` and the others (``${VAR:-"default"}``)."""
    parts = []
    for part in _IMAGE_PARTS:
        match = re.search(rf'^PODMAN_TEST_IMAGE_{part}=\$\{{PODMAN_TEST_IMAGE_{part}:-"?'
                          r'([^"}]+)"?\}', helpers, re.MULTILINE)
        if match is None:
            return None
        parts.append(match.group(1))
    registry, user, name, tag = parts
    return f"{registry}/{user}/{name}:{tag}"


def version_of(root: Path) -> str:
    """The checkout's version: ``version/rawversion/version.go`` of a source tree, else a
    directory named ``podman-v<version>`` (a release's source archive), else ""."""
    go = root / _VERSION_GO
    text = go.read_text(errors="replace") if go.is_file() else ""
    match = (re.search(r'RawVersion\s*=\s*"([^"]+)"', text)
             or re.fullmatch(r"podman-(v?\d+\.\d+\.\d+(?:-[\w.]+)?)", root.resolve().name))
    return "v" + match.group(1).removeprefix("v") if match else ""
