"""``podnet upstream-tests`` on recorded fixtures: bats' TAP output of a real run in the
lab (trixie, podman 5.4.2's tests: tests/fixtures/upstream/), the checkout's checks and
their one-line errors, the run record's ``upstream`` and its upgrade, the report's and
the matrix's sections."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from harness import cli
from harness.errors import PodnetError, UsageError
from harness.markup import to_html, to_markdown
from harness.matrix_upstream import blocks as matrix_blocks
from harness.matrix_upstream import rows
from harness.reports import upstream as report
from harness.results import store
from harness.results.schema import SCHEMA_VERSION, Run
from harness.results.upstream import UpstreamFile, UpstreamSuite, UpstreamTest
from harness.upstream import runner, tap
from harness.upstream.checkout import DEFAULT_FILES, image_name, open_checkout, version_of

FIXTURES = Path(__file__).parent / "fixtures" / "upstream"
ROOT = Path(__file__).resolve().parent.parent
#: podman's own test/system at three tags, beside the project (tests and CI only;
#: PODNET_PODMAN_TESTS names another place).
SHARED = Path(os.environ.get("PODNET_PODMAN_TESTS",
                             ROOT.parent / "shared" / "podman-system-tests"))

HELPERS = """PODMAN=${PODMAN:-podman}
PODMAN_TEST_IMAGE_REGISTRY=${PODMAN_TEST_IMAGE_REGISTRY:-"quay.io"}
PODMAN_TEST_IMAGE_USER=${PODMAN_TEST_IMAGE_USER:-"libpod"}
PODMAN_TEST_IMAGE_NAME=${PODMAN_TEST_IMAGE_NAME:-"testimage"}
PODMAN_TEST_IMAGE_TAG=${PODMAN_TEST_IMAGE_TAG:-"20241011"}
"""


def _parsed(file: str) -> tap.Tap:
    return tap.parse(file, (FIXTURES / f"{file}.tap").read_text())


def _outcomes(tests: list[UpstreamTest]) -> dict[str, int]:
    return UpstreamSuite("", "", "", "", tests=tests).counts()


# --- TAP --------------------------------------------------------------------------------

def test_a_recorded_run_of_505_gives_one_result_per_planned_test() -> None:
    found = _parsed("505-networking-pasta.bats")
    assert found.planned == 86 == len(found.tests)
    assert [t.number for t in found.tests] == list(range(1, 87))
    counts = _outcomes(found.tests)
    assert counts["needs_internet"] == 2 and counts["skipped"] == 1
    assert sum(counts.values()) == 86


def test_a_recorded_run_of_500_names_its_internet_test_and_keeps_a_real_failure() -> None:
    found = _parsed("500-networking.bats")
    assert found.planned == 25 == len(found.tests)
    assert _outcomes(found.tests) == {"passed": 22, "failed": 1, "needs_internet": 1,
                                      "skipped": 1}
    internet = next(t for t in found.tests if t.outcome == "needs_internet")
    assert internet.name == "[500] podman network create"
    assert "nslookup google.com" in internet.output
    failed = next(t for t in found.tests if t.outcome == "failed")
    assert "ncat got data back" in failed.output


def test_the_tests_that_need_the_internet_are_known_by_name_and_keep_their_output() -> None:
    internet = [t for t in _parsed("505-networking-pasta.bats").tests
                if t.outcome == "needs_internet"]
    assert [tap.bare_name(t.name) for t in internet] == [
        "Basic nameserver lookup", "Custom DNS forward address, IPv4"]
    assert all("root-servers" in t.reason and "nslookup" in t.output for t in internet)


def test_a_skip_keeps_upstreams_reason() -> None:
    skipped = [t for t in _parsed("505-networking-pasta.bats").tests if t.outcome == "skipped"]
    assert [(t.name, t.reason) for t in skipped] == [
        ("[505] Custom DNS forward address, IPv6", "Currently unsupported")]


def test_a_failure_keeps_its_own_output_and_none_of_the_next_tests() -> None:
    failed = [t for t in _parsed("505-networking-pasta.bats").tests if t.outcome == "failed"]
    for test in failed:
        assert "FAIL" in test.output
        assert "ok " not in test.output.splitlines()[0]
    passed = [t for t in _parsed("505-networking-pasta.bats").tests if t.outcome == "passed"]
    assert all(t.output == "" for t in passed)


def test_timings_names_and_notes_between_tests() -> None:
    text = ("1..3\nok 1 [505] first in 812ms\n# setup(): removing stray image x\n"
            "not ok 2 [505] second in 1500ms\n# (in test file f.bats, line 3)\n#   `x' failed\n"
            "#\n# FAIL: no\nok 3 [505] third in 0ms # skip not here\n")
    found = tap.parse("f.bats", text)
    assert [(t.name, t.outcome, t.seconds) for t in found.tests] == [
        ("[505] first", "passed", 0.812), ("[505] second", "failed", 1.5),
        ("[505] third", "skipped", 0.0)]
    assert found.tests[0].output == ""
    assert found.tests[1].output == "(in test file f.bats, line 3)\n  `x' failed\n\nFAIL: no"
    assert found.tests[2].reason == "not here"


def test_a_test_of_the_internet_table_that_passes_is_passed() -> None:
    found = tap.parse("505-networking-pasta.bats", "1..1\nok 1 [505] Basic nameserver lookup\n")
    assert found.tests[0].outcome == "passed"


def test_a_known_name_in_another_file_is_no_internet_test() -> None:
    found = tap.parse("500-networking.bats", "1..1\nnot ok 1 [500] Basic nameserver lookup\n")
    assert found.tests[0].outcome == "failed"


# --- the checkout ------------------------------------------------------------------------

def _checkout(root: Path, helpers: str = HELPERS) -> Path:
    system = root / "test" / "system"
    system.mkdir(parents=True)
    (system / "helpers.bash").write_text(helpers)
    for name in DEFAULT_FILES:
        (system / name).write_text("")
    return root


def test_a_checkout_names_its_image_files_and_version(tmp_path: Path) -> None:
    root = _checkout(tmp_path / "podman-v5.4.2")
    checkout = open_checkout(str(root))
    assert checkout.image == "quay.io/libpod/testimage:20241011"
    assert checkout.image_tag == "20241011" and checkout.version == "v5.4.2"
    assert checkout.files([]) == list(DEFAULT_FILES)
    assert open_checkout(str(root / "test" / "system")).system == checkout.system


def test_a_source_trees_version_file_names_its_version(tmp_path: Path) -> None:
    root = _checkout(tmp_path / "podman")
    assert version_of(root) == ""
    (root / "version" / "rawversion").mkdir(parents=True)
    (root / "version" / "rawversion" / "version.go").write_text(
        'package rawversion\n\nconst RawVersion = "5.8.3-dev"\n')
    assert version_of(root) == "v5.8.3-dev"


@pytest.mark.parametrize(("make", "given", "message"), [
    (False, "missing", "no such directory"),
    (False, "plain", "not a podman checkout (no test/system/helpers.bash)"),
    (True, "podman", "does not name the test image"),
])
def test_a_bad_checkout_is_one_line(tmp_path: Path, make: bool, given: str,
                                    message: str) -> None:
    path = tmp_path / given
    if given == "plain":
        path.mkdir()
    if make:
        _checkout(path, helpers="PODMAN=podman\n")
    with pytest.raises(UsageError, match=re.escape(message)) as caught:
        open_checkout(str(path))
    assert "\n" not in str(caught.value) and "--podman-src" in str(caught.value)


@pytest.mark.parametrize(("name", "message"), [
    ("nothere.bats", "no nothere.bats in"), ("../x.bats", "invalid test file"),
    ("README.md", "invalid test file")])
def test_a_file_that_is_no_bats_file_of_the_checkout_is_refused(tmp_path: Path, name: str,
                                                                 message: str) -> None:
    checkout = open_checkout(str(_checkout(tmp_path / "podman-v5.4.2")))
    with pytest.raises(UsageError, match=message):
        checkout.files([name])


def test_the_command_line_says_what_is_missing_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PODNET_PODMAN_SRC", raising=False)
    assert cli.main(["upstream-tests"]) == 2
    said = capsys.readouterr().err.strip()
    assert said.startswith("podnet: podnet upstream-tests needs podman's tests: give "
                           "--podman-src DIR") and "\n" not in said
    monkeypatch.setenv("PODNET_PODMAN_SRC", str(tmp_path))
    assert cli.main(["upstream-tests"]) == 2
    said = capsys.readouterr().err.strip()
    assert said.startswith(f"podnet: PODNET_PODMAN_SRC {tmp_path}: not a podman checkout")


def test_helpers_without_quotes_still_name_the_image() -> None:
    text = HELPERS.replace('"quay.io"', "quay.io")
    assert image_name(text) == "quay.io/libpod/testimage:20241011"


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"podman's tests are not beside the project "
                                                 f"({SHARED})")
@pytest.mark.parametrize("tag", ["v5.4.2", "v5.8.3", "v6.0.0-rc1"])
def test_podmans_own_checkouts_open(tmp_path: Path, tag: str) -> None:
    import tarfile

    with tarfile.open(SHARED / f"podman-{tag}-test-system.tar.gz") as tar:
        tar.extractall(tmp_path, filter="data")
    checkout = open_checkout(str(tmp_path / f"podman-{tag}"))
    assert checkout.version == tag
    assert checkout.image.startswith("quay.io/libpod/testimage:")
    assert checkout.files([]) == list(DEFAULT_FILES)


# --- the run record ----------------------------------------------------------------------

def _suite(tests: list[UpstreamTest], version: str = "v5.4.2",
           podman: str = "5.4.2") -> UpstreamSuite:
    return UpstreamSuite(source="/src/podman-v5.4.2", source_version=version,
                         podman_version=podman, image="quay.io/libpod/testimage:20241011",
                         bats_version="Bats 1.11.1", seconds=200.0,
                         files=[UpstreamFile("505-networking-pasta.bats", 190.0, 1, 86)],
                         tests=tests)


def _run(suite: UpstreamSuite | None, release: str = "trixie") -> Run:
    return Run("20261207T120000Z-abcdef", 0.0, environment={"release": release,
                                                            "versions": {"podman": "5.4.2"}},
               upstream=suite)


def test_the_suite_round_trips_through_run_json(tmp_path: Path) -> None:
    run = _run(_suite(_parsed("505-networking-pasta.bats").tests))
    store.save(run, tmp_path)
    again = store.load(tmp_path)
    assert again.upstream == run.upstream
    assert json.loads((tmp_path / store.RUN_FILE).read_text())["schema_version"] == \
        SCHEMA_VERSION == 3


def test_a_version_2_record_is_upgraded_with_no_upstream(tmp_path: Path) -> None:
    (tmp_path / store.RUN_FILE).write_text(json.dumps(
        {"schema": "podnet.run", "schema_version": 2, "run_id": "r", "started": 0}))
    assert store.load(tmp_path).upstream is None


@pytest.mark.parametrize(("upstream", "message"), [
    ([], "upstream should be dict or null, not list"),
    ({"source": "s"}, "upstream: .*missing"),
    ({"source": "s", "source_version": "", "podman_version": "5", "image": "i",
      "tests": [{"file": "f", "name": "n", "outcome": "maybe"}]}, "unknown outcome 'maybe'"),
])
def test_a_malformed_upstream_is_one_line(tmp_path: Path, upstream: object,
                                          message: str) -> None:
    (tmp_path / store.RUN_FILE).write_text(json.dumps(
        {"schema": "podnet.run", "schema_version": 3, "run_id": "r", "started": 0,
         "upstream": upstream}))
    with pytest.raises(PodnetError, match=message):
        store.load(tmp_path)


# --- the report and the matrix -----------------------------------------------------------

def test_the_report_section_counts_and_shows_each_failure() -> None:
    tests = _parsed("505-networking-pasta.bats").tests
    text = "\n".join(md_of(_run(_suite(tests))))
    assert text.startswith("## podman's own tests")
    counts = _outcomes(tests)
    assert (f"{counts['passed']} passed, {counts['failed']} failed, 2 needs the internet, "
            "1 skipped of 86") in text
    assert "Custom DNS forward address, IPv6: skipped: Currently unsupported" in text
    assert text.count("\n- 505-networking-pasta.bats #") == counts["failed"] + 3
    assert "**Note:**" not in text
    html = html_of(_run(_suite(tests)))
    assert 'id="podmans-own-tests"' in html and "needs the internet" in html


def test_the_report_states_a_version_mismatch() -> None:
    text = "\n".join(md_of(_run(_suite([], podman="5.8.6"))))
    assert "**Note:** the tests are podman v5.4.2's, the target's podman is 5.8.6." in text


def test_a_run_without_podmans_tests_has_no_section() -> None:
    assert md_of(_run(None)) == [] and html_of(_run(None)) == ""
    assert matrix_blocks([_run(None)]) == []


def test_the_matrix_shows_which_tests_differ_between_releases() -> None:
    trixie = _parsed("505-networking-pasta.bats").tests
    sid = [UpstreamTest(t.file, t.name, "passed", t.number) for t in trixie[:-1]]
    runs = [_run(_suite(trixie)), _run(_suite(sid, "v5.8.3", "5.8.6"), "sid")]
    found = rows(runs)
    assert len(found) == 86
    differing = {r.name for r in found if r.differs}
    assert "Basic nameserver lookup" in differing and trixie[-1].name[6:] in differing
    text = "\n".join(to_markdown(matrix_blocks(runs)))
    assert "sid (tests v5.8.3, podman 5.8.6)" in text and "not run" in text
    assert "the tests are podman v5.8.3's, the target's podman is 5.8.6" in text


# --- the private storage -----------------------------------------------------------------

def test_the_private_storage_is_under_the_runs_directory() -> None:
    work = "/var/tmp/podnet-up.abc"
    assert 'graphroot = "/var/tmp/podnet-up.abc/root"' in runner.storage_conf(work)
    assert 'runroot = "/var/tmp/podnet-up.abc/run"' in runner.storage_conf(work)
    assert 'tmp_dir = "/var/tmp/podnet-up.abc/tmp"' in runner.containers_conf(work)
    assert runner.private(work, ["podman", "ps"]) == [
        "env", "XDG_CONFIG_HOME=/var/tmp/podnet-up.abc/config", "podman", "ps"]


def test_slirp4netns_api_sockets_in_the_private_tmp_dir_fit_a_socket_address() -> None:
    work = f"{runner.WORK_PARENT}/{runner.STEM}{'0' * 12}"  # as fresh_dir names it
    socket = f"{work}/tmp/{'f' * 64}.net"
    assert len(socket.encode()) < 108


@pytest.mark.parametrize("path", ["/var/tmp", "/var/tmp/podnet-up.x/../../etc", "/var/tmp/podnet-up./",
                                  "/home/test/podnet-up.x", "/var/tmp/other"])
def test_only_a_runs_own_directory_is_ever_removed(path: str) -> None:
    class NoHost:
        def run(self, *args: object, **kwargs: object) -> None:
            raise AssertionError("nothing may run")

    with pytest.raises(PodnetError, match="refusing to remove"):
        runner.remove_work(NoHost(), path)  # type: ignore[arg-type]


def md_of(*args: object) -> list[str]:
    return to_markdown(report.blocks(*args))  # type: ignore[arg-type]


def html_of(*args: object) -> str:
    return to_html(report.blocks(*args))  # type: ignore[arg-type]
