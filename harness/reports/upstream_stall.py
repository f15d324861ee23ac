"""The pasta stall report for passt's bug tracker (``podnet findings --upstream``), drawn
from the run records of the stall experiments (``summaries["pasta_stall"]``,
:mod:`harness.bench.stall`), one run per release.

Self-contained: the versions, the smallest command sequence that reproduces the stall on
two machines without podnet (the lab's values in its variables, so that it runs as
written in the lab: :func:`steps` reads them back out of the report), the figures, the
capture's summary and which experiments changed the outcome.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from harness.bench import stall
from harness.bench.findings import SLOW
from harness.errors import UsageError
from harness.lab.releases import RELEASES
from harness.markup import Code, Grid, Heading, Items, Para, Pre, to_markdown
from harness.reports.findings import capture_lines, versions_line
from harness.results.schema import Run

FILE = "pasta-stall-upstream.md"
PEER_HEADING = "On the peer"
PODMAN_HEADING = "On the podman machine"
#: Seconds of each reproduction transfer.
REPRO_SECONDS = 5


@dataclass(frozen=True)
class Recorded:
    run: Run
    record: stall.StallRecord


def recorded(runs: Sequence[Run]) -> list[Recorded]:
    """The stall records of ``runs``; a run without one is refused in one line."""
    found = []
    for run in runs:
        record = stall.StallRecord.from_dict(run.summaries.get(stall.SUMMARY))
        if record is None:
            raise UsageError(f"run {run.run_id} has no pasta stall experiments: run them "
                             "with `PODNET_LAB=<lab> pytest scenarios/test_pasta_stall.py` "
                             "and give that run's directory")
        found.append(Recorded(run, record))
    return found


def reproduction_blocks(peer: str, port: int, image: str) -> tuple[str, str]:
    """The peer's and the podman machine's commands."""
    server = f"iperf3 -s -p {port}"
    client = f'iperf3 -c "$PEER" -p {port} -t {REPRO_SECONDS}'
    podman = "\n".join([
        f"PEER={peer}    # the peer's address",
        f"IMAGE={image}    # any image with iperf3 in it",
        f"{client}    # natively: full speed",
        f'podman run --rm --network=pasta "$IMAGE" {client}    # through pasta: stalls',
    ])
    return server, podman


def steps(markdown: str) -> tuple[str, str]:
    """The peer's and the podman machine's commands, read back out of a report: the
    first fenced block after each heading."""
    def under(heading: str) -> str:
        at = markdown.find(heading)
        block = re.search(r"^```[a-z]*\n(.*?)^```", markdown[at:], re.S | re.M) \
            if at >= 0 else None
        if block is None:
            raise UsageError(f"the report has no commands under '{heading}'")
        return block.group(1).strip()

    return under(PEER_HEADING), under(PODMAN_HEADING)


def _passes(transfers: Sequence[dict[str, object]]) -> str:
    values = [t.get("bits_per_second") for t in transfers]
    return " / ".join(f"{v / 1e9:.3g}" if isinstance(v, int | float) else "error"
                      for v in values) or "-"


def report(runs: Sequence[Run]) -> str:
    found = recorded(runs)
    first = found[0].record
    known = [x for r in found if (t := r.record.trial("baseline")) is not None
             for x in stall.pass_ratios(t)]
    headline = (f"{min(known):.2g} to {max(known):.2g}" if len(known) > 1
                else f"about {known[0]:.2g}" if known else "a fraction")
    server, podman = reproduction_blocks(first.peer, first.port, first.image)
    reproduced = _reproduced(found)
    return "\n".join(to_markdown([
        Heading(1, f"pasta: TCP from a container to a remote host runs at {headline} of the "
                   "host's own rate"),
        Para(("A rootless container with ", Code("--network=pasta"), " sending over TCP to "
              f"another machine (outbound: the container connects out) moves {headline} of "
              "what the same ", Code("iperf3 -c"), " moves when run on the container's host "
              "itself, to the same peer. The receiving direction and inbound connections to "
              "published ports are not part of this report.")),
        Heading(2, "Versions"), Items([versions_line(r.run.environment, {}) for r in found]),
        Heading(2, "Reproduce (two machines)"),
        Para(f"{PEER_HEADING} (any machine the podman machine reaches; in the runs below a "
             "second network namespace on a veth link):"),
        Pre(server, "sh"),
        Para((f"{PODMAN_HEADING}, as a rootless user (set ", Code("PEER"), " to the peer's "
              "address, ", Code("IMAGE"), " to any image with iperf3; the values below are "
              "those of the runs):")),
        Pre(podman, "sh"), *([Items(reproduced)] if reproduced else []),
        Heading(2, "Figures"),
        Para((f"Each experiment {first.passes} times, interleaved with the others, each "
              f"transfer {first.seconds} s of ", Code("iperf3 -c"), " (received rate, Gbit/s, "
              "one figure per pass); native: from the container's host, container: ",
              Code("podman run --network=pasta ..."),
              f". A container below {SLOW:g} of native stalls.")),
        Grid(["release", "experiment", "native", "container", "container / native",
              "changed the outcome?"],
             [[r.run.release, t.title, _passes(t.native) if t.native else
               ("(not changed by it)" if not t.not_run else "-"), _passes(t.pasta),
               f"{o.ratio:.3g}" if o.ratio is not None else "-", o.words]
              for r in found for t in r.record.trials
              for o in [stall.outcome(r.record.trial("baseline") or t, t)]]),
        Items([*(f"{r.run.release} (run {r.run.run_id}): load average "
                 f"{' then '.join(r.record.load) or 'not recorded'} (1, 5, 15 minutes; 2 CPUs)."
                 for r in found), *_not_run_releases(found)]),
        Heading(2, "Capture"), Items(_captures(found)),
        Heading(2, "Which experiments changed the outcome"), Items(_changed(found))]))


def _reproduced(found: Sequence[Recorded]) -> list[str]:
    return [f"{r.run.release}: these steps were run as written (podman machine and peer in "
            f"two network namespaces): {r.record.reproduction.get('words', '?')}."
            for r in found if r.record.reproduction]


def _not_run_releases(found: Sequence[Recorded]) -> list[str]:
    missing = [name for name in RELEASES if name not in {r.run.release for r in found}]
    return [f"Releases not run: {', '.join(missing)} (no run record of the experiments "
            "on them was given)."] if missing else []


def _captures(found: Sequence[Recorded]) -> list[str]:
    lines = []
    for r in found:
        capture = r.record.capture
        if "error" in capture:
            lines.append(f"{r.run.release}: no capture: {capture['error']}")
        elif not capture:
            lines.append(f"{r.run.release}: no capture recorded.")
        else:
            lines += [f"{r.run.release}: {line}" for line in capture_lines(capture)]
            if capture.get("command"):
                lines.append(f"{r.run.release}: captured with `{capture['command']}` against "
                             f"`{capture.get('peer_command', 'iperf3 -s')}` on the peer.")
    return lines


def _changed(found: Sequence[Recorded]) -> list[str]:
    lines = []
    for r in found:
        base = r.record.trial("baseline")
        if base is None:
            continue
        outcomes = [(t, stall.outcome(base, t)) for t in r.record.trials if t.id != base.id]
        changed = [t.title for t, o in outcomes if o.changed]
        same = [t.title for t, o in outcomes if o.changed is False]
        not_run = [f"{t.title} ({o.words})" for t, o in outcomes if o.changed is None]
        lines.append(f"{r.run.release}: " + "; ".join(
            [f"changed it: {', '.join(changed) if changed else 'none'}",
             *([f"did not change it: {', '.join(same)}"] if same else []),
             *([f"unknown: {', '.join(not_run)}"] if not_run else [])]) + ".")
    sack = [stall.outcome(r.record.trial("baseline") or t, t) for r in found
            if (t := r.record.trial("sack-timestamps-off")) is not None]
    if any(o.changed is False for o in sack):
        lines.append("pasta's SYN-ACK to the container offers neither SACK nor timestamps "
                     "(the capture above), but a native transfer without both does not "
                     "stall: their absence alone does not explain it.")
    return lines
