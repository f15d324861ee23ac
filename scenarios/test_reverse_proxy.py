"""The guide's "HTTP reverse proxy" table: caddy, nginx and traefik, socket-activated
from a quadlet .container plus .socket pair, on a custom network in front of a backend.

Per proxy: socket activation (the proxy serves host2 on the socket systemd created and
passes, with no listener of its own) and the client's address through it; systemd
notify (Notify=true, bounded by TimeoutStartSec); and the caveat of the comment column,
measured.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from harness.capabilities import Capabilities
from harness.claims import Claim, Registry, load_default
from harness.clients.base import Client
from harness.probes import nginx_log
from harness.proxies import sockets
from harness.proxies.images import ensure_image, proxy_version
from harness.proxies.specs import CADDY_RELOAD_FROM_CONFIG, PROXIES, caddy_admin_fd
from harness.proxies.startup import start_and_poll
from harness.proxies.units import ProxyUnit, deploy
from harness.results.recorder import ClaimMismatch, NoObservation, Recorder
from harness.results.schema import Measurement
from harness.services import ACTIVATION_WAIT
from harness.targets.base import Target
from harness.wait import LOG_WAIT, NotReady, logged, poll

pytestmark = [pytest.mark.lab, pytest.mark.reverse_proxy, pytest.mark.socket_activation,
              pytest.mark.custom_network]

PORT = 8080
#: TimeoutStartSec of the Notify=true units: a proxy that never sends READY=1 fails here.
NOTIFY_TIMEOUT = 6.0
#: The second socket of caddy issue 6631's setup (the admin endpoint, fd 4).
ADMIN_LISTEN = "127.0.0.1:2019"
VERSION_KEYS = {"caddy": "caddy", "nginx": "nginx-proxy", "traefik": "traefik"}
CLAIMS = load_default()


def _params(prop: str) -> list[Any]:
    return [pytest.param(c, id=c.method) for c in CLAIMS.select(prop)]


@pytest.fixture(scope="module")
def images(target: Target, recorder: Recorder, environment: dict[str, Any]) -> dict[str, str]:
    """Each proxy's image (built once per version), its version recorded in the run."""
    built = {}
    versions = recorder.run.environment.setdefault("versions", {})
    for proxy in PROXIES.values():
        built[proxy.id] = ensure_image(target, proxy)
        versions[VERSION_KEYS[proxy.id]] = proxy_version(target, proxy, built[proxy.id])
    return built


def _check_all(recorder: Recorder, checks: list[tuple[Claim, Any, dict[str, Any]]]) -> None:
    """Record every claim, then fail with all mismatches."""
    failures = []
    for claim, observed, evidence in checks:
        try:
            recorder.check(claim, observed, evidence=evidence)
        except ClaimMismatch as exc:
            failures.append(str(exc))
    if failures:
        raise ClaimMismatch("\n".join(failures))


def _get(client: Client, target: Target, token: str, timeout: float = 5.0) -> Any:
    return client.http_get(f"http://{target.main_address}:{PORT}/?probe={token}", timeout=timeout)


def _version(recorder: Recorder, proxy_id: str) -> str:
    return str(recorder.run.environment.get("versions", {}).get(VERSION_KEYS[proxy_id], ""))


@pytest.fixture
def unit_factory(target: Target, images: dict[str, str]) -> Iterator[Any]:
    yield lambda proxy_id, **kw: deploy(target, PROXIES[proxy_id], images[proxy_id],
                                        port=PORT, **kw)


@pytest.mark.source_address
@pytest.mark.parametrize("claim", _params("proxy_socket_activation"))
@pytest.mark.claims(same_method="proxy_forwards_client_address")
def test_socket_activation(claim: Claim, target: Target, client: Client, recorder: Recorder,
                           registry: Registry, applicable: Any, unit_factory: Any) -> None:
    applicable(claim)
    proxy = PROXIES[claim.method or ""]
    address_claim = registry.select("proxy_forwards_client_address", method=proxy.id)[0]
    token = secrets.token_hex(4)
    with unit_factory(proxy.id) as unit:
        # The first connection starts the service (socket activation); it waits in the
        # socket's queue until the proxy accepts it.
        reply = poll(lambda: (r := _get(client, target, token, ACTIVATION_WAIT)).ok and r,
                     what=f"{proxy.id} through the socket to answer 200", timeout=30)
        evidence = _inherited(target, unit)
        proxy_entry = logged(lambda: nginx_log.find_request(unit.logs(), token),
                             what=f"{proxy.id}'s log line for probe {token}")
        backend_entry = logged(lambda: nginx_log.find_request(unit.logs(unit.backend), token),
                               what=f"the backend's log line for probe {token}")
    evidence.update(version=_version(recorder, proxy.id), status=reply.status)
    socket_activated = bool(evidence["proxy_holds_socket"] and evidence["systemd_holds_socket"]
                            and not evidence["own_listener"])
    address = {
        "client_address": client.address,
        "proxy_log_peer": proxy_entry.peer if proxy_entry else None,
        "proxy_log_line": proxy_entry.line[:600] if proxy_entry else None,
        "backend_forwarded_for": backend_entry.forwarded_for if backend_entry else None,
        "backend_log_line": backend_entry.line if backend_entry else None,
    }
    forwarded = (address["proxy_log_peer"] == client.address
                 and address["backend_forwarded_for"] == client.address)
    _check_all(recorder, [(claim, socket_activated, evidence),
                          (address_claim, forwarded, address)])


def _inherited(target: Target, unit: ProxyUnit) -> dict[str, Any]:
    """Whether the listener on the port is systemd's, shared with the proxy process, and
    whether the proxy has a listener of its own in its network namespace."""
    pid = unit.pid()
    text, holders = sockets.listeners(target, PORT)
    everyone = [h for socket in holders for h in socket]
    own = sockets.own_listeners(target, unit.container, PORT)
    return {
        "ss_host": text,
        "proxy_pid": pid,
        "proxy_holds_socket": any(h.pid == pid for h in everyone),
        "systemd_holds_socket": any(h.name == "systemd" for h in everyone),
        "own_listener": own,
    }


@pytest.mark.parametrize("claim", _params("proxy_systemd_notify"))
def test_notify(claim: Claim, target: Target, recorder: Recorder, applicable: Any,
                unit_factory: Any) -> None:
    applicable(claim)
    observed, evidence = _notify_start(unit_factory, claim.method)
    evidence["version"] = _version(recorder, claim.method or "")
    recorder.check(claim, observed, evidence=evidence)


def _notify_start(unit_factory: Any, proxy_id: str | None,
                  **kw: Any) -> tuple[bool, dict[str, Any]]:
    with unit_factory(proxy_id, notify=True, timeout_start=NOTIFY_TIMEOUT, **kw) as unit:
        startup, _ = start_and_poll(unit, NOTIFY_TIMEOUT)
        state = unit.state()
    evidence = {**startup.summary(), "timeout_start_sec": NOTIFY_TIMEOUT,
                "state_after_start": state}
    return notify_observation(startup.active, state), evidence


def notify_observation(start_ok: bool, state: dict[str, str]) -> bool:
    """True when the Notify=true unit became active (READY=1 arrived); False only when
    systemd reports that the start timed out waiting for it (Result=timeout). A unit
    that failed otherwise (exit code, signal, ...) raises :class:`NoObservation`."""
    if start_ok and state.get("ActiveState") == "active":
        return True
    if not start_ok and state.get("Result") == "timeout":
        return False
    raise NoObservation(f"the unit neither became active nor timed out waiting for READY=1: "
                        f"systemd reports {state}")


def broken_nginx(backend: str, port: int) -> dict[str, str]:
    """A configuration nginx refuses at startup (the wrong world of the notify check)."""
    return {"default.conf": "server { listen; }\n"}


def test_notify_check_rejects_a_failing_unit(unit_factory: Any,
                                             capabilities: Capabilities) -> None:
    """The wrong world: nginx with a configuration it refuses fails on its own, before
    any notify timeout; the notify check must not count that as "no notify support"."""
    if missing := capabilities.first_missing(["systemd-user", "quadlet"]):
        pytest.skip(missing)
    with pytest.raises(NoObservation, match="exit-code"):
        _notify_start(unit_factory, "nginx", configs=broken_nginx)


@pytest.mark.parametrize("claim", _params("proxy_reload_keeps_serving"))
def test_reload(claim: Claim, target: Target, client: Client, recorder: Recorder,
                applicable: Any, unit_factory: Any) -> None:
    """caddy: ``systemctl --user reload``, then a request on the inherited socket.

    Judged in the setup of the guide's linked example (podman-caddy-socket-activation:
    the admin endpoint on a Unix socket inside the container, ``caddy reload`` through
    it). The setup of caddy issue 6631 (the admin endpoint on a second inherited socket,
    ``caddy reload`` taking its address from the Caddyfile) is run too and recorded as a
    separate finding: a measurement and labelled evidence, never this claim's verdict."""
    applicable(claim)
    described = _reload(target, client, unit_factory, claim.method)
    issue = _reload(target, client, unit_factory, claim.method,
                    configs=caddy_admin_fd, extra_listen=ADMIN_LISTEN,
                    reload_cmd=CADDY_RELOAD_FROM_CONFIG)
    recorder.measure(reload_finding(claim.method or "", issue))
    evidence = {"guide_example_setup": described,
                "finding_issue_6631_setup (not judged)": issue,
                "version": _version(recorder, claim.method or "")}
    recorder.check(claim, reload_works(described), evidence=evidence)


#: caddy's own error, logged as JSON by ``caddy reload`` (ExecReload) in the unit's journal.
CADDY_ERROR = '"level":"error"'


def reload_works(setup: dict[str, Any]) -> bool:
    """A reload worked: ``systemctl reload`` succeeded and the proxy still serves. It did
    not: the proxy stopped serving after it, or caddy itself refused the reload (its error
    in the journal). A reload that failed without a word from caddy (systemd refusing it,
    the unit not running) is no observation."""
    if setup["reload_ok"]:
        return bool(setup["serves_after_reload"])
    if CADDY_ERROR in (setup["reload_error"] or ""):
        return False
    raise NoObservation(f"the reload failed (exit {setup['reload_rc']}) without an error of "
                        f"caddy's own: {setup['reload_error'] or 'nothing in the journal'}")


def reload_finding(proxy_id: str, setup: dict[str, Any]) -> Measurement:
    """The other setup's result, as a labelled measurement (1: reload worked)."""
    works = bool(setup["reload_ok"] and setup["serves_after_reload"])
    return Measurement(kind="finding", method=proxy_id, value=float(works),
                       unit="reload works (1) / fails (0)", extra={
                           "finding": "caddy reload in the setup of caddy issue 6631",
                           "reload_rc": setup["reload_rc"],
                           "status_after_reload": setup["status_after_reload"],
                           "reload_error": setup["reload_error"]})


def _reload(target: Target, client: Client, unit_factory: Any, proxy_id: str | None,
            **kw: Any) -> dict[str, Any]:
    with unit_factory(proxy_id, notify=True, timeout_start=NOTIFY_TIMEOUT, **kw) as unit:
        startup, _ = start_and_poll(unit, NOTIFY_TIMEOUT)
        assert startup.seconds_to_200 is not None, f"{proxy_id} never answered 200: {startup}"
        reload = target.systemctl_user("reload", unit.service, check=False, timeout=30)
        token = secrets.token_hex(4)
        reply = _get(client, target, token, timeout=3)
        entry = logged(lambda: nginx_log.find_request(unit.logs(), token),
                       what=f"{unit.proxy.id}'s log line for probe {token}",
                       timeout=LOG_WAIT if reply.ok else 0)
        return {"reload_ok": reload.ok, "reload_rc": reload.returncode,
                "reload_error": _reload_error(target.run(
                    ["journalctl", "--user", "-u", unit.service, "-n", "30", "--no-pager"],
                    check=False).stdout),
                "serves_after_reload": reply.ok, "status_after_reload": reply.status,
                "error_after_reload": reply.error, "state_after_reload": unit.state(),
                "proxy_log_line": entry.line[:400] if entry else None,
                "inherited": _inherited(target, unit)}


def _reload_error(logs: str) -> str | None:
    lines = [line for line in logs.splitlines() if "Error" in line or "error" in line]
    return lines[-1][:400] if lines else None


@pytest.mark.parametrize("claim", _params("proxy_socket_activation_needs_env"))
def test_needs_env(claim: Claim, target: Target, client: Client, recorder: Recorder,
                   applicable: Any, unit_factory: Any) -> None:
    """nginx without NGINX=3;: does it still serve on the inherited socket?

    The first request starts the service; "not served" is judged only once nginx is
    running and listening on its own socket (it started, it did not take the inherited
    one), with a second request. Control: the same units with the variable serve."""
    applicable(claim)
    with unit_factory(claim.method) as unit:
        control = poll(lambda: (r := _get(client, target, secrets.token_hex(4))).ok and r,
                       what="nginx with NGINX=3; to answer 200", timeout=30)
    with unit_factory(claim.method, environment=()) as unit:
        first = _get(client, target, secrets.token_hex(4), timeout=4)
        listening = _own_listener(target, unit)
        reply = _get(client, target, secrets.token_hex(4), timeout=4)
        state = unit.state()
    evidence: dict[str, Any] = {
        "control_status_with_env": control.status, "first_status_without_env": first.status,
        "status_without_env": reply.status, "error_without_env": reply.error,
        "state": state, "own_listener": listening,
        "version": _version(recorder, claim.method or "")}
    recorder.check(claim, needs_env_observed(control.ok, reply.ok, state, listening),
                   evidence=evidence)


def _own_listener(target: Target, unit: ProxyUnit) -> str:
    """nginx's own listening socket in its container, once there is one ("" if none came
    within the bound: nginx never got that far)."""
    def listening() -> str | None:
        if unit.state().get("ActiveState") != "active":
            return None
        found = sockets.own_listeners(target, unit.container, PORT)
        return found if "LISTEN" in found else None

    try:
        return poll(listening, what="nginx's own listener", timeout=30)
    except NotReady:
        return ""


def needs_env_observed(control_served: bool, served: bool, state: dict[str, str],
                       own_listener: str) -> bool:
    """nginx needs the variable: with it the units serve (control); without it nginx runs,
    listening on a socket of its own, and the inherited socket is not served."""
    return sockets.inherited_socket_ignored(control_served, served,
                                            state.get("ActiveState") == "active", own_listener,
                                            "nginx without the variable")


@pytest.mark.parametrize("claim", _params("proxy_not_found_after_ready"))
def test_not_found_after_ready(claim: Claim, target: Target, recorder: Recorder,
                               applicable: Any, unit_factory: Any) -> None:
    """traefik: from the moment the Notify=true unit is active, 404s before the first 200?"""
    applicable(claim)
    with unit_factory(claim.method, notify=True, timeout_start=NOTIFY_TIMEOUT) as unit:
        startup, _ = start_and_poll(unit, NOTIFY_TIMEOUT)
    assert startup.active, f"{claim.method} did not become active: {startup.summary()}"
    evidence = {**startup.summary(), "version": _version(recorder, claim.method or "")}
    recorder.check(claim, startup.not_found > 0, evidence=evidence)
