"""The proof of ``podnet upstream-tests``' private storage: a bats file of podnet's own,
written like podman's setup (remove every container, pod, image, network and volume),
runs through the same runner; the lab user's own objects are exactly as before, host1
has neither bats nor the run's directory afterwards, and each outcome is read as bats
reported it."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.lab.target import LabTarget
from harness.targets.base import Target
from harness.upstream import runner
from harness.upstream.checkout import open_checkout

pytestmark = [pytest.mark.lab, pytest.mark.proof]

HELPERS = """PODMAN_TEST_IMAGE_REGISTRY=${PODMAN_TEST_IMAGE_REGISTRY:-"quay.io"}
PODMAN_TEST_IMAGE_USER=${PODMAN_TEST_IMAGE_USER:-"libpod"}
PODMAN_TEST_IMAGE_NAME=${PODMAN_TEST_IMAGE_NAME:-"testimage"}
PODMAN_TEST_IMAGE_TAG=${PODMAN_TEST_IMAGE_TAG:-"podnet-proof"}
IMAGE=$PODMAN_TEST_IMAGE_REGISTRY/$PODMAN_TEST_IMAGE_USER/$PODMAN_TEST_IMAGE_NAME:$PODMAN_TEST_IMAGE_TAG
"""

WIPE = """load helpers

@test "[999] wipe the storage as podman's setup does" {
    podman run -d --name kept-apart "$IMAGE" sleep 600
    podman network create wipe-net
    podman volume create wipe-vol
    podman rm -af -t0
    podman pod rm -af
    podman rmi -af
    podman network prune -f
    podman volume prune -f
    [ -z "$(podman images -q)" ]
}

@test "[999] the test image is built, never pulled" {
    skip "the storage was wiped by the test before"
}

@test "[999] a failure keeps its output" {
    echo "podnet-proof: this line is the output"
    false
}
"""


def test_podmans_setup_leaves_the_lab_users_objects_alone(target: Target,
                                                          tmp_path: Path) -> None:
    if not isinstance(target, LabTarget):
        pytest.skip("podnet upstream-tests runs in the lab only")
    system = tmp_path / "podman-v0.0.0" / "test" / "system"
    system.mkdir(parents=True)
    (system / "helpers.bash").write_text(HELPERS)
    (system / "999-wipe.bats").write_text(WIPE)
    checkout = open_checkout(str(tmp_path / "podman-v0.0.0"))
    before = runner.user_objects(target)
    assert "localhost/podnet/web" in before  # what a wrong world would remove
    suite = runner.run_suite(target, checkout, ["999-wipe.bats"], lambda _: None,
                             tmp_path / "taps")
    assert [(t.name, t.outcome) for t in suite.tests] == [
        ("[999] wipe the storage as podman's setup does", "passed"),
        ("[999] the test image is built, never pulled", "skipped"),
        ("[999] a failure keeps its output", "failed")]
    assert suite.tests[1].reason == "the storage was wiped by the test before"
    assert "podnet-proof: this line is the output" in suite.tests[2].output
    assert suite.image == "quay.io/libpod/testimage:podnet-proof"
    assert (tmp_path / "taps" / "999-wipe.bats.tap").read_text().startswith("1..3")
    assert runner.user_objects(target) == before
    assert not target.run(["sh", "-c", "command -v bats jq ncat"], check=False).stdout.strip()
    left = target.run(["sh", "-c", f"ls -d {runner.WORK_PARENT}/{runner.STEM}* "
                                   f"{runner.LEDGER} {runner.DEBS_DIR}"], check=False)
    assert left.stdout.strip() == ""
