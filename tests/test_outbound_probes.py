"""harness.probes.outbound and harness.outbound_params on output recorded in the lab."""

from __future__ import annotations

from pathlib import Path

from harness.claims import Claim
from harness.outbound_params import expand, params, run_args, urls
from harness.probes.outbound import (
    fetch_script,
    hosts_entries,
    parse_fetch_output,
)
from harness.probes.procs import option_values

FIXTURES = Path(__file__).parent / "fixtures" / "outbound"


def _claim(**extra: object) -> Claim:
    return Claim(id="outbound.x.y", section="s", anchor="#s", statement="t",
                 property="reaches_host_localhost", expected=True, method="pasta", extra=extra)


def test_fetch_script_tries_every_url_with_the_gateway_substituted_in_the_container() -> None:
    script = fetch_script(["http://{gateway}:1/a", "http://127.0.0.1:2/b"], 1.5)
    assert 'curl -s -4 -m 1.5 "http://${gw}:1/a"' in script
    assert 'echo "result http://{gateway}:1/a $rc' in script
    assert "ip -4 route show default" in script
    assert script.count("curl ") == 2


def test_parse_failed_fetches_and_etc_hosts() -> None:
    result = parse_fetch_output((FIXTURES / "fetch-pasta-5.4.2.txt").read_text())
    assert result.gateway == "192.0.2.10"
    assert [a.curl_exit for a in result.attempts] == [7, 7, 7]
    assert not result.reached("podnet-token")
    assert hosts_entries(result.etc_hosts)["example.com"] == "169.254.1.2"
    assert hosts_entries(result.etc_hosts)["host.docker.internal"] == "169.254.1.2"
    assert "curl exit 7" in result.evidence()["attempts"]


def test_parse_answered_fetch_needs_the_exact_token() -> None:
    result = parse_fetch_output((FIXTURES / "fetch-pasta-map-gw-5.4.2.txt").read_text())
    assert [a.curl_exit for a in result.attempts] == [0, 28]
    assert result.reached("podnet-dfeff75cbb84")
    assert not result.reached("podnet-dfeff75cbb8")
    assert not result.reached("other")


def test_hosts_entries_first_line_wins_and_comments_are_ignored() -> None:
    text = "# c\n10.0.0.1 a b # x\n10.0.0.2 a\n\n"
    assert hosts_entries(text) == {"a": "10.0.0.1", "b": "10.0.0.1"}


def test_pasta_command_line_from_ps() -> None:
    lines = [line.split() for line in (FIXTURES / "ps-args-pasta-5.4.2.txt").read_text()
             .splitlines() if line.startswith("/usr/bin/pasta")]
    assert len(lines) == 1
    assert option_values(lines[0], "--map-guest-addr") == ["169.254.1.2"]
    assert option_values(["pasta", "--map-guest-addr=203.0.113.2"], "--map-guest-addr") == [
        "203.0.113.2"]
    assert option_values(lines[0], "--map-host-loopback") == []


def test_urls_expand_placeholders_and_add_the_server_port() -> None:
    claim = _claim(connect=["{main_address}", "127.0.0.1:18090", "{gateway}"],
                   run_args=["--add-host=example.com:{main_address}"])
    values = {"main_address": "192.0.2.1", "port": 8080}
    assert urls(claim, 8080, "/t", values) == [
        "http://192.0.2.1:8080/t", "http://127.0.0.1:18090/t", "http://{gateway}:8080/t"]
    assert run_args(claim, values) == ["--add-host=example.com:192.0.2.1"]
    assert expand("pasta:-T,18090:{port}", values) == "pasta:-T,18090:8080"


def test_params_ids_and_security_mark() -> None:
    (param,) = params([_claim(security=True)])
    assert param.id == "x.y"
    assert {m.name for m in param.marks} == {"pasta", "security"}


def test_udp_urls_are_one_datagram_with_socat() -> None:
    claim = Claim(id="t", section="s", anchor="#s", statement="x", property="p", expected=True,
                  protocols=("udp",), extra={"connect": ["{gateway}", "10.0.2.2:53"]})
    found = urls(claim, 18083, "/tok", {})
    assert found == ["udp://{gateway}:18083", "udp://10.0.2.2:53"]
    script = fetch_script(found, 2)
    assert 'socat -t2 -T2 - "UDP4:${gw}:18083"' in script
    assert "curl" not in script.split("hosts-begin")[0]


def test_udp_reply_from_another_responder_or_a_refusal_is_not_reached() -> None:
    """The wrong worlds of the UDP claims: the datagram is refused (ICMP, socat exits 1),
    nothing answers, or something else answers."""
    out = ("gateway 192.0.2.10\n"
           "result udp://{gateway}:18083 1 \n"
           "result udp://10.0.2.2:18083 0 \n"
           "result udp://127.0.0.1:18083 0 other-token\n")
    result = parse_fetch_output(out)
    assert not result.reached("podnet-tok")
    assert "socat exit 1" in result.evidence()["attempts"]
    assert parse_fetch_output("result udp://127.0.0.1:18083 0 podnet-tok\n").reached("podnet-tok")
