"""The Debian releases a lab can be built from."""

from __future__ import annotations

import pytest

from harness.errors import UsageError
from harness.lab.releases import DEFAULT_RELEASE, RELEASES, get_release


@pytest.mark.parametrize("name", sorted(RELEASES))
def test_known(name: str) -> None:
    assert get_release(name).name == name


def test_default_is_known() -> None:
    assert get_release(DEFAULT_RELEASE).suite == "trixie"


def test_experimental_builds_on_sid() -> None:
    release = get_release("experimental")
    assert (release.suite, release.extra_suites) == ("sid", ("experimental",))
    assert "podman" in release.preferred_from_extra
    assert release.check_valid_until is False


@pytest.mark.parametrize("name", ["jammy", "Trixie", "", "trixie "])
def test_unknown_names_the_known_ones(name: str) -> None:
    with pytest.raises(UsageError) as info:
        get_release(name)
    message = str(info.value)
    assert f"unknown release '{name}'" in message
    for known in ("bookworm", "trixie", "sid", "experimental"):
        assert known in message
