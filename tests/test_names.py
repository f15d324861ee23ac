"""Names that become paths, units, namespaces and shell words are validated in one place."""

from __future__ import annotations

import pytest

from harness import names
from harness.errors import UsageError


@pytest.mark.parametrize("good", ["podnet", "ci-1", "lab.2", "a_b", "x" * 24])
def test_good_lab_names(good: str) -> None:
    assert names.lab_name(good) == good


@pytest.mark.parametrize("bad", ["", "..", ".", "/", "../x", "a/b", "-rf", "a b", "a;b",
                                 "$(id)", "x" * 25, ".hidden", "a..b", "é"])
def test_bad_lab_names(bad: str) -> None:
    with pytest.raises(UsageError, match="invalid lab name"):
        names.lab_name(bad)


@pytest.mark.parametrize("bad", ["..", "../../etc", "/tmp/x", "a/b", "", "x" * 65])
def test_bad_run_ids(bad: str) -> None:
    with pytest.raises(UsageError, match="invalid run id"):
        names.run_id(bad)


def test_good_run_id() -> None:
    assert names.run_id("20261128T125000Z-a1b2c3") == "20261128T125000Z-a1b2c3"


@pytest.mark.parametrize("bad", ["", "relative/dir", "/", "/var", "/var/../etc/x",
                                 "/var/lib/./podnet"])
def test_bad_roots(bad: str) -> None:
    with pytest.raises(UsageError, match="PODNET_DATA_DIR"):
        names.root_dir("PODNET_DATA_DIR", bad)


def test_good_root() -> None:
    assert str(names.root_dir("PODNET_DATA_DIR", "/var/lib/podnet")) == "/var/lib/podnet"
