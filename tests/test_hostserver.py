"""A test server podnet starts outside containers ends on its own: a podnet killed before
it stops the server leaves no listener for longer than LIFETIME seconds."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

from harness.probes import hostserver
from harness.run import Completed


def test_a_server_outside_containers_ends_on_its_own_within_15_minutes() -> None:
    seen: list[str] = []

    def run(argv: Sequence[str], check: bool = True) -> Completed:
        seen.append(argv[-1])
        return Completed(tuple(argv), 0, "4242\n", "", 0.0)

    assert hostserver._start(run, ["python3", "-m", "http.server"], "/tmp/podnet-srv.x") == 4242
    assert hostserver.LIFETIME <= 15 * 60
    assert f"setsid timeout {hostserver.LIFETIME} python3 -m http.server " in seen[0]
    # and timeout ends what it runs: the server's life is bounded by the shell itself
    done = subprocess.run(["sh", "-c", "timeout 1 sleep 30; echo $?"], capture_output=True,
                          text=True, check=False, timeout=20)
    assert done.stdout.strip() == "124"
