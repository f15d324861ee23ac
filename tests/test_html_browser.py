"""report.html in headless Chromium: no console errors, every chart decoded.

The page's inline script sets ``<html data-images="ok:N">`` on load when all N images
decoded (``naturalWidth > 0``), or ``broken:<alt,...>``; ``--dump-dom`` shows it.
Chromium logs every console message (and uncaught exception) as a ``CONSOLE`` line
with ``--enable-logging=stderr``; the report writes none.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.reports import render_run
from tests import recorded

FIXTURES = Path(__file__).parent / "fixtures" / "runs"


def _runnable_chromium() -> str | None:
    """Debian's chromium, or a chromium-browser that runs (Ubuntu's deb of that name only
    points at a snap and fails without it)."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path and subprocess.run([path, "--version"], capture_output=True, timeout=30,
                                   check=False).returncode == 0:
            return path
    return None


CHROMIUM = _runnable_chromium()

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium that runs here, so the browser check is optional: "
    "on Debian apt-get install chromium; Ubuntu ships Chromium only as a snap, which "
    "scripts/bootstrap does not install")


def load_page(page: Path, tmp_path: Path) -> tuple[str, list[str]]:
    """The DOM after load and the console lines Chromium logged for ``page``."""
    assert CHROMIUM is not None
    profile = tmp_path / "profile"
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
         "--dump-dom", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, f"chromium exited {done.returncode}: {done.stderr[-2000:]}"
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return done.stdout, console


def images_state(dom: str) -> str:
    match = re.search(r'<html[^>]*\sdata-images="([^"]*)"', dom)
    assert match, "the page's load script did not run (no data-images on <html>)"
    return match.group(1)


@pytest.fixture
def report(tmp_path: Path) -> Path:
    run_dir = recorded.new_run(tmp_path / "run")
    render_run(run_dir)
    return run_dir / "report.html"


def test_report_loads_without_console_errors_and_charts_decode(report: Path,
                                                               tmp_path: Path) -> None:
    dom, console = load_page(report, tmp_path)
    assert console == []
    state = images_state(dom)
    assert state.startswith("ok:"), state
    assert int(state.split(":")[1]) >= 1, "no chart <img> in the report"
    assert 'alt="latency"' in dom
    assert "udp: ✘ (guide: ✔) ⚠" in dom


def test_the_check_sees_console_errors_and_broken_images(report: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.html"
    broken.write_text(report.read_text().replace(
        "</body>",
        '<img alt="bad" src="data:image/png;base64,AAAA">'
        "<script>console.error('boom'); notDefined();</script></body>"))
    dom, console = load_page(broken, tmp_path)
    assert any("boom" in line for line in console)
    assert any("notDefined" in line for line in console)
    assert images_state(dom) == "broken:bad"
