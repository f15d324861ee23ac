"""Targets from a URL: one kind per scheme, each URL checked before anything starts."""

from __future__ import annotations

import pytest

from harness.errors import UsageError
from harness.targets import factory


@pytest.mark.parametrize(("url", "scheme"), [
    ("lab", "lab"), ("local", "local"), ("ssh://alice@192.0.2.1", "ssh"),
    ("ssh://alice@[2001:db8::1]:2222", "ssh"),
])
def test_a_url_names_its_kind(url: str, scheme: str) -> None:
    assert factory.kind(url).scheme == scheme
    assert factory.check(url) == url


@pytest.mark.parametrize(("url", "says"), [
    ("Lab", "choose lab, local or ssh://"),
    ("lab://host1", "choose lab, local or ssh://"),
    ("local://alice", "choose lab, local or ssh://"),
    ("ssh", "choose lab, local or ssh://"),
    ("ssh:alice@host1", "choose lab, local or ssh://"),
    ("docker://alice@host1", "choose lab, local or ssh://"),
    ("", "choose lab, local or ssh://"),
    ("ssh://host1", "name the rootless user"),
    ("ssh://root@host1", "not root"),
    ("ssh://alice@host1:0", "port must be"),
    ("ssh://alice@-oProxyCommand=id", "may hold only"),
])
def test_a_bad_url_is_one_line_saying_what_is_wrong(url: str, says: str) -> None:
    with pytest.raises(UsageError, match=says) as info:
        factory.check(url)
    assert len(str(info.value).splitlines()) == 1 and repr(url) in str(info.value)


def test_the_lab_clients_are_the_lab_target_s_and_ssh_from_the_lab() -> None:
    plain = factory.Settings(run_id="r")
    via = factory.Settings(run_id="r", ssh_from="host2")
    assert factory.lab_clients("lab", plain)
    assert not factory.lab_clients("local", plain)
    assert not factory.lab_clients("ssh://alice@192.0.2.1", plain)
    assert factory.lab_clients("ssh://alice@192.0.2.1", via)


def test_only_the_ssh_kind_reads_the_ssh_settings() -> None:
    assert set(factory.KINDS["ssh"].own) == {"ssh_identity", "ssh_known_hosts", "ssh_from"}
    assert factory.KINDS["lab"].own == factory.KINDS["local"].own == ()


@pytest.mark.parametrize(("given", "env", "lab"), [
    (None, None, True), ("lab", "local", True), (None, "local", False),
    ("ssh://alice@192.0.2.1", None, False), (None, "Local", False)])
def test_xdist_asks_the_factory_whether_the_target_is_the_lab(
        monkeypatch: pytest.MonkeyPatch, given: str | None, env: str | None, lab: bool) -> None:
    """Before the options are resolved: --target, else PODNET_TARGET, else the lab; a bad
    URL is not the lab (pytest_configure refuses it with its own line)."""
    from types import SimpleNamespace

    from harness.pytest_plugin import _on_the_lab

    if env is None:
        monkeypatch.delenv("PODNET_TARGET", raising=False)
    else:
        monkeypatch.setenv("PODNET_TARGET", env)
    assert _on_the_lab(SimpleNamespace(option=SimpleNamespace(target=given))) is lab  # type: ignore[arg-type]
