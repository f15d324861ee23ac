"""podman's system tests in host1, as its rootless user, against the lab's podman.

Their setup and teardown remove every image but the test image and every container,
pod, network and volume of the storage they run against, so they run against a storage
of their own: a fresh directory ``/var/tmp/podnet-up.<random>`` in host1 (a tmpfs,
where rootless overlay works) holds ``config/containers/storage.conf`` (graph root and
run root there) and ``containers.conf`` (podman's tmp_dir there), and every podman the
tests start finds them through ``XDG_CONFIG_HOME``. The lab user's own storage, run root
and tmp_dir are never named; a comparison of the user's objects before and after the
run proves it. bats and jq are installed into host1 for the run and purged after; the
directory is removed at the end, and one an interrupted run left is removed at the next
start (it carries the file ``.podnet-upstream``).
"""

from __future__ import annotations

import logging
import re
import shlex
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from harness.atomic import write_text
from harness.errors import PodnetError
from harness.fsguard import remove_tree
from harness.lab import packages
from harness.lab.target import LabTarget
from harness.results.upstream import UpstreamFile, UpstreamSuite, UpstreamTest, counts, counts_text
from harness.upstream import image, tap
from harness.upstream.checkout import Checkout

log = logging.getLogger("podnet.upstream")

WORK_PARENT = "/var/tmp"
#: Short: podman's tmp_dir (``<work>/tmp``) holds slirp4netns' API socket, whose path
#: (``<tmp_dir>/<64 hex>.net``) must stay below 108 bytes.
STEM = "podnet-up."
MARK = ".podnet-upstream"
#: Debian packages the suite needs on the host, installed for the run (ncat is also
#: host1's nc then, as on the Fedora hosts podman's tests are written for).
HOST_PACKAGES = ("bats", "jq", "ncat")
DEBS_DIR = "/var/tmp/podnet-upstream-debs"
LEDGER = "/var/tmp/podnet-upstream-packages"
BASE_IMAGE = "localhost/podnet-upstream/base:latest"
#: A bats file that runs longer is stuck (505 takes minutes on two shared cores).
FILE_TIMEOUT = 40 * 60.0
#: The user's podman objects compared before and after: (listing, format).
_LISTINGS = (("ps", "-a", "--format", "{{.ID}} {{.Names}} {{.Status}}"),
             ("images", "-a", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}"),
             ("pod", "ps", "--format", "{{.ID}} {{.Name}}"),
             ("network", "ls", "--format", "{{.ID}} {{.Name}}"),
             ("volume", "ls", "--format", "{{.Name}}"))

Say = Callable[[str], None]


def storage_conf(work: str) -> str:
    return (f'[storage]\ndriver = "overlay"\ngraphroot = "{work}/root"\n'
            f'runroot = "{work}/run"\n')


def containers_conf(work: str) -> str:
    return f'[engine]\ntmp_dir = "{work}/tmp"\n'


def private(work: str, argv: list[str]) -> list[str]:
    """``argv`` with the run's private storage (its configuration directory)."""
    return ["env", f"XDG_CONFIG_HOME={work}/config", *argv]


def user_objects(host: LabTarget) -> str:
    """The lab user's own podman objects, one listing after the other."""
    return "\n".join(host.run(["podman", *listing]).stdout for listing in _LISTINGS)


def run_suite(host: LabTarget, checkout: Checkout, files: list[str], say: Say,
              tap_dir: Path) -> UpstreamSuite:
    """Run ``files`` of ``checkout`` in host1; what each test ended as. bats' own output
    of each file is kept as ``tap_dir/<file>.tap``."""
    started = time.monotonic()
    remove_leftovers(host)
    before = user_objects(host)
    work = host.fresh_dir(WORK_PARENT, STEM)
    try:
        host.write_file(f"{work}/{MARK}", "podnet upstream-tests: removed at its end\n")
        host.write_file(f"{work}/config/containers/storage.conf", storage_conf(work))
        host.write_file(f"{work}/config/containers/containers.conf", containers_conf(work))
        say(f"installing {', '.join(HOST_PACKAGES)} into host1 for the run")
        with packages.installed(host, HOST_PACKAGES, DEBS_DIR, LEDGER):
            _copy_tests(host, checkout, f"{work}/src")
            say(f"building {checkout.image} from Debian packages")
            build_image(host, work, checkout)
            suite = UpstreamSuite(
                source=str(checkout.root), source_version=checkout.version,
                podman_version=host.run(["podman", "version", "--format",
                                         "{{.Client.Version}}"]).stdout.strip(),
                image=checkout.image,
                bats_version=host.run(["bats", "--version"]).stdout.strip())
            for file in files:
                say(f"running {file}")
                ran, tests = run_file(host, work, file, tap_dir)
                suite.files.append(ran)
                suite.tests += tests
                say(f"{file}: {counts_text(counts(tests))} in {ran.seconds:.0f} s")
    finally:
        remove_work(host, work)
    after = user_objects(host)
    if after != before:
        raise PodnetError("podman's tests changed the lab user's own podman objects (they "
                          f"should only see {work}): before:\n{before}\nafter:\n{after}")
    suite.seconds = round(time.monotonic() - started, 1)
    return suite


def _copy_tests(host: LabTarget, checkout: Checkout, dest: str) -> None:
    """The checkout's ``test/system`` (only) to ``dest/test/system`` in host1."""
    with tempfile.NamedTemporaryFile(prefix="podnet-upstream-", suffix=".tar") as tar_file:
        with tarfile.open(tar_file.name, "w") as tar:
            tar.add(checkout.system, arcname="test/system")
        host.run(["mkdir", "-p", dest])
        host.run(["tar", "-x", "--no-same-owner", "-f", "-", "-C", dest],
                 stdin_path=tar_file.name, timeout=120)


def build_image(host: LabTarget, work: str, checkout: Checkout) -> None:
    """The test image in the private storage: the lab's base plus :mod:`image`'s."""
    context = f"{work}/image"
    scratch = Path(tempfile.mkdtemp(prefix="podnet-upstream-debs-"))
    try:
        for deb in packages.download(host, scratch, image.PACKAGES):
            host.copy_file(f"{context}/debs/{deb.name}", str(deb))
    finally:
        remove_tree(scratch, Path(tempfile.gettempdir()))
    for path, (text, mode) in image.context_files(checkout.image_tag).items():
        host.write_file(f"{context}/{path}", text, mode=mode)
    host.run(["touch", f"--date=@{image.TESTIMAGE_ID_TIME}", f"{context}/home/testimage-id"])
    tar = Path(host.state.cache_dir) / "image.tar"
    host.run(private(work, ["podman", "import", "-", BASE_IMAGE]), stdin_path=str(tar),
             timeout=300)
    host.run(private(work, ["podman", "build", "--network=none", "--pull=never",
                            "--layers=false", f"--from={BASE_IMAGE}", "-t", checkout.image,
                            context]), timeout=600)
    host.run(private(work, ["podman", "rmi", BASE_IMAGE]))


def run_file(host: LabTarget, work: str, file: str, tap_dir: Path
             ) -> tuple[UpstreamFile, list[UpstreamTest]]:
    system = f"{work}/src/test/system"
    done = host.run(private(work, ["sh", "-c", f"cd {shlex.quote(system)} && exec bats "
                                               f"--tap --timing {shlex.quote(file)}"]),
                    check=False, timeout=FILE_TIMEOUT)
    tap_dir.mkdir(parents=True, exist_ok=True)
    write_text(tap_dir / f"{file}.tap", done.stdout)
    found = tap.parse(file, done.stdout)
    if not found.tests:
        said = (done.stderr or done.stdout).strip().splitlines()
        raise PodnetError(f"bats ran no test of {file} (exit {done.returncode}): "
                          f"{said[-1] if said else 'no output'}")
    return UpstreamFile(file, round(done.seconds, 1), done.returncode, found.planned), \
        found.tests


def remove_work(host: LabTarget, work: str) -> None:
    """Remove a run's directory and everything its podman left: containers and pods
    first, then the storage's mounts and the files, some owned by the user's subordinate
    ids (in the user's namespaces: rootless podman's pause process is the user's, shared
    with the lab's own podman, and stays)."""
    if re.fullmatch(re.escape(f"{WORK_PARENT}/{STEM}") + "[0-9a-f]+", work) is None:
        raise PodnetError(f"refusing to remove {work}: not a directory of podnet upstream-tests")
    if not host.run(["test", "-e", f"{work}/{MARK}"], check=False).ok:
        return
    for argv in (["podman", "pod", "rm", "-af", "-t0"], ["podman", "rm", "-af", "-t0"]):
        host.run(private(work, argv), check=False, timeout=300)
    # In the user's namespaces: the storage's own mounts there (the overlay driver's
    # home among them) go first, deepest first, then the files, the mark last (a removal
    # that fails leaves a directory the next run finds).
    host.run(["podman", "unshare", "sh", "-c",
              'set -e; awk -v w="$1" \'$5 == w || index($5, w "/") == 1 { print $5 }\' '
              '/proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done; '
              'find "$1" -mindepth 1 -maxdepth 1 ! -name "$2" -exec rm -rf -- {} +; '
              'rm -rf -- "$1"', "sh", work, MARK], timeout=300)


def remove_leftovers(host: LabTarget) -> None:
    """The directories interrupted runs left (those carrying the mark)."""
    listed = host.run(["sh", "-c", f'for d in {WORK_PARENT}/{STEM}*; do '
                                   f'test -e "$d/{MARK}" && echo "$d"; done'], check=False)
    for work in listed.stdout.split():
        log.info("removing %s, left by an interrupted run", work)
        remove_work(host, work)
