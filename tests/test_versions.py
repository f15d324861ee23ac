"""Version parsing and the version conditions of claims, on strings podman reports."""

from __future__ import annotations

import pytest

from harness.errors import UsageError
from harness.versions import Condition, Version, parse_any, parse_passt


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("podman version 5.4.2", (5, 4, 2)),
        ("slirp4netns version 1.2.1\ncommit: 09e31e92fa3d2a1d3ca261adaeb012c8d75a8194\n"
         "libslirp: 4.8.0\nSLIRP_CONFIG_VERSION_MAX: 5", (1, 2, 1)),
        ("6.0.0-rc1", (6, 0, 0)),
        ("conmon version 2.1.12, commit: unknown", (2, 1, 12)),
        ("netavark 1.14.0", (1, 14, 0)),
        ("crun version 1.21\ncommit: 10269840aa07fb7e6b7e1acff6198692d8ff5c88", (1, 21, 0)),
        ("5.3", (5, 3, 0)),
        ("7", (7, 0, 0)),
    ],
    ids=["podman", "slirp4netns", "rc", "conmon", "netavark", "crun", "two-parts", "bare"],
)
def test_parse_dotted(text: str, parts: tuple[int, ...]) -> None:
    assert Version.parse(text).parts == parts


def test_parse_keeps_the_matched_text() -> None:
    assert Version.parse("podman version 5.4.2").text == "5.4.2"
    assert str(Version.parse("netavark 1.14")) == "1.14.0"


@pytest.mark.parametrize("text", ["", "podman version unknown", "commit: abcdef"])
def test_parse_without_number(text: str) -> None:
    with pytest.raises(ValueError, match="no version number"):
        Version.parse(text)


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("0.0~git20250503.587980c-2+deb13u1", (2025, 5, 3)),
        ("passt_0.0~git20250503.587980c-2+deb13u1_amd64", (2025, 5, 3)),
        ("2025_05_03.587980c", (2025, 5, 3)),
        ("0^20240821.g1d6142f", (2024, 8, 21)),
        ("pasta 0^20240821.g1d6142f-1.fc41.x86_64\nCopyright Red Hat", (2024, 8, 21)),
        ("2024-08-21", (2024, 8, 21)),
    ],
    ids=["debian", "debian-package", "upstream", "fedora", "fedora-pasta-output", "iso-date"],
)
def test_parse_passt(text: str, parts: tuple[int, ...]) -> None:
    version = parse_passt(text)
    assert version.parts == parts
    assert version.text == "{:04d}-{:02d}-{:02d}".format(*parts)


def test_parse_passt_without_date() -> None:
    with pytest.raises(ValueError, match="no passt date"):
        parse_passt("pasta unknown version")


def test_parse_any_dispatches_on_component() -> None:
    assert parse_any("passt", "2025_05_03.587980c").parts == (2025, 5, 3)
    assert parse_any("pasta", "0^20240821.g1d6142f").parts == (2024, 8, 21)
    assert parse_any("podman", "podman version 4.3.1").parts == (4, 3, 1)


def test_ordering() -> None:
    ordered = [Version.parse(t) for t in ("4.3.1", "4.4", "4.9.4", "5.0.0", "5.3.1", "5.4.2",
                                          "5.10.0")]
    assert sorted(reversed(ordered)) == ordered
    assert Version.parse("5.4") == Version.parse("podman version 5.4.0")
    assert Version.parse("5.4.2") != Version.parse("5.4.3")
    assert len({Version.parse("5.4"), Version.parse("5.4.0")}) == 1
    # Numeric, not textual: 1.14 is newer than 1.4.
    assert Version.parse("netavark 1.14.0") > Version.parse("netavark 1.4.0")


def test_passt_dates_order() -> None:
    debian = parse_passt("0.0~git20250503.587980c-2+deb13u1")
    upstream = parse_passt("2025_05_03.587980c")
    fedora = parse_passt("0^20240821.g1d6142f")
    assert debian == upstream
    assert fedora < debian
    assert parse_passt("2024_08_21") <= fedora <= parse_passt("2024-08-21")


def test_comparison_with_other_types() -> None:
    assert Version.parse("5.4.2") != "5.4.2"
    with pytest.raises(TypeError):
        _ = Version.parse("5.4.2") < "5.4.3"  # type: ignore[operator]


@pytest.mark.parametrize(
    ("text", "component", "op", "parts"),
    [
        ("podman >= 5.3", "podman", ">=", (5, 3, 0)),
        ("  podman<4.4  ", "podman", "<", (4, 4, 0)),
        ("passt >= 2024-08-21", "passt", ">=", (2024, 8, 21)),
        ("pasta == 2025_05_03", "pasta", "==", (2025, 5, 3)),
        ("slirp4netns != 1.2.0", "slirp4netns", "!=", (1, 2, 0)),
        ("oci-runtime <= 1.21", "oci-runtime", "<=", (1, 21, 0)),
    ],
)
def test_condition_parse(text: str, component: str, op: str, parts: tuple[int, ...]) -> None:
    cond = Condition.parse(text)
    assert (cond.component, cond.op, cond.version.parts) == (component, op, parts)


def test_condition_str_shows_the_written_version() -> None:
    assert str(Condition.parse("podman >= 5.3")) == "podman >= 5.3"
    assert str(Condition.parse("passt >= 2024_08_21")) == "passt >= 2024-08-21"


@pytest.mark.parametrize(
    "text",
    ["podman", "podman 5.3", ">= 5.3", "podman => 5.3", "podman ~= 5.3", "podman >= 5.3 and x",
     "podman >= banana", "passt >= 5.3", ""],
)
def test_condition_invalid(text: str) -> None:
    with pytest.raises(UsageError, match="invalid version condition"):
        Condition.parse(text)


VERSIONS: dict[str, Version | None] = {
    "podman": Version.parse("5.4.2"),
    "passt": parse_passt("0.0~git20250503.587980c-2+deb13u1"),
    "slirp4netns": None,
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("podman >= 5.3", True),
        ("podman >= 5.4.2", True),
        ("podman > 5.4.2", False),
        ("podman < 5.0", False),
        ("podman <= 5.4.2", True),
        ("podman == 5.4.2", True),
        ("podman != 5.4.2", False),
        ("passt >= 2024-08-21", True),
        ("passt < 2025-05-03", False),
        ("slirp4netns >= 1.0", None),
        ("netavark >= 1.0", None),
    ],
)
def test_condition_holds(text: str, expected: bool | None) -> None:
    assert Condition.parse(text).holds(VERSIONS) is expected
