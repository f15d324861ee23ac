"""``podnet history`` on runs of two releases over three nights
(made by tests/recorded.py from the recorded runs and matrix fixtures)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import cli
from harness.errors import PodnetError
from harness.history import load, statement_histories
from tests import recorded

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The six nights, ``<release>-<night>``, oldest first per release."""
    return recorded.history(tmp_path_factory.mktemp("recorded") / "history")


def test_the_fixtures_are_two_releases_over_three_nights(runs: list[Path]) -> None:
    history = load(runs)
    assert len(history.runs) == 6
    assert history.runs.groupby("release").size().to_dict() == {"sid": 3, "trixie": 3}
    # Oldest first within each release, whatever order the directories were given in.
    shuffled = load(list(reversed(runs)))
    assert list(shuffled.runs["run_id"]) == list(history.runs["run_id"])
    assert history.runs.groupby("release")["started"].apply(
        lambda s: s.is_monotonic_increasing).all()


def test_each_statement_gets_its_sequence_and_first_change(runs: list[Path]) -> None:
    statements = statement_histories(load(runs)).set_index(["release", "claim_id", "protocol"])
    flipped = statements.loc[("trixie", "inbound.source-address.pasta", "udp")]
    assert flipped["outcomes"] == ["passed", "passed", "failed"]
    assert flipped["first_change"] == "20261127T021700Z-a3a3a3"
    there_and_back = statements.loc[
        ("sid", "inbound.bind-device.socket-activation-user", "")]
    assert there_and_back["outcomes"] == ["passed", "failed", "passed"]
    assert there_and_back["first_change"] == "20261126T021700Z-b2b2b2"
    assert there_and_back["changes"] == 2
    steady = statements[statements["changes"] == 0]
    assert len(steady) == len(statements) - 2
    assert (steady["first_change"] == "").all()


def test_a_missing_result_or_an_error_is_no_change(runs: list[Path], tmp_path: Path) -> None:
    """The wrong world: a history that counts a night without the result, or the
    harness's own error, as a change of the guide's statement."""
    edited = []
    for n, (source, edit) in enumerate([("trixie-1", None), ("trixie-2", "drop"),
                                         ("trixie-3", "error")]):
        data = json.loads((runs[0].parent / source / "run.json").read_text())
        results = [r for r in data["results"] if r["claim_id"] != "inbound.source-address.pasta"
                   or r["protocol"] != "udp" or edit != "drop"]
        for r in results:
            if edit == "error" and r["claim_id"] == "inbound.source-address.pasta":
                r["outcome"] = "error"
        data["results"] = results
        (tmp_path / str(n)).mkdir()
        (tmp_path / str(n) / "run.json").write_text(json.dumps(data))
        edited.append(tmp_path / str(n))
    statements = statement_histories(load(edited)).set_index(["claim_id", "protocol"])
    row = statements.loc[("inbound.source-address.pasta", "udp")]
    assert row["outcomes"] == ["passed", None, "error"]
    assert row["changes"] == 0 and row["first_change"] == ""


def test_ratios_are_a_time_series_with_intervals(runs: list[Path]) -> None:
    ratios = load(runs).ratios
    pasta = ratios[(ratios["method"] == "pasta") & (ratios["release"] == "trixie")]
    assert list(pasta["median"]) == pytest.approx([0.983, 1.1796, 1.5728])
    assert (pasta["low"] <= pasta["median"]).all() and (pasta["median"] <= pasta["high"]).all()
    assert ratios[ratios["release"] == "sid"].empty  # sid's runs measured nothing


def test_podnet_history_writes_the_report_the_csvs_and_a_chart_per_ratio(
        runs: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["history", "--results-dir", str(tmp_path), *map(str, runs)]) == 0
    printed = capsys.readouterr().out.split()
    (out,) = {Path(p).parent for p in printed}
    assert out.parent == tmp_path and out.name.startswith("history-")
    names = sorted(p.name for p in out.iterdir())
    charts = [n for n in names if n.startswith("ratio-")]
    assert names == sorted(["history.md", "outcomes.csv", "ratios.csv", *charts])
    assert len(charts) == 4  # trixie's four latency ratios
    assert all((out / c).read_bytes().startswith(PNG) for c in charts)
    text = (out / "history.md").read_text()
    assert "# History of 6 runs of 2 releases" in text
    assert "## Statements whose result changed (2)" in text
    (changed,) = [line for line in text.splitlines()
                  if "pasta preserves the client's source address; checked over IPv4 (UDP)" in line
                  and "20261127T021700Z-a3a3a3 (2026-11-27, podman 5.4.2)" in line]
    assert [c.strip() for c in changed.split("|")[1:-1]] == [
        "trixie", "pasta preserves the client's source address; checked over IPv4 (UDP)",
        "as the guide says (2 runs) → differs",
        "20261127T021700Z-a3a3a3 (2026-11-27, podman 5.4.2)"]
    assert "0.983 (95% interval 0.881 to 1.087) → 1.180" in text
    assert "![chart](ratio-latency-pasta-inbound-tcp-to-host.png)" in text
    csv = (out / "outcomes.csv").read_text().splitlines()
    assert csv[0] == "release,claim_id,protocol,statement,outcomes,first_change,changes"
    assert any(line.startswith("sid,inbound.bind-device.socket-activation-user,,")
               and line.endswith(",passed failed passed,20261126T021700Z-b2b2b2,2")
               for line in csv)


@pytest.mark.parametrize(("given", "says"), [
    (["history/trixie-1", "history/trixie-1"], "given twice"),
    (["history/trixie-1", "history"], "is not a run directory"),
    (["not-json.txt"], "is not valid JSON"),
])
def test_bad_runs_are_one_line_and_nothing_is_written(
        given: list[str], says: str, runs: list[Path], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    root = runs[0].parent.parent
    (root / "not-json.txt").write_text("a history of nothing\n")
    argv = ["history", "--results-dir", str(tmp_path), *(str(root / r) for r in given)]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert says in err and len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_history_refuses_no_run_through_argparse() -> None:
    with pytest.raises(PodnetError):
        args = cli.build_parser().parse_args(["history"])
        cli._validate(args)
