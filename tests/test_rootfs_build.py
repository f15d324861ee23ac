"""harness.lab.rootfs.ensure_built with a stand-in for mmdebstrap: the build runs in a
private mount namespace, inside a temporary directory renamed into place only when
complete; a build that fails, hangs or is killed leaves no mount, no process and no
cache entry, and the next build removes what it left."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.errors import PodnetError
from harness.lab import rootfs
from harness.lab.releases import get_release

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root: mount namespaces and mounts")
MIRROR = "http://mirror.invalid/debian"
RELEASE = get_release("bookworm")
#: Stands in for mmdebstrap: mounts a tmpfs in the root file system it builds (as
#: mmdebstrap mounts /proc, /sys and /dev there), then behaves as $FAKE_MODE says.
#: Its processes are found by their command line, which names its directory.
FAKE = """#!/bin/sh
for arg; do case $arg in */rootfs|*/image.tar) target=$arg;; esac; done
case $target in
*/rootfs) mkdir -p "$target/proc" && mount -t tmpfs fake "$target/proc" ;;
*) echo tar > "$target" ;;
esac
case $FAKE_MODE in
ok) exit 0 ;;
fail) echo "E: Unable to locate package nosuch"; exit 3 ;;
hang) exec "$(dirname "$0")/fake-sleep" 300 ;;
esac
"""


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "mmdebstrap").write_text(FAKE)
    (bin_dir / "mmdebstrap").chmod(0o755)
    shutil.copy("/bin/sleep", bin_dir / "fake-sleep")
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("PODNET_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setattr(rootfs, "customize_host", lambda root: None)
    return tmp_path / "cache"


def _mounts_under(path: Path) -> list[str]:
    return [line for line in Path("/proc/self/mountinfo").read_text().splitlines()
            if str(path) in line]


def _alive(tmp_path: Path, program: str = "") -> list[int]:
    """Living processes of the stand-in (their command line names its directory), or
    only those running ``program`` of it."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if (entry.name.isdigit() and str(tmp_path / "bin" / program) in
                    (entry / "cmdline").read_bytes().decode(errors="replace")
                    and (entry / "stat").read_text().rpartition(")")[2].split()[0] != "Z"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _entries(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir() if p.name not in ("debs", "logs"))


def test_a_complete_build_is_renamed_into_place(cache: Path, monkeypatch: pytest.MonkeyPatch,
                                                ) -> None:
    monkeypatch.setenv("FAKE_MODE", "ok")
    built = rootfs.ensure_built(cache, RELEASE, MIRROR)
    assert built.complete and built.image_tar.read_text() == "tar\n"
    assert _entries(cache) == [built.directory.name]
    assert _mounts_under(cache) == [], "the build's mounts stayed in its own namespace"
    assert rootfs.ensure_built(cache, RELEASE, MIRROR) == built  # cached


def test_a_failed_build_leaves_nothing(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_MODE", "fail")
    with pytest.raises(PodnetError, match=r"mmdebstrap failed .*Unable to locate package"):
        rootfs.ensure_built(cache, RELEASE, MIRROR)
    assert _entries(cache) == []
    assert _mounts_under(cache) == []


def test_a_hanging_build_is_killed_at_its_timeout(cache: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_MODE", "hang")
    monkeypatch.setattr(rootfs, "BUILD_TIMEOUT", 1.0)
    started = time.monotonic()
    with pytest.raises(PodnetError, match="did not finish within"):
        rootfs.ensure_built(cache, RELEASE, MIRROR)
    assert time.monotonic() - started < 20
    assert _alive(tmp_path) == [], "the whole build was stopped"
    assert _entries(cache) == []
    assert _mounts_under(cache) == []


def test_a_killed_build_dies_with_podnet_and_the_next_build_cleans_up(
        cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGKILL of the command building: its build dies with it (no mount, no process),
    nothing counts as cached, and the next build removes the unfinished directory."""
    monkeypatch.setenv("FAKE_MODE", "hang")
    script = ("import sys; from pathlib import Path; from harness.lab import rootfs; "
              "from harness.lab.releases import get_release; "
              "rootfs.customize_host = lambda root: None; "
              f"rootfs.ensure_built(Path({str(cache)!r}), get_release('bookworm'), {MIRROR!r})")
    builder = subprocess.Popen([sys.executable, "-c", script],
                               cwd=Path(__file__).resolve().parent.parent)
    # Both builds (root file system and image) hang in fake-sleep; counted by that name,
    # since a shell of the stand-in may still be forking on its way there.
    deadline = time.monotonic() + 30
    while len(_alive(tmp_path, "fake-sleep")) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(_alive(tmp_path, "fake-sleep")) == 2
    builder.kill()
    builder.wait()
    deadline = time.monotonic() + 10
    while _alive(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _alive(tmp_path) == []
    assert _mounts_under(cache) == []
    leftovers = _entries(cache)
    assert len(leftovers) == 1 and leftovers[0].startswith(".build-bookworm-")
    assert not rootfs.cached_release(cache, RELEASE, MIRROR).complete

    monkeypatch.setenv("FAKE_MODE", "ok")
    built = rootfs.ensure_built(cache, RELEASE, MIRROR)
    assert _entries(cache) == [built.directory.name]


def test_unfinished_and_outdated_entries_are_removed_except_in_use(
        cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_MODE", "ok")
    wanted = rootfs.cached_release(cache, RELEASE, MIRROR).directory
    (wanted / "rootfs").mkdir(parents=True)  # a half entry without "complete"
    (cache / "bookworm-0ld0ld0ld0ld").mkdir()
    (cache / "bookworm-1n0use1n0use").mkdir()
    (cache / "trixie-0ld0ld0ld0ld").mkdir()  # another release: not this build's business
    built = rootfs.ensure_built(cache, RELEASE, MIRROR,
                                frozenset({cache / "bookworm-1n0use1n0use"}))
    assert _entries(cache) == sorted([built.directory.name, "bookworm-1n0use1n0use",
                                      "trixie-0ld0ld0ld0ld"])
