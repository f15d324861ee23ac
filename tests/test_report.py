"""Reports of recorded runs: the guide's tables regenerated, claim list, CSV, HTML."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from harness.claims import Registry
from harness.errors import PodnetError
from harness.reports import render_run
from harness.reports.markdown import render as render_markdown
from harness.reports.render import guide_tables
from harness.results import store
from harness.results.schema import ClaimResult, Run
from tests import recorded

FIXTURES = Path(__file__).parent / "fixtures" / "runs"

REGISTRY = """
[table.overview]
title = "Overview"
section = "Inbound > Overview"
anchor = "#overview"
columns = ["source address preserved", "minimum port number"]
rows = ["pasta", "host", "software-x"]

[table.again]
title = "Again"
section = "Inbound > Again"
anchor = "#again"
columns = ["source address preserved"]
rows = ["pasta"]

[table.out]
title = "Out"
section = "Outbound > Localhost"
anchor = "#out"
columns = ["source address preserved", "reaches localhost", "comment"]
rows = ["pasta", "slirp4netns"]
row_key = "row"

[[claim]]
id = "out.localhost.pasta"
section = "Outbound > Localhost"
anchor = "#out"
table = "out"
column = "reaches localhost"
row = "pasta"
comment = "with --map-gw"
method = "pasta"
property = "reaches_host_localhost"
statement = "pasta reaches localhost"
expected = true

[[claim]]
id = "out.localhost.pasta-map-host-loopback"
section = "Outbound > Localhost"
anchor = "#out"
table = "out"
column = "reaches localhost"
row = "pasta"
method = "pasta"
property = "reaches_host_localhost"
statement = "pasta reaches localhost with --map-host-loopback"
expected = true

[[claim]]
id = "src.pasta"
section = "Inbound > Overview"
anchor = "#overview"
table = "overview"
column = "source address preserved"
method = "pasta"
property = "source_address_preserved"
statement = "pasta preserves the source address"
expected = true

[[claim]]
id = "src.host"
section = "Inbound > Overview"
anchor = "#overview"
table = "overview"
column = "source address preserved"
method = "host"
property = "source_address_preserved"
statement = "host preserves the source address"
expected = true

[[claim]]
id = "port.pasta"
section = "Inbound > Overview"
anchor = "#overview"
table = "overview"
column = "minimum port number"
method = "pasta"
property = "minimum_port"
statement = "the minimum port for pasta is 1024"
expected = 1024

[[claim]]
id = "port.host"
section = "Inbound > Overview"
anchor = "#overview"
table = "overview"
column = "minimum port number"
method = "host"
property = "minimum_port"
statement = "the minimum port for host is 1024"
expected = 1024
"""


def result(claim_id: str, outcome: str, expected: object, observed: object,
           protocol: str | None = None, reason: str = "") -> ClaimResult:
    return ClaimResult(claim_id=claim_id, section="Inbound > Overview", statement=claim_id,
                       expected=expected, observed=observed, outcome=outcome,
                       method=claim_id.split(".")[1], protocol=protocol, reason=reason)


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    path = tmp_path / "claims.toml"
    path.write_text(REGISTRY)
    return Registry.load(path)


@pytest.fixture
def run() -> Run:
    return Run("20260101T000000Z-abcdef", 1767225600.0, finished=1767225630.0,
               environment={"target": "lab:trixie", "versions": {"podman": "5.4.2"}},
               results=[
                   result("src.pasta", "passed", True, True, "tcp"),
                   result("src.pasta", "failed", True, False, "udp"),
                   result("src.host", "not_applicable", True, None, "tcp",
                          "the guide's statement needs podman < 6.0; this target has 6.0.0"),
                   result("port.pasta", "passed", 1024, 1024),
                   result("port.host", "skipped", 1024, None, reason="needs root"),
               ])


def markdown(run: Run, registry: Registry) -> str:
    return render_markdown(run, guide_tables(run, registry), registry)


def table_block(text: str, title: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index(f"### {title}")
    block = []
    for line in lines[start + 1:]:
        if line.startswith("#"):
            break
        if line.startswith("|"):
            block.append(line)
    return block


def test_one_markdown_table_per_guide_table(run: Run, registry: Registry) -> None:
    text = markdown(run, registry)
    assert [line for line in text.splitlines() if line.startswith("### ")] == [
        "### Overview", "### Again", "### Out"]
    overview = table_block(text, "Overview")
    assert overview[0] == "| method | source address preserved | minimum port number |"
    # rows are the methods' titles, and ids where there is no method of that name
    assert [row.split("|")[1].strip() for row in overview[2:]] == [
        "pasta", "host", "software-x"]


def test_cells_show_observations_and_flag_differences(run: Run, registry: Registry) -> None:
    text = markdown(run, registry)
    pasta, host, other = table_block(text, "Overview")[2:]
    assert "tcp: ✔ · udp: ✘ (guide: ✔) ⚠" in pasta
    assert "| 1024 |" in pasta
    assert "n/a[^1]" in host and "skipped[^2]" in host
    assert other == "| software-x |  |  |"
    assert ("[^1]: not applicable: the guide's statement needs podman < 6.0; "
            "this target has 6.0.0") in text
    assert "[^2]: skipped: needs root" in text


def test_a_table_without_own_claims_shows_the_same_column_elsewhere(
        run: Run, registry: Registry) -> None:
    again = table_block(markdown(run, registry), "Again")
    assert again[2] == "| pasta | tcp: ✔ · udp: ✘ (guide: ✔) ⚠ |"


def test_tables_keyed_by_row_show_comments_and_name_several_claims(
        run: Run, registry: Registry) -> None:
    run.results += [result("out.localhost.pasta", "passed", True, True),
                    result("out.localhost.pasta-map-host-loopback", "failed", True, False)]
    pasta, slirp = table_block(markdown(run, registry), "Out")[2:]
    # the inbound column is not borrowed by an outbound table
    assert pasta == ("| pasta |  | pasta: ✔ · pasta-map-host-loopback: ✘ (guide: ✔) ⚠ "
                     "| with --map-gw |")
    assert slirp == "| slirp4netns |  |  |  |"


def test_claims_not_run_show_the_guide(registry: Registry) -> None:
    empty = Run("20260101T000000Z-000000", 0.0)
    pasta = table_block(markdown(empty, registry), "Overview")[2]
    assert pasta == "| pasta | not run (guide: ✔) | not run (guide: 1024) |"


def test_claim_list_and_environment(run: Run, registry: Registry) -> None:
    text = markdown(run, registry)
    # the claim list speaks the guide's words, the claim id small beside the statement
    assert ("| pasta preserves the source address <sub>`src.pasta`</sub> | udp | preserved "
            "| differs: not preserved ⚠ | Inbound > Overview |") in text
    assert "| versions.podman | 5.4.2 |" in text
    assert "5 (2 passed, 1 failed, 1 not applicable, 1 skipped)" in text


def test_render_run_on_a_recorded_run(tmp_path: Path) -> None:
    run_dir = recorded.new_run(tmp_path / "run")
    paths = render_run(run_dir)
    assert [p.name for p in paths] == [
        "report.md", "report.html", "results.csv", "measurements.csv"]
    assert all(p.parent == run_dir and p.stat().st_size > 0 for p in paths)

    text = (run_dir / "report.md").read_text()
    registry_tables = guide_tables(store.load(run_dir))
    tables = text.split("## The guide's tables, as observed", 1)[1].split("\n## ", 1)[0]
    headings = [line[4:] for line in tables.splitlines() if line.startswith("### ")]
    assert headings == [t.title for t in registry_tables]
    assert "| pasta | tcp: ✔ · udp: ✘ (guide: ✔) ⚠ |" in text
    assert "## Performance relative to the reference" in text

    page = (run_dir / "report.html").read_text()
    assert page.count("<table>") >= len(registry_tables)
    assert "data:image/png;base64," in page
    assert "http://" not in page and "https://" not in page  # self-contained


def test_csv_files(tmp_path: Path) -> None:
    run_dir = recorded.new_run(tmp_path / "run")
    render_run(run_dir)
    record = json.loads((run_dir / "run.json").read_text())

    results = pd.read_csv(run_dir / "results.csv", dtype=str, keep_default_na=False)
    assert len(results) == len(record["results"])
    udp = results[(results.claim_id == "inbound.source-address.pasta")
                  & (results.protocol == "udp")].iloc[0]
    assert (udp.outcome, udp.expected, udp.observed) == ("failed", "true", "false")
    assert udp.table == "inbound-overview"
    assert json.loads(udp.evidence)["observed_peer"] == "10.0.2.2"

    samples = pd.read_csv(run_dir / "measurements.csv")
    assert len(samples) == len(record["measurements"])
    assert set(samples.kind) == {"latency"}
    assert samples.value.sum() == pytest.approx(
        sum(m["value"] for m in record["measurements"]))


def test_a_png_in_the_run_directory_is_embedded(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    shutil.copy(FIXTURES / "base" / "run.json", run_dir / "run.json")
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000005000105fe0ab20000000049454e44ae426082")
    (run_dir / "throughput-inbound.png").write_bytes(png)
    render_run(run_dir)
    page = (run_dir / "report.html").read_text()
    assert 'alt="throughput-inbound"' in page
    assert 'alt="latency"' in page


@pytest.mark.parametrize(("content", "message"), [
    (None, "is not a run directory"),
    ("{not json", "is not valid JSON"),
    ("[]", "expected a JSON object"),
    ('{"schema": "other"}', "is not a podnet run record"),
    ('{"schema": "podnet.run", "schema_version": 99}', "schema version 99"),
    ('{"schema": "podnet.run", "schema_version": 1}', "the run lacks 'run_id'"),
    ('{"schema": "podnet.run", "schema_version": 1, "run_id": "r", "started": "today"}',
     "started should be int or float, not str"),
    ('{"schema": "podnet.run", "schema_version": 1, "run_id": "r", "started": 0, '
     '"results": {}}', "results should be list"),
    ('{"schema": "podnet.run", "schema_version": 1, "run_id": "r", "started": 0, '
     '"results": [{"claim_id": "c", "section": "s", "statement": "t", "expected": 1, '
     '"observed": 1, "outcome": "maybe"}]}', r"results\[0\].outcome is 'maybe'"),
    ('{"schema": "podnet.run", "schema_version": 1, "run_id": "r", "started": 0, '
     '"measurements": [{"kind": "latency", "method": "m", "value": "3", "unit": "ms"}]}',
     r"measurements\[0\].value should be int or float, not str"),
])
def test_malformed_run_directories_give_one_clear_line(tmp_path: Path, content: str | None,
                                                       message: str) -> None:
    if content is not None:
        (tmp_path / "run.json").write_text(content)
    with pytest.raises(PodnetError, match=message) as info:
        render_run(tmp_path)
    assert "\n" not in str(info.value)
    assert not (tmp_path / "report.md").exists()


def test_failed_samples_recorded_as_nan_render(tmp_path: Path) -> None:
    run = store.load(FIXTURES / "base")
    run.measurements[0].value = float("nan")
    store.save(run, tmp_path)
    render_run(tmp_path)
    assert pd.isna(pd.read_csv(tmp_path / "measurements.csv").value[0])
    assert 'alt="latency"' in (tmp_path / "report.html").read_text()
