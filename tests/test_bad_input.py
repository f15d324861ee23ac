"""Bad input, table-driven: every ``podnet`` subcommand, the pytest options and the
``PODNET_*`` variables. Each case runs as a subprocess in a sandbox of its own (state,
data, cache and results roots in a temporary directory, with recorded runs and sentinel
files) and must exit non-zero with exactly one line on stderr, no traceback, and the
sandbox exactly as it was: nothing deleted, nothing left behind.

No case needs the lab. Cases that would touch a lab if validation were missing are
first checked in this process (the command line must be refused before any command
runs), so a regression fails here instead of reaching a lab.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness import cli, verify
from harness.errors import UsageError

FIXTURE_RUN = Path(__file__).parent / "fixtures" / "runs" / "base" / "run.json"
EXAMPLES_RUN = Path(__file__).parent / "fixtures" / "guide_examples" / "run.json"
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    tool: str = "podnet"
    #: Would act on a lab if the input were accepted: refused in-process first.
    guarded: bool = False


def podnet(ident: str, *argv: str, guarded: bool = False, **env: str) -> Case:
    return Case(ident, argv, env, "podnet", guarded)


def pytest_run(ident: str, *argv: str, **env: str) -> Case:
    return Case(ident, argv, env, "pytest")


LONG = "x" * 25
CASES = [
    # lab names, state/data/cache roots and releases at the CLI
    podnet("name-dotdot-lab-down", "--name", "..", "lab", "down", guarded=True),
    podnet("name-slash", "--name", "/", "lab", "status", guarded=True),
    podnet("name-shell-word", "--name", "a;b", "lab", "destroy", guarded=True),
    podnet("name-option-like", "--name", "-rf", "lab", "status", guarded=True),
    podnet("name-too-long", "--name", LONG, "lab", "shell", guarded=True),
    podnet("env-lab-path", "lab", "status", guarded=True, PODNET_LAB="../x"),
    podnet("lock-wait-word", "--lock-wait", "soon", "lab", "status"),
    podnet("env-lock-wait-zero", "lab", "down", PODNET_LOCK_WAIT="0"),
    podnet("env-data-dir-root", "--name", "h1", "lab", "status", guarded=True,
           PODNET_DATA_DIR="/"),
    podnet("env-state-dir-relative", "--name", "h1", "lab", "status", guarded=True,
           PODNET_STATE_DIR="run/podnet"),
    podnet("env-cache-dir-top-level", "--name", "h1", "lab", "status", guarded=True,
           PODNET_CACHE_DIR="/var"),
    podnet("env-cache-dir-dotdot", "--name", "h1", "lab", "status", guarded=True,
           PODNET_CACHE_DIR="/var/cache/../../etc"),
    podnet("env-mirror", "--name", "h1", "lab", "status", guarded=True,
           PODNET_MIRROR="http://mirror example/debian"),
    podnet("lab-up-unknown-release", "--name", "h1", "lab", "up", "--release", "potato",
           guarded=True),
    podnet("env-release-case", "--name", "h1", "lab", "up", guarded=True,
           PODNET_RELEASE="Trixie"),
    podnet("lab-client-unknown-host", "--name", "h1", "lab", "client", "--host", "host9",
           "--", "true"),
    podnet("lab-exec-not-up", "--name", "h1-nope", "lab", "exec", "--", "true"),
    podnet("lab-unknown-action", "lab", "bogus"),
    podnet("lab-no-action", "lab"),
    podnet("no-command"),
    podnet("unknown-command", "nosuch"),
    podnet("unknown-option", "--frobnicate", "claims"),
    # verify: everything refused before a lab is built
    podnet("verify-empty-release-list", "--name", "h1", "verify", "--release", ",",
           guarded=True),
    podnet("verify-empty-release-item", "--name", "h1", "verify", "--release", "trixie,,sid",
           guarded=True),
    podnet("verify-release-twice", "--name", "h1", "verify", "--release", "trixie,trixie",
           guarded=True),
    podnet("verify-unknown-marker", "--name", "h1", "verify", "-m", "nosuch", guarded=True),
    podnet("verify-bad-marker-expression", "--name", "h1", "verify", "-m", "source_address and",
           guarded=True),
    podnet("verify-pytest-argument", "--name", "h1", "verify", "--", "--nosuch", guarded=True),
    podnet("verify-selects-nothing", "--name", "h1", "verify", "-m",
           "source_address and not source_address", guarded=True),
    podnet("verify-env-rounds", "--name", "h1", "verify", guarded=True, PODNET_ROUNDS="abc"),
    podnet("verify-env-target", "--name", "h1", "verify", guarded=True, PODNET_TARGET="Local"),
    podnet("verify-env-keep-lab", "--name", "h1", "verify", guarded=True,
           PODNET_KEEP_LAB="maybe"),
    podnet("verify-env-client-port", "--name", "h1", "verify", guarded=True,
           PODNET_CLIENT="ssh://h:abc"),
    podnet("verify-results-dir-is-file", "--name", "h1", "verify", "--results-dir",
           "{results}/base/run.json", guarded=True),
    # reports, comparisons, matrix, claims
    podnet("report-missing", "report", "{results}/nonexistent"),
    podnet("report-malformed", "report", "{results}/malformed"),
    podnet("report-example-lines", "report", "{results}/example-lines"),
    podnet("report-example-step-line", "report", "{results}/example-step-line"),
    podnet("compare-tolerance", "compare", "{results}/base", "{results}/base", "--tolerance",
           "abc"),
    podnet("compare-missing-run", "compare", "{results}/base"),
    podnet("agree-floor", "agree", "{results}/base", "{results}/base", "--floor", "2"),
    podnet("agree-within", "agree", "{results}/base", "{results}/base", "--within", "ten"),
    podnet("matrix-versions-not-object", "matrix", "{results}/base", "{results}/badversions"),
    podnet("matrix-results-dir-is-file", "matrix", "{results}/base", "--results-dir",
           "{results}/base/run.json"),
    podnet("claims-unknown-property", "claims", "--property", "nosuch"),
    podnet("claims-extra-argument", "claims", "extra"),
    podnet("claims-env-lab", "claims", PODNET_LAB=LONG),
    podnet("claims-unknown-guide", "claims", "--guide", "0000000"),
    podnet("coverage-guide-too-old", "coverage", "--guide", "2020-01-01"),
    podnet("examples-env-guide", "examples", PODNET_GUIDE="nosuch/README.md"),
    # the pytest options and variables, on a tiny test directory
    pytest_run("pytest-env-rounds", PODNET_ROUNDS="abc"),
    pytest_run("pytest-env-target", PODNET_TARGET="Local"),
    pytest_run("pytest-env-keep-lab", PODNET_KEEP_LAB="maybe"),
    pytest_run("pytest-target", "--target", "Local"),
    pytest_run("pytest-target-scheme", "--target", "lab://host1"),
    pytest_run("pytest-target-root", "--target", "ssh://root@192.0.2.1:2222"),
    pytest_run("pytest-unknown-marker", "-m", "nosuch"),
    pytest_run("pytest-rounds-zero", "--rounds", "0"),
    pytest_run("pytest-client-port", "--client", "ssh://h:abc"),
    pytest_run("pytest-env-client-option", PODNET_CLIENT="ssh://-oProxyCommand=id"),
    pytest_run("pytest-env-run-id", PODNET_RUN_ID="../../outside"),
    pytest_run("pytest-run-id-malformed-run", "--run-id", "malformed"),
    pytest_run("pytest-env-data-dir", PODNET_DATA_DIR="/"),
    pytest_run("pytest-results-dir-is-file", "--results-dir", "{results}/base/run.json"),
]


def _sandbox(root: Path) -> dict[str, str]:
    """Roots, recorded runs and sentinels; the variables that point podnet at them."""
    for name in ("state", "data/other-lab", "cache/trixie-x", "tiny"):
        (root / name).mkdir(parents=True)
    (root / "sentinel").mkdir()
    (root / "sentinel" / "keep").write_text("next to the data root\n")
    (root / "data" / "other-lab" / "keep").write_text("another lab's data\n")
    (root / "cache" / "trixie-x" / "complete").write_text("")
    (root / "tiny" / "test_tiny.py").write_text("def test_ok():\n    pass\n")
    results = root / "results"
    for name in ("base", "badversions", "malformed"):
        (results / name).mkdir(parents=True)
    shutil.copy(FIXTURE_RUN, results / "base" / "run.json")
    run = json.loads(FIXTURE_RUN.read_text())
    run["environment"]["versions"] = "5.4.2"
    (results / "badversions" / "run.json").write_text(json.dumps(run))
    (results / "malformed" / "run.json").write_text('{"schema": "podnet.run", ')
    for name, malformed in (("example-lines", {"lines": "x"}),
                            ("example-step-line", {"actions": [{"exit_status": 1,
                                                                "line": "x"}]})):
        run = json.loads(EXAMPLES_RUN.read_text())
        failed = next(r for r in run["results"] if r["observed"] == "failed")
        failed["evidence"].update(malformed)
        (results / name).mkdir()
        (results / name / "run.json").write_text(json.dumps(run))
    return {"PODNET_STATE_DIR": str(root / "state"), "PODNET_DATA_DIR": str(root / "data"),
            "PODNET_CACHE_DIR": str(root / "cache"), "PODNET_RESULTS": str(results)}


def _snapshot(root: Path) -> dict[str, str]:
    found = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        found[rel] = (hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file()
                      else "dir" if path.is_dir() else "other")
    return found


@dataclass(frozen=True)
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    before: dict[str, str]
    after: dict[str, str]


def _argv(case: Case, roots: dict[str, str]) -> list[str]:
    args = [a.replace("{results}", roots["PODNET_RESULTS"]) for a in case.argv]
    if case.tool == "podnet":
        return [str(BIN / "podnet"), *args]
    return [sys.executable, "-m", "pytest", "-p", "podnet", "-p",
            "no:cacheprovider", "-q", *args, "tiny"]


def _run(case: Case, root: Path) -> Outcome:
    roots = _sandbox(root)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODNET_")}
    env.update(roots, PYTHONDONTWRITEBYTECODE="1", COLUMNS="200", **case.env)
    before = _snapshot(root)
    # A bound against a hang, not a timing goal: a command collects the suites first,
    # which on 2 busy cores took more than a minute.
    done = subprocess.run(_argv(case, roots), cwd=root, env=env, capture_output=True,
                          text=True, timeout=300)
    return Outcome(done.returncode, done.stdout, done.stderr, before, _snapshot(root))


def _clear_podnet_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("PODNET_")]:
        monkeypatch.delenv(key)


def _refused_in_process(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line of a guarded case is refused before any command runs."""
    _clear_podnet_variables(monkeypatch)
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    argv = [a.replace("{results}", str(FIXTURE_RUN.parent.parent)) for a in case.argv]
    with pytest.raises(UsageError):
        args = cli.build_parser().parse_args(argv)
        cli._validate(args)
        if args.command == "verify":
            verify.preflight(args.marker, args.pytest_args)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Outcome]]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        for case in CASES:
            if case.guarded:
                _refused_in_process(case, monkeypatch)
    base = tmp_path_factory.mktemp("bad-input")
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {case.id: pool.submit(_run, case, base / case.id) for case in CASES}
        yield {ident: future.result() for ident, future in futures.items()}


def test_the_table_covers_every_subcommand_and_at_least_30_cases() -> None:
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)
    podnet_words = {w for c in CASES if c.tool == "podnet" for w in c.argv}
    for command in ("lab", "verify", "report", "compare", "agree", "matrix", "claims"):
        assert command in podnet_words
    for action in ("up", "down", "destroy", "status", "exec", "client", "shell"):
        assert action in podnet_words
    assert any(c.tool == "pytest" for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, outcomes: dict[str, Outcome]) -> None:
    out = outcomes[case.id]
    lines = out.stderr.splitlines()
    assert out.returncode == (2 if case.tool == "podnet" else 4), out.stderr
    assert len(lines) == 1 and lines[0].strip(), f"stderr is not one line: {out.stderr!r}"
    assert "Traceback" not in out.stdout + out.stderr
    assert lines[0].startswith("podnet: " if case.tool == "podnet" else "Exit: podnet: ")
    assert out.after == out.before, "the sandbox changed"


#: More of the pytest plugin's options, checked in this process (the same code the
#: subprocess cases above run in pytest_configure, without a second pytest start each).
OPTION_CASES = [
    ("quick-env", {}, {"PODNET_QUICK": "2"}),
    ("duration", {"duration": "soon"}, {}),
    ("duration-zero-env", {}, {"PODNET_DURATION": "0"}),
    ("lock-wait", {"lock_wait": "-1"}, {}),
    ("budget-env", {}, {"PODNET_BUDGET": "-5"}),
    ("mismatch", {"mismatch": "XFAIL"}, {}),
    ("mismatch-env", {}, {"PODNET_MISMATCH": "never"}),
    ("client-scheme", {"client": "http://host2"}, {}),
    ("client-user-option", {"client": "ssh://-oX@host2"}, {}),
    ("client-port-range", {"client": "ssh://host2:70000"}, {}),
    ("client-address", {"client_address": "300.1.1.1"}, {}),
    ("target-address-env", {}, {"PODNET_TARGET_ADDRESS": "host1"}),
    ("target-no-user", {"target": "ssh://192.0.2.1"}, {}),
    ("target-port", {"target": "ssh://alice@192.0.2.1:99999"}, {}),
    ("target-unknown-scheme", {"target": "docker://alice@host1"}, {}),
    ("target-ssh-without-slashes", {}, {"PODNET_TARGET": "ssh:alice@host1"}),
    ("ssh-option-for-the-lab", {"target": "lab", "ssh_from": "host2"}, {}),
    ("lab-name", {"lab_name": ".."}, {}),
    ("release", {"release": "sidd"}, {}),
    ("local-user", {"local_user": "no-such-user-here"}, {}),
    ("local-user-option-like", {"local_user": "-x"}, {}),
    ("libsdsock", {"libsdsock": "/nonexistent/libsdsock.so"}, {}),
    ("marker-syntax", {"markexpr": "pasta and"}, {}),
    ("mirror-env", {}, {"PODNET_MIRROR": "ftp://mirror/debian"}),
    ("state-dir-env", {}, {"PODNET_STATE_DIR": "/run"}),
    ("guide", {"guide": "deadbeef"}, {}),
    ("guide-env", {}, {"PODNET_GUIDE": "yesterday"}),
]


@pytest.mark.parametrize(("given", "env"), [c[1:] for c in OPTION_CASES],
                         ids=[c[0] for c in OPTION_CASES])
def test_bad_pytest_option(given: dict[str, str], env: dict[str, str],
                           monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from harness.options import PYTEST, resolve_pytest
    from harness.pytest_plugin import MARKERS

    _clear_podnet_variables(monkeypatch)
    monkeypatch.setenv("PODNET_RESULTS", str(tmp_path))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    option = SimpleNamespace(markexpr="", **dict.fromkeys(PYTEST))
    for dest, value in given.items():
        setattr(option, dest, value)
    with pytest.raises(UsageError) as info:
        resolve_pytest(option, MARKERS)
    assert len(str(info.value).splitlines()) == 1


def test_pytest_flags_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """PODNET_KEEP_LAB=0 means false (it used to count as true), and 1 means true."""
    from harness.options import PYTEST

    for text, expected in (("0", False), ("", False), ("no", False), ("1", True),
                           ("true", True)):
        monkeypatch.setenv("PODNET_KEEP_LAB", text)
        assert PYTEST["keep_lab"].resolve(None) is expected
    assert PYTEST["keep_lab"].resolve(True) is True
