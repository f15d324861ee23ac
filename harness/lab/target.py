"""The lab target: host1 of a podnet lab, entered with nsenter."""

from __future__ import annotations

from collections.abc import Sequence

from harness.errors import LabNotUp
from harness.lab import identity
from harness.lab import state as lab_state
from harness.lab.rootfs import UID, USER
from harness.lab.topology import DEFAULT_VIA
from harness.targets.base import BASE_PATH, Target


def host1_argv(init_pid: int, argv: Sequence[str], *, env: dict[str, str],
               user: str | None) -> list[str]:
    """argv that runs ``argv`` inside host1, reusing its mount namespace."""
    enter = ["nsenter", "--target", str(init_pid), "--all", "--"]
    if user is not None:
        enter += ["runuser", "-u", user, "--"]
    return [*enter, "env", "-i", *(f"{k}={v}" for k, v in env.items()), *argv]


class LabTarget(Target):
    #: host1 is the lab's own network namespace: its routes and sysctls are the lab's.
    isolated = True

    def __init__(self, name: str = "podnet", state: lab_state.LabState | None = None) -> None:
        """The lab ``name`` as its saved state says; ``state``: a lab still being brought
        up, whose state is saved only once it is complete."""
        if state is None:
            state = lab_state.load(name)
            if state is None or not identity.is_up(state):
                raise LabNotUp(name)
        self.state = state
        self.lab_name = name
        self.name = f"lab:{state.release}"
        self.user = USER
        self.uid = UID
        self.home = f"/home/{USER}"
        self.main_address = DEFAULT_VIA.host1_addr

    def command(self, argv: Sequence[str], *, root: bool) -> tuple[list[str], str | None]:
        if identity.lab_init(self.state) is None:  # never enter a reused PID
            raise LabNotUp(self.lab_name)
        env = {"PATH": BASE_PATH, "LANG": "C.UTF-8", "HOME": "/root"} if root else self.user_env()
        return host1_argv(self.state.init_pid, argv, env=env,
                          user=None if root else self.user), None
