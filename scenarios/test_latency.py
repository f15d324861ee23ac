"""Request latency per inbound method.

What is measured: the time of one HTTP GET on a new TCP connection from host2 to the
method's nginx on host1, from before ``connect`` to the end of the reply (the server
closes: ``Connection: close``). The client runs in host2's network namespace
(:mod:`harness.bench.httpget`, one process for all requests of a method) and times
each request itself with ``perf_counter``; process start-up of ``ip netns exec`` is
not part of any sample. The samples are podnet's own run record (``Measurement``
of kind ``latency``, one per request); the reports derive their statistics. pytest-benchmark
is not used: its public API times a callable in the pytest process, which here would
time ``ip netns exec`` and interpreter start-up instead of the request.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness.bench import httpget
from harness.capabilities import Capabilities
from harness.claims import load_default
from harness.clients.base import Client
from harness.methods import Method, all_methods
from harness.results.recorder import Recorder
from harness.results.schema import Measurement
from harness.services import serve
from harness.targets.base import Target

pytestmark = [pytest.mark.lab, pytest.mark.latency]

HTTPGET = Path(httpget.__file__)
METHODS = [all_methods()[c.method] for c in load_default().select(
    "native_performance", table="inbound-overview") if c.method]


#: Rounds of requests without --rounds (40 requests each).
ROUNDS = 5


def _requests(pytestconfig: pytest.Config) -> int:
    rounds = pytestconfig.getoption("--rounds") or ROUNDS
    return 20 if pytestconfig.getoption("--quick") else 40 * rounds


@pytest.mark.parametrize("method", [
    pytest.param(m, id=m.id, marks=[getattr(pytest.mark, f) for f in m.families])
    for m in METHODS])
def test_request_latency(method: Method, target: Target, client: Client,
                         recorder: Recorder, capabilities: Capabilities,
                         pytestconfig: pytest.Config) -> None:
    if missing := capabilities.first_missing(method.requires):
        pytest.skip(missing)
    count = _requests(pytestconfig)
    with serve(target, method, client) as service:
        done = client.run([sys.executable, str(HTTPGET), target.main_address,
                           str(service.port), str(count)], check=False, timeout=60 + count)
    out = Client._parse(done)
    seconds: list[float] = out.get("seconds", [])
    assert "error" not in out and len(seconds) == count, f"requests failed: {out}"
    assert set(out["statuses"]) == {200}, f"unexpected statuses {set(out['statuses'])}"
    for i, value in enumerate(seconds):
        recorder.measure(Measurement("latency", method.id, value, "s", "inbound", "tcp", i + 1,
                                     {"what": "HTTP GET on a new connection, client-timed"}))
