"""The guide's own examples, run as written in the lab (see harness/examples).

Each example runs as a fresh unprivileged user of host1, removed afterwards; what the
lab cannot have is substituted through the one table (`podnet examples
--substitutions`), and each result is recorded in run.json as a claim-like result
``guide-example:<id>``: ran as written, ran with substitutions, failed, output differs
(both errata of the guide until shown otherwise) or not run (why).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from harness.clients.base import Client
from harness.examples.assess import Status, assess_all
from harness.examples.model import OUTCOME_OF_RESULT, Example
from harness.examples.parse import packaged_guide, parse
from harness.examples.plan import plan
from harness.examples.report import ERRATA_RESULTS, PREFIX
from harness.examples.runner import ExampleOutcome, run_example, share_images, unshare_images
from harness.results.recorder import ClaimMismatch, Recorder
from harness.results.schema import ClaimResult
from harness.targets.base import Target
from harness.targets.lab import LabTarget

pytestmark = [pytest.mark.lab, pytest.mark.guide_examples]

EXAMPLES = parse(packaged_guide())
ASSESSMENTS = {a.example: a for a in assess_all(EXAMPLES)}


@pytest.fixture(scope="module")
def host(target: Target) -> Iterator[LabTarget]:
    if not isinstance(target, LabTarget):
        pytest.skip("the guide's examples run in the lab's host1")
    share_images(target)
    try:
        yield target
    finally:
        unshare_images(target)


def _record(recorder: Recorder, example: Example, outcome: ExampleOutcome) -> None:
    recorder.add(ClaimResult(
        claim_id=f"{PREFIX}{example.id}", section=example.section,
        statement=f"the example at lines {example.line}-{example.end_line} of the guide "
                  "runs and prints what the guide shows",
        expected="ran as written", observed=outcome.result,
        outcome=OUTCOME_OF_RESULT[outcome.result], reason=outcome.detail,
        evidence={"lines": [example.line, example.end_line],
                  "substitutions": list(outcome.substitutions),
                  "prerequisites": list(outcome.prerequisites),
                  "actions": [dataclasses.asdict(a) for a in outcome.actions]},
    ))


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"L{e.line}-{e.id}" for e in EXAMPLES])
def test_guide_example(example: Example, recorder: Recorder,
                       request: pytest.FixtureRequest) -> None:
    assessment = ASSESSMENTS[example.id]
    runnable = plan(example, EXAMPLES)
    why = list(assessment.reasons) if assessment.status in (
        Status.CANNOT_RUN, Status.NOTHING_TO_RUN) else list(runnable.unsupported)
    if why:
        _record(recorder, example, ExampleOutcome(example.id, "not run", "; ".join(why),
                                                  assessment.substitutions))
        pytest.skip(f"not run: {'; '.join(why)}")
    host: LabTarget = request.getfixturevalue("host")
    client: Client = request.getfixturevalue("client")
    outcome = run_example(host, client, runnable, assessment.substitutions)
    _record(recorder, example, outcome)
    if outcome.result in ERRATA_RESULTS:
        diffs = "\n".join(a.diff for a in outcome.actions if a.diff)
        raise ClaimMismatch(f"the guide's example {example.id} (lines {example.line}-"
                            f"{example.end_line}): {outcome.result}: {outcome.detail}"
                            + (f"\n{diffs}" if diffs else ""))
