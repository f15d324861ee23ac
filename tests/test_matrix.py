from pathlib import Path

from harness.matrix import Column, changes, render_matrix
from harness.results import store
from harness.results.schema import ClaimResult, Run


def _run(run_id: str, release: str, podman: str, outcome: str, observed: object) -> Run:
    result = ClaimResult(
        claim_id="inbound.source-address.pasta-custom-network", section="Overview",
        statement="pasta + custom network does not preserve the source address",
        expected=False, observed=observed, outcome=outcome, protocol="tcp",
    )
    return Run(run_id, 0.0, {"release": release, "versions": {"podman": podman, "pasta": "x"}},
               [result])


def test_changes_name_the_column_where_a_claim_flips() -> None:
    cols = [Column(_run("a", "trixie", "5.4.2", "passed", False)),
            Column(_run("b", "sid", "5.8.6", "failed", True))]
    found = changes(cols, ["inbound.source-address.pasta-custom-network [tcp]"])
    assert found == ["inbound.source-address.pasta-custom-network [tcp]: passed on trixie "
                     "(podman 5.4.2, pasta x) → failed on sid (podman 5.8.6, pasta x)"]


def test_render_matrix_writes_markdown_and_html(tmp_path: Path) -> None:
    dirs = []
    for run in (_run("a", "trixie", "5.4.2", "passed", False),
                _run("b", "experimental", "6.1.1", "not_applicable", None)):
        store.save(run, tmp_path / run.run_id)
        dirs.append(tmp_path / run.run_id)
    md, page = render_matrix(dirs, tmp_path)
    text = md.read_text()
    assert "| inbound.source-address.pasta-custom-network [tcp] | ✔ holds (False) | n/a |" in text
    assert "passed on trixie" in text
    assert "<table>" in page.read_text()
