"""``run.upstream``: podman's own system tests as one run ran them (``podnet
upstream-tests``). Written by :mod:`harness.upstream.runner`, read by the report and the
release matrix; the run record (:mod:`harness.results.schema`) holds it.

Each test of podman's bats files ends as ``passed``, ``failed`` (with its output),
``skipped`` (with upstream's reason) or ``needs_internet`` (a test known by name to need
the internet, which the lab never reaches: its output is kept, it is no failure of
podman's).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.errors import PodnetError

UPSTREAM_OUTCOMES = ("passed", "failed", "needs_internet", "skipped")
#: How each outcome reads in reports and the matrix.
OUTCOME_WORDS = {"passed": "passed", "failed": "failed",
                 "needs_internet": "needs the internet", "skipped": "skipped"}


@dataclass
class UpstreamTest:
    """One ``@test`` of a bats file."""

    file: str
    name: str
    outcome: str
    number: int = 0
    #: upstream's reason for a skip, or why a test needs the internet
    reason: str = ""
    #: what bats printed for a failure (also kept for ``needs_internet``)
    output: str = ""
    seconds: float | None = None

    def __post_init__(self) -> None:
        if self.outcome not in UPSTREAM_OUTCOMES:
            raise ValueError(f"unknown outcome {self.outcome!r} of upstream test {self.name!r}")

    @property
    def words(self) -> str:
        """The result in words, with upstream's reason (a skip's, or why it needs the
        internet)."""
        word = OUTCOME_WORDS[self.outcome]
        return f"{word}: {self.reason}" if self.reason else word


def counts(tests: list[UpstreamTest]) -> dict[str, int]:
    """How many tests ended as each outcome (every outcome, in order)."""
    found = [t.outcome for t in tests]
    return {outcome: found.count(outcome) for outcome in UPSTREAM_OUTCOMES}


def counts_text(found: dict[str, int]) -> str:
    """``83 passed, 2 needs the internet, 1 skipped`` (outcomes with none left out)."""
    return ", ".join(f"{n} {OUTCOME_WORDS[o]}" for o, n in found.items() if n) or "no test"


@dataclass
class UpstreamFile:
    """One bats file's run: its wall time, bats' exit status and the tests it planned."""

    file: str
    seconds: float
    exit_status: int
    planned: int


@dataclass
class UpstreamSuite:
    #: the podman checkout the tests came from, as the user gave it
    source: str
    #: the checkout's version (``v5.4.2``), "" when it does not say
    source_version: str
    #: the target's podman version
    podman_version: str
    #: the test image the suite expects (built, never pulled)
    image: str
    bats_version: str = ""
    seconds: float = 0.0
    files: list[UpstreamFile] = field(default_factory=list)
    tests: list[UpstreamTest] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return counts(self.tests)

    def version_mismatch(self) -> str:
        """One sentence when the checkout's version is not the target's podman's, else ""."""
        source = self.source_version.removeprefix("v")
        if not source:
            return (f"the checkout does not say its version; the target's podman is "
                    f"{self.podman_version}")
        if source == self.podman_version:
            return ""
        return (f"the tests are podman {self.source_version}'s, the target's podman is "
                f"{self.podman_version}")

    @classmethod
    def from_dict(cls, raw: Any, source: str = "run.json") -> UpstreamSuite:
        if not isinstance(raw, dict):
            raise PodnetError(f"{source} is malformed: upstream should be an object")
        try:
            return cls(**{**raw,
                          "files": [UpstreamFile(**f) for f in raw.get("files", [])],
                          "tests": [UpstreamTest(**t) for t in raw.get("tests", [])]})
        except (TypeError, ValueError) as exc:
            raise PodnetError(f"{source} is malformed: upstream: {exc}") from exc
