"""pasta's stall for upstream: the experiments' judgement, the reproduction's judge and
the report `podnet findings --upstream` writes, on a run recorded in the lab
(tests/fixtures/pasta_stall/run.json) and the podman machine's output of the report's
steps run as written there (steps-output.txt)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from harness.bench import stall
from harness.cli import main
from harness.errors import UsageError
from harness.reports import upstream_stall
from harness.results.schema import Run

HERE = Path(__file__).parent / "fixtures" / "pasta_stall"
OUTPUT = (HERE / "steps-output.txt").read_text()


def recorded_run() -> Run:
    return Run.from_dict(json.loads((HERE / "run.json").read_text()))


def record() -> stall.StallRecord:
    found = stall.StallRecord.from_dict(recorded_run().summaries[stall.SUMMARY])
    assert found is not None
    return found


def trial(tid: str, native: list[float], pasta: list[float], not_run: str = "") -> stall.Trial:
    return stall.Trial(tid, tid, [{"bits_per_second": r} for r in native],
                       [{"bits_per_second": r} for r in pasta], not_run)


BASE = trial("baseline", [8e9, 6e9, 7e9], [5e6, 3e8, 6e6])


def test_receiver_rates_of_the_recorded_steps() -> None:
    rates = stall.receiver_rates(OUTPUT)
    assert len(rates) == 2 and rates[0] > 1e9 > 1e8 > rates[1] > 0


def test_the_recorded_steps_reproduce_the_stall() -> None:
    found = stall.judge_reproduction(OUTPUT)
    assert found.control and found.reproduced, found.words


def test_wrong_world_the_container_at_full_speed_is_not_reproduced() -> None:
    native_line = next(line for line in OUTPUT.splitlines() if line.endswith("receiver"))
    fast = re.sub(r"(?m)^.*receiver\s*$", native_line, OUTPUT)
    found = stall.judge_reproduction(fast)
    assert found.control and not found.reproduced and "not reproduced" in found.words


def test_wrong_world_a_slow_peer_fails_the_control() -> None:
    slow = re.sub(r"[\d.]+ Gbits/sec", "40.0 Mbits/sec", OUTPUT)
    found = stall.judge_reproduction(slow)
    assert not found.control and not found.reproduced and "control failed" in found.words


def test_wrong_world_the_container_never_ran() -> None:
    first = OUTPUT[:OUTPUT.index("iperf Done.") + len("iperf Done.")]
    found = stall.judge_reproduction(first + "\nError: image not known\n")
    assert not found.reproduced and "found 1" in found.words


def test_an_experiment_that_ends_the_stall_changed_the_outcome() -> None:
    found = stall.outcome(BASE, trial("x", [7e9, 7e9, 7e9], [5e9, 6e9, 4e9]))
    assert found.changed and found.stalled is False and found.words.startswith("yes")


def test_a_native_transfer_that_stalls_too_changed_the_outcome() -> None:
    found = stall.outcome(BASE, trial("x", [1e8, 2e8, 1e8], [5e6, 4e6, 6e6]))
    assert found.changed and "native transfer stalls too" in found.words


def test_a_stall_that_comes_and_goes_is_no_change() -> None:
    # one pass of the experiment within the baseline's range: not beyond every pass
    found = stall.outcome(BASE, trial("x", [7e9, 7e9, 7e9], [4e8, 9e8, 5e6]))
    assert found.changed is False and found.words.startswith("no")


def test_a_median_past_the_threshold_without_every_pass_is_undecided() -> None:
    found = stall.outcome(BASE, trial("x", [7e9, 7e9, 7e9], [6e8, 1.6e9, 1.8e9]))
    assert found.changed is None and found.stalled is False
    assert found.words.startswith("undecided") and "0.0857 to 0.257" in found.words


def test_pasta_moved_in_every_pass_is_a_partial_change() -> None:
    slower = stall.outcome(trial("baseline", [7e9] * 3, [5e8, 6e8, 4e8]),
                           trial("x", [7e9] * 3, [5e6, 4e6, 6e6]))
    assert slower.changed and slower.words.startswith("partly") and "1/" in slower.words


def test_an_experiment_not_run_says_why() -> None:
    found = stall.outcome(BASE, trial("netem", [], [], "Specified qdisc kind is unknown."))
    assert found.changed is None and found.words == "not run: Specified qdisc kind is unknown."


def test_the_record_round_trips() -> None:
    found = record()
    assert stall.StallRecord.from_dict(found.to_dict()) == found
    assert stall.StallRecord.from_dict({"trials": "x"}) is None


def test_report_steps_are_the_lab_commands_with_the_runs_values() -> None:
    text = upstream_stall.report([recorded_run()])
    found = record()
    assert upstream_stall.steps(text) == upstream_stall.reproduction_blocks(
        found.peer, found.port, found.image)
    peer, podman = upstream_stall.steps(text)
    assert peer == f"iperf3 -s -p {found.port}"
    assert "podnet" not in podman.replace(found.image, "")


def test_report_has_versions_figures_capture_and_the_experiments_outcomes() -> None:
    text = upstream_stall.report([recorded_run()])
    for part in ("## Versions", "podman 5.4.2", "pasta 2025-05-03", "kernel ",
                 "Debian trixie", "## Figures", "load average", "## Capture",
                 "SYN-ACK: MSS", "## Which experiments changed the outcome",
                 "not run: tc qdisc add", "run as written"):
        assert part in text, part


def test_report_of_a_run_without_the_experiments_is_refused_in_one_line() -> None:
    run = recorded_run()
    run.summaries.pop(stall.SUMMARY)
    with pytest.raises(UsageError, match="no pasta stall experiments"):
        upstream_stall.report([run])


def test_steps_missing_from_a_report_are_refused() -> None:
    with pytest.raises(UsageError, match="On the peer"):
        upstream_stall.steps("# nothing here\n")


def test_findings_upstream_writes_the_report(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[Any]) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    shutil.copy(HERE / "run.json", run_dir / "run.json")
    assert main(["findings", "--upstream", str(run_dir)]) == 0
    written = run_dir / upstream_stall.FILE
    assert capsys.readouterr().out.strip() == str(written)
    assert written.read_text() == upstream_stall.report([recorded_run()])


def test_findings_upstream_of_a_run_without_them_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[Any]) -> None:
    raw = json.loads((HERE / "run.json").read_text())
    raw["summaries"].pop(stall.SUMMARY)
    (tmp_path / "run.json").write_text(json.dumps(raw))
    assert main(["findings", "--upstream", str(tmp_path)]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no pasta stall experiments" in err
