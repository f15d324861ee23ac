"""``podnet examples``: the guide's examples and their blocks, for people and machines."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from harness.examples import substitutions as subs
from harness.examples.assess import PREREQUISITES, Assessment, Status
from harness.examples.structure import BlockKind, Example
from harness.guide.revisions import Revision, selected


def summary(examples: Sequence[Example], assessments: Sequence[Assessment]) -> dict[str, Any]:
    kinds = Counter(block.kind.value for example in examples for block in example.blocks)
    return {
        "examples": len(examples),
        "steps": sum(len(example.steps) for example in examples),
        "blocks": sum(kinds.values()),
        "blocks_by_kind": {kind.value: kinds.get(kind.value, 0) for kind in BlockKind},
        "by_status": {status.value: sum(1 for a in assessments if a.status is status)
                      for status in Status},
    }


def to_json(examples: Sequence[Example], assessments: Sequence[Assessment],
            revision: Revision | None = None) -> str:
    rows = [dataclasses.asdict(example) | {"assessment": dataclasses.asdict(assessment)}
            for example, assessment in zip(examples, assessments, strict=True)]
    return json.dumps({"guide": (revision or selected()).record(),
                       "summary": summary(examples, assessments), "examples": rows}, indent=2)


def text_lines(examples: Sequence[Example], assessments: Sequence[Assessment],
               blocks: bool = False) -> list[str]:
    lines: list[str] = []
    for example, assessment in zip(examples, assessments, strict=True):
        kinds = Counter(block.kind.value for block in example.blocks)
        numbered = sum(1 for proc in example.procedures if proc.numbered)
        flags = " [experimental]" if example.experimental else ""
        lines.append(f"{example.id}  lines {example.line}-{example.end_line}  "
                     f"{assessment.status.value}{flags}")
        lines.append(f"  section: {example.section}")
        lines.append(f"  {len(example.steps)} steps in {len(example.procedures)} procedures "
                     f"({numbered} numbered); blocks: "
                     + ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items())))
        if example.based_on:
            replaced = ", ".join(example.replaces) or "none"
            lines.append(f"  follows {example.based_on} (replacing steps {replaced})")
        if assessment.prerequisite:
            how = PREREQUISITES[example.id].how
            lines.append(f"  needs first: {assessment.prerequisite}"
                         + (f" (started by the runner: {how})" if how else
                            " (the runner cannot start it yet)"))
        lines += [f"  substitution: {text}" for text in assessment.substitutions]
        lines += [f"  not run: {text}" for text in assessment.reasons]
        if blocks:
            for step in example.steps:
                for block in step.blocks:
                    where = f" {block.path}" if block.path else ""
                    of = f" of line {block.output_of}" if block.output_of else ""
                    lines.append(f"    {block.line}-{block.end_line} step {step.number or '-'} "
                                 f"{block.kind.value}{where}{of} [{block.host}]: {block.why}")
    total = summary(examples, assessments)
    by_kind = ", ".join(f"{k} {v}" for k, v in total["blocks_by_kind"].items())
    by_status = ", ".join(f"{k} {v}" for k, v in total["by_status"].items())
    lines.append(f"{total['examples']} examples, {total['steps']} steps, {total['blocks']} "
                 f"blocks ({by_kind}); {by_status}")
    return lines


def substitution_lines() -> list[str]:
    lines = ["images (registry -> lab):"]
    lines += [f"  {image} -> {entry.lab_image or 'none'}: {entry.note}"
              for entry in subs.IMAGES for image in entry.images]
    lines.append(f"  Containerfiles FROM fedora with dnf -> none: {subs.BUILDER_NOTE}")
    for heading, replacements in (
            ("hosts, addresses and paths (guide -> lab)", subs.ADDRESSES),
            ("user set-up (guide -> runner)", subs.USER_STEPS),
            ("root (guide -> runner)", (subs.ROOT_STEP, subs.ROOT_FILE))):
        lines.append(f"{heading}:")
        lines += [f"  {r.guide} -> {r.lab}" + (f": {r.note}" if r.note else "")
                  for r in replacements]
    return lines
