"""harness.wait.poll: bounded polling, never a fixed sleep."""

from __future__ import annotations

import time

import pytest

from harness.errors import PodnetError
from harness.wait import NotReady, logged, poll


def test_returns_the_first_value() -> None:
    calls = iter([None, False, "", 0, "ready"])
    # "" and 0 are values too: only None and False mean "not yet".
    assert poll(lambda: next(calls), what="x", interval=0.001) == ""


def test_returns_after_retries() -> None:
    values = iter([None, None, False, {"port": 8080}])
    assert poll(lambda: next(values), what="x", interval=0.001) == {"port": 8080}


def test_times_out_naming_what() -> None:
    started = time.monotonic()
    with pytest.raises(NotReady) as info:
        poll(lambda: None, what="nginx on 192.0.2.1:8080", timeout=0.2, interval=0.01)
    elapsed = time.monotonic() - started
    assert 0.2 <= elapsed < 2
    assert str(info.value) == "timed out after 0.2 s waiting for nginx on 192.0.2.1:8080"
    assert isinstance(info.value, PodnetError)


def test_reports_the_last_error() -> None:
    attempts = []

    def check() -> None:
        attempts.append(1)
        raise ConnectionRefusedError(f"attempt {len(attempts)}")

    with pytest.raises(NotReady) as info:
        poll(check, what="the agent", timeout=0.1, interval=0.01)
    assert "waiting for the agent (last error: attempt " in str(info.value)
    assert str(info.value).endswith(f"attempt {len(attempts)})")
    assert len(attempts) >= 2


def test_errors_then_success() -> None:
    values = iter([OSError("not yet"), OSError("still not"), 7])

    def check() -> int:
        value = next(values)
        if isinstance(value, Exception):
            raise value
        return value

    assert poll(check, what="x", interval=0.001) == 7


class FakeClock:
    """Stands in for the time module of harness.wait: sleeping advances the clock."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_interval_grows_to_the_maximum(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr("harness.wait.time", clock)
    with pytest.raises(NotReady):
        poll(lambda: None, what="x", timeout=2.0, interval=0.1, max_interval=0.3)
    assert clock.sleeps[:4] == pytest.approx([0.1, 0.15, 0.225, 0.3])
    assert set(clock.sleeps[3:]) == {0.3}
    assert clock.now - 1000.0 == pytest.approx(sum(clock.sleeps))
    assert 2.0 <= sum(clock.sleeps) < 2.0 + 0.3


def test_logged_reads_until_the_line_is_there() -> None:
    """A request's log line written a moment after the reply is found, not missed."""
    reads = iter(["", "GET /other", "GET /?probe=ab12"])
    found = logged(lambda: text if "ab12" in (text := next(reads)) else None,
                   what="the line", timeout=5)
    assert found == "GET /?probe=ab12"


def test_logged_gives_none_after_its_bound() -> None:
    started = time.monotonic()
    assert logged(lambda: None, what="the line", timeout=0.2) is None
    assert time.monotonic() - started < 2
