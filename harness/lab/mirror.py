"""Find the Debian mirror the machine's apt is configured with.

Reads both source formats: one-line ``deb URI SUITE COMPONENTS`` (sources.list) and
deb822 stanzas (``*.sources``). ``PODNET_MIRROR`` overrides what apt says.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from harness.errors import PodnetError

DEFAULT_APT_DIR = Path("/etc/apt")
_OPTIONS = re.compile(r"\[[^\]]*\]")


@dataclass(frozen=True)
class AptSource:
    uri: str
    suites: tuple[str, ...]
    components: tuple[str, ...]
    kind: str = "deb"

    @property
    def is_debian_archive(self) -> bool:
        """A main Debian archive (not security, not a third-party repository)."""
        return (self.kind == "deb" and "security" not in self.uri and "main" in self.components
                and any(_is_debian_suite(s) for s in self.suites))


DEBIAN_SUITES = {
    "buster", "bullseye", "bookworm", "trixie", "forky", "sid", "experimental",
    "oldoldstable", "oldstable", "stable", "testing", "unstable",
}
#: Suffixes of Debian's own suites; third-party ones such as ``bookworm-pgdg`` are not.
DEBIAN_SUITE_SUFFIXES = {"updates", "backports", "backports-sloppy", "proposed-updates"}


def _is_debian_suite(suite: str) -> bool:
    base, _, suffix = suite.partition("-")
    return base in DEBIAN_SUITES and (not suffix or suffix in DEBIAN_SUITE_SUFFIXES)


def parse_one_line(text: str) -> list[AptSource]:
    """Parse the one-line format of sources.list(5)."""
    lines = (_OPTIONS.sub(" ", raw.split("#", 1)[0]).split() for raw in text.splitlines())
    return [AptSource(parts[1].rstrip("/"), (parts[2],), tuple(parts[3:]), parts[0])
            for parts in lines if len(parts) >= 3 and parts[0] in ("deb", "deb-src")]


def parse_deb822(text: str) -> list[AptSource]:
    """Parse the deb822 format of sources.list(5): stanzas separated by blank lines."""
    found = []
    for stanza in re.split(r"\n\s*\n", text):
        kept = "\n".join(raw for raw in stanza.splitlines() if not raw.startswith("#"))
        # A line that starts with white space continues the field above it.
        lines = re.sub(r"\n\s+", " ", kept).splitlines()
        fields = {key.strip().lower(): value.strip()
                  for key, colon, value in (line.partition(":") for line in lines) if colon}
        if fields.get("enabled", "yes").lower() != "no":
            found += [AptSource(uri.rstrip("/"), tuple(fields.get("suites", "").split()),
                                tuple(fields.get("components", "").split()), kind)
                      for kind in fields.get("types", "").split()
                      for uri in fields.get("uris", "").split()]
    return found


def read_sources(apt_dir: Path = DEFAULT_APT_DIR) -> list[AptSource]:
    parsers = {".list": parse_one_line, ".sources": parse_deb822}
    parts = apt_dir / "sources.list.d"
    files = [apt_dir / "sources.list", *(sorted(parts.iterdir()) if parts.is_dir() else ())]
    return [source for path in files if path.suffix in parsers and path.is_file()
            for source in parsers[path.suffix](path.read_text())]


def pick_mirror(sources: Iterable[AptSource]) -> str | None:
    return next((source.uri for source in sources if source.is_debian_archive), None)


def debian_mirror(apt_dir: Path = DEFAULT_APT_DIR) -> str:
    override = os.environ.get("PODNET_MIRROR")
    if override:
        return override.rstrip("/")
    mirror = pick_mirror(read_sources(apt_dir))
    if mirror is None:
        raise PodnetError(f"no Debian mirror found in {apt_dir}/sources.list or sources.list.d: "
                          "set PODNET_MIRROR=http://your.mirror/debian")
    return mirror
