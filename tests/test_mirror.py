"""Which Debian mirror apt is configured with, in both source formats."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.errors import PodnetError
from harness.lab.mirror import (
    AptSource,
    debian_mirror,
    parse_deb822,
    parse_one_line,
    pick_mirror,
    read_sources,
)

APT = Path(__file__).parent / "fixtures" / "apt"


def text(name: str) -> str:
    return (APT / name).read_text()


@pytest.fixture(autouse=True)
def no_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PODNET_MIRROR", raising=False)


def apt_dir(tmp_path: Path, sources_list: str | None = None, **parts: str) -> Path:
    """An /etc/apt look-alike: ``parts`` maps file names in sources.list.d to fixtures."""
    root = tmp_path / "apt"
    (root / "sources.list.d").mkdir(parents=True)
    if sources_list is not None:
        shutil.copy(APT / sources_list, root / "sources.list")
    for name, fixture in parts.items():
        shutil.copy(APT / fixture, root / "sources.list.d" / name.replace("__", "."))
    return root


def test_one_line() -> None:
    sources = parse_one_line(text("one-line.list"))
    assert sources == [
        AptSource("http://deb.debian.org/debian", ("bookworm",), ("main",), "deb-src"),
        AptSource("http://security.debian.org/debian-security", ("bookworm-security",),
                  ("main", "contrib"), "deb"),
        AptSource("http://ftp.de.debian.org/debian", ("bookworm",),
                  ("main", "contrib", "non-free-firmware"), "deb"),
        AptSource("http://ftp.de.debian.org/debian", ("bookworm-updates",), ("main",), "deb"),
    ]


def test_one_line_options_do_not_leak() -> None:
    line = "deb [ arch=amd64,arm64 signed-by=/k.gpg trusted=yes ] http://m.example/debian sid main"
    assert parse_one_line(line) == [AptSource("http://m.example/debian", ("sid",), ("main",))]


def test_one_line_ignores_junk() -> None:
    assert parse_one_line("deb http://only-two-words\nrpm http://x sid main\n  # deb x y z") == []


def test_deb822_real_file() -> None:
    # Copied from this machine's /etc/apt/sources.list.d/debian.sources.
    sources = parse_deb822(text("debian.sources"))
    assert [(s.uri, s.suites, s.kind) for s in sources] == [
        ("http://deb.debian.org/debian", ("bookworm", "bookworm-updates"), "deb"),
        ("http://deb.debian.org/debian-security", ("bookworm-security",), "deb"),
    ]
    assert pick_mirror(sources) == "http://deb.debian.org/debian"


def test_deb822_stanzas() -> None:
    sources = parse_deb822(text("multi.sources"))
    # The disabled stanza is gone; types x URIs are expanded in order.
    assert [(s.kind, s.uri) for s in sources] == [
        ("deb", "http://security.debian.org/debian-security"),
        ("deb-src", "http://security.debian.org/debian-security"),
        ("deb-src", "http://mirror.example.net/debian"),
        ("deb-src", "http://deb.debian.org/debian"),
        ("deb", "http://mirror.example.net/debian"),
        ("deb", "http://deb.debian.org/debian"),
    ]
    last = sources[-1]
    assert last.suites == ("trixie", "trixie-updates")
    assert last.components == ("main", "contrib", "non-free-firmware")
    assert not any("disabled" in s.uri for s in sources)


def test_pick_mirror_from_deb822_skips_security_and_deb_src() -> None:
    assert pick_mirror(parse_deb822(text("multi.sources"))) == "http://mirror.example.net/debian"


def test_pick_mirror_from_one_line_skips_security_and_deb_src() -> None:
    assert pick_mirror(parse_one_line(text("one-line.list"))) == "http://ftp.de.debian.org/debian"


@pytest.mark.parametrize("fixture", ["third-party.list", "only-third-party.sources"])
def test_third_party_repositories_are_no_mirror(fixture: str) -> None:
    parse = parse_deb822 if fixture.endswith(".sources") else parse_one_line
    sources = parse(text(fixture))
    assert sources, "the fixture parses"
    assert pick_mirror(sources) is None


@pytest.mark.parametrize(
    ("suite", "debian"),
    [("trixie", True), ("bookworm-updates", True), ("bookworm-backports", True),
     ("stable", True), ("sid", True), ("bookworm-pgdg", False), ("jammy", False),
     ("nodistro", False), ("trixie-security", False)],
)
def test_debian_suites(suite: str, debian: bool) -> None:
    source = AptSource("http://mirror.example/debian", (suite,), ("main",))
    assert source.is_debian_archive is debian


def test_read_sources_both_formats(tmp_path: Path) -> None:
    root = apt_dir(tmp_path, "one-line.list", debian__sources="debian.sources",
                   docker__list="third-party.list", old__list__disabled="third-party.list")
    uris = [s.uri for s in read_sources(root)]
    # sources.list first, then sources.list.d in name order; .disabled files are skipped.
    assert uris[:4] == ["http://deb.debian.org/debian", "http://security.debian.org/debian-security",
                        "http://ftp.de.debian.org/debian", "http://ftp.de.debian.org/debian"]
    assert uris[4:6] == ["http://deb.debian.org/debian", "http://deb.debian.org/debian-security"]
    assert uris[6:] == ["https://download.docker.com/linux/debian",
                        "http://apt.postgresql.org/pub/repos/apt",
                        "https://deb.nodesource.com/node_20.x",
                        "http://packages.cloud.google.com/apt"]


def test_debian_mirror_after_third_party_file(tmp_path: Path) -> None:
    # apt.postgresql.org.list sorts before debian.sources; its bookworm-pgdg suite
    # with component main must not be taken for Debian.
    root = apt_dir(tmp_path, apt__postgresql__org__list="third-party.list",
                   debian__sources="debian.sources")
    assert debian_mirror(root) == "http://deb.debian.org/debian"


def test_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODNET_MIRROR", "http://snapshot.example.org/archive/debian/")
    assert debian_mirror(tmp_path / "nonexistent") == "http://snapshot.example.org/archive/debian"


def test_empty_override_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODNET_MIRROR", "")
    root = apt_dir(tmp_path, debian__sources="debian.sources")
    assert debian_mirror(root) == "http://deb.debian.org/debian"


@pytest.mark.parametrize("parts", [{}, {"docker__sources": "only-third-party.sources"}])
def test_no_mirror_found(tmp_path: Path, parts: dict[str, str]) -> None:
    root = apt_dir(tmp_path, **parts)
    with pytest.raises(PodnetError) as info:
        debian_mirror(root)
    assert "no Debian mirror found" in str(info.value)
    assert "PODNET_MIRROR=" in str(info.value)
    assert str(root) in str(info.value)


def test_missing_apt_dir(tmp_path: Path) -> None:
    with pytest.raises(PodnetError, match="PODNET_MIRROR"):
        debian_mirror(tmp_path / "no-such-dir")
