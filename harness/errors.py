"""Typed errors. Every error meant for a person carries one line saying what to do."""

from __future__ import annotations

from collections.abc import Sequence


class PodnetError(Exception):
    """An error the CLI prints as one line, without a traceback."""


class UsageError(PodnetError):
    """Bad input: unknown method or release, invalid port, and so on."""


class UnreadableVersion(PodnetError):
    """A version text podnet cannot read: an error naming the text, never "absent"."""

    def __init__(self, component: str, text: str, source: str = "podman info") -> None:
        super().__init__(f"{source} reports {component} version {text!r}, which podnet "
                         "cannot read: report this text so podnet learns its form")
        self.component = component
        self.text = text


class LabNotUp(PodnetError):
    def __init__(self, name: str = "podnet") -> None:
        super().__init__(f"the lab '{name}' is not up: run 'podnet lab up' first")


class MissingTool(PodnetError):
    def __init__(self, tool: str, hint: str) -> None:
        super().__init__(f"'{tool}' was not found: {hint}")
        self.tool = tool


class CommandError(PodnetError):
    """A command exited non-zero. Carries argv, exit status, stdout and stderr."""

    def __init__(
        self, argv: Sequence[str], returncode: int, stdout: str, stderr: str
    ) -> None:
        self.argv = list(argv)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        last = stderr.strip().splitlines()[-1] if stderr.strip() else "(no stderr)"
        super().__init__(f"{self.argv[0]} exited {returncode}: {last}")

    def __str__(self) -> str:
        return f"{super().__str__()}\n  argv: {' '.join(self.argv)}"


class CommandTimeout(CommandError):
    def __init__(self, argv: Sequence[str], timeout: float, stdout: str, stderr: str) -> None:
        super().__init__(argv, -1, stdout, stderr or f"timed out after {timeout:g} s")
        self.timeout = timeout


class SshFailed(PodnetError):
    """ssh itself failed (exit 255): the command never ran on the remote machine."""

    def __init__(self, destination: str, cause: str, hint: str) -> None:
        super().__init__(f"ssh to {destination} failed: {cause}: {hint}")
        self.destination = destination
        self.cause = cause


class SshRefused(SshFailed):
    """Nothing listens on the remote port."""


class SshAuthFailed(SshFailed):
    """The remote sshd refused every key offered."""


class SshHostKey(SshFailed):
    """The remote host's key is not known, or is not the one known."""


class SshUnreachable(SshFailed):
    """No route, no answer, or no such host name."""
