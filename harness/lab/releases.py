"""The Debian releases a lab can be built from, as data."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.errors import UsageError


@dataclass(frozen=True)
class Release:
    name: str
    suite: str
    extra_suites: tuple[str, ...] = ()
    #: Release files of snapshot mirrors count as expired for sid and experimental.
    check_valid_until: bool = True
    #: Packages taken from the extra suites in preference to the base suite.
    preferred_from_extra: tuple[str, ...] = field(default=())
    #: Packages this release needs beyond the common list.
    extra_packages: tuple[str, ...] = ()


RELEASES: dict[str, Release] = {
    r.name: r
    for r in (
        # netavark 1.4 drives iptables; later releases use nftables.
        Release("bookworm", "bookworm", extra_packages=("iptables",)),
        Release("trixie", "trixie"),
        Release("sid", "sid", check_valid_until=False),
        Release(
            "experimental", "sid", ("experimental",), check_valid_until=False,
            preferred_from_extra=("podman", "netavark", "aardvark-dns", "buildah",
                                  "conmon", "crun", "passt", "golang-github-containers-common",
                                  "golang-github-containers-image"),
        ),
    )
}

DEFAULT_RELEASE = "trixie"


def get_release(name: str) -> Release:
    try:
        return RELEASES[name]
    except KeyError:
        raise UsageError(f"unknown release '{name}': choose one of {', '.join(RELEASES)}") from None
