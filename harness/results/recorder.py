"""Collects a run's claim results and measurements and judges claims against data."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.claims import Claim, Placement
from harness.errors import PodnetError
from harness.results import store
from harness.results.schema import ClaimResult, Measurement, Run

log = logging.getLogger("podnet.results")


class ClaimMismatch(AssertionError):
    """The observation contradicts the guide's claim."""


class NoObservation(AssertionError):
    """The check saw something that says nothing about the claim (podman failing for an
    unrelated reason, a service that never started): an error, never a pass. What it saw
    (``evidence``) becomes the error result's evidence."""

    def __init__(self, message: str, evidence: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.evidence = evidence or {}


def against_control(held: bool, control_held: bool | None, control: str) -> bool:
    """A check's "held"; its "did not hold" believed only when the positive control (the
    same setup without what the claim is about, described by ``control``) held. A control
    that failed, or was not run, leaves nothing observed."""
    if held:
        return True
    if not control_held:
        raise NoObservation(f"the control ({control}) did not succeed either")
    return False


def claim_result(claim: Claim, outcome: str, observed: Any = None, *,
                 method: str | None = None, **fields: Any) -> ClaimResult:
    """A result of ``claim``: its id, section, statement and expectation, and its method
    unless ``method`` is given."""
    return ClaimResult(claim_id=claim.id, section=claim.section, statement=claim.statement,
                       expected=claim.expected, observed=observed, outcome=outcome,
                       method=method or claim.method, **fields)


@dataclass
class Recorder:
    run: Run
    directory: Path
    current_test: str = ""
    #: False in an xdist worker: the controller writes the run record (harness.workers).
    persist: bool = True
    #: Where each claim is in the guide revision the run judges (Registry.placements):
    #: results get its line; a claim not in that revision ends not applicable.
    placements: dict[str, Placement] = dataclasses.field(default_factory=dict)

    @classmethod
    def start(cls, root: Path, run_id: str | None = None) -> Recorder:
        run_id = run_id or store.new_run_id()
        directory = store.run_dir(root, run_id)
        existing = directory / store.RUN_FILE
        run = store.load(directory) if existing.exists() else Run.begin(run_id)
        return cls(run, directory)

    @classmethod
    def in_memory(cls, root: Path, run_id: str) -> Recorder:
        """A worker's recorder (pytest-xdist): a fresh record of run ``run_id``, never
        saved by the worker; the controller merges it (harness.workers)."""
        return cls(Run.begin(run_id), store.run_dir(root, run_id), persist=False)

    def absent(self, claim_id: str) -> str:
        """Why the claim is not in the revision the run judges ("" when it is)."""
        placement = self.placements.get(claim_id)
        return placement.absent if placement is not None else ""

    def add(self, result: ClaimResult) -> None:
        result.test = result.test or self.current_test
        placement = self.placements.get(result.claim_id)
        if placement is not None:
            result.line = placement.line
            if placement.absent and result.outcome != "not_applicable":
                if result.outcome in ("passed", "failed"):
                    result.evidence = {**result.evidence, "observed": result.observed}
                result.outcome, result.reason = "not_applicable", placement.absent
        self.run.results.append(result)
        self.checkpoint()

    def measure(self, sample: Measurement) -> None:
        self.run.measurements.append(sample)

    def check(
        self,
        claim: Claim,
        observed: Any,
        *,
        method: str | None = None,
        protocol: str | None = None,
        evidence: dict[str, Any] | None = None,
        setup_seconds: float | None = None,
        matches: Callable[[Any, Any], bool] | None = None,
    ) -> None:
        """Record the claim's result and raise :class:`ClaimMismatch` if it does not hold."""
        expected = claim.expected
        held = matches(expected, observed) if matches else observed == expected
        self.add(claim_result(claim, "passed" if held else "failed", observed, method=method,
                              protocol=protocol, evidence=evidence or {},
                              setup_seconds=setup_seconds))
        if not held and not self.absent(claim.id):
            detail = "; ".join(f"{k}: {v}" for k, v in (evidence or {}).items())
            raise ClaimMismatch(
                f"claim {claim.id} does not hold ({claim.citation}).\n"
                f"  the guide: {claim.statement}\n"
                f"  expected: {expected!r}\n  observed: {observed!r}"
                + (f"\n  evidence: {detail}" if detail else "")
            )

    def skip(self, claim: Claim, reason: str, *, outcome: str = "skipped",
             protocol: str | None = None) -> None:
        self.add(claim_result(claim, outcome, protocol=protocol, reason=reason))

    def inconclusive(self, claim: Claim, reason: str, *,
                     evidence: dict[str, Any] | None = None) -> None:
        """A check that ran but could not decide (a benchmark whose intervals the run's
        resolution cannot separate): ``reason`` says why, ``evidence`` holds the numbers."""
        self.add(claim_result(claim, "inconclusive", reason=reason, evidence=evidence or {}))

    def unsupported(self, claim: Claim, message: str, *, protocol: str | None = None,
                    evidence: dict[str, Any] | None = None) -> None:
        """The target's podman no longer offers the claim's method: ``message`` is
        podman's own refusal, the observation where the guide's statement stops applying."""
        self.add(claim_result(claim, "unsupported", "unsupported", protocol=protocol,
                              reason=message,
                              evidence={"podman_message": message, **(evidence or {})}))

    def checkpoint(self) -> Path | None:
        """Write what the run holds so far, atomically, as an ``interrupted`` record: a run
        killed before its final :meth:`save` keeps every result recorded until then.
        (Measurements are written with the next result or test end, never while a
        benchmark measures.)"""
        if not self.persist or (not self.run.results and not self.run.measurements):
            return None
        try:
            return store.save(dataclasses.replace(self.run, status="interrupted"),
                              self.directory)
        except PodnetError as exc:  # the final save says so, in one line
            log.warning("%s", exc)
            return None

    def save(self) -> Path | None:
        if not self.run.results and not self.run.measurements:
            return None
        self.run.finished = time.time()
        return store.save(self.run, self.directory)
