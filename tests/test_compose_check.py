"""The compose example's check in its wrong worlds: the guide's form failing where the
control reaches the server fails the claim; both failing is no observation; and the
compose file carries what the check is about and the session's label."""

from __future__ import annotations

import pytest

from harness.results.recorder import NoObservation
from harness.sessions.ownership import LABEL
from scenarios.test_compose import (
    CONTROL_FORM,
    GUIDE_FORM,
    ComposeRun,
    compose_equivalent,
    compose_file,
)

#: What podman-compose 1.3.0 printed with podman 5.4.2 (trixie) for the guide's form.
BAD_FORMAT = 'Error: bad format for add-host: "myhost.example.com=host-gateway"'


def _run(form: str, reached: bool, said: str = "") -> ComposeRun:
    return ComposeRun(form, 0 if reached else 125, reached, said)


def test_the_guides_form_reaching_the_server_holds() -> None:
    assert compose_equivalent(_run(GUIDE_FORM, True), _run(CONTROL_FORM, True))


def test_the_guides_form_refused_while_the_control_reaches_fails() -> None:
    assert not compose_equivalent(_run(GUIDE_FORM, False, BAD_FORMAT),
                                  _run(CONTROL_FORM, True))


def test_a_compose_tool_that_reaches_nothing_is_no_observation() -> None:
    with pytest.raises(NoObservation, match="did not succeed either"):
        compose_equivalent(_run(GUIDE_FORM, False), _run(CONTROL_FORM, False, "no image"))


def test_the_compose_file_names_the_form_the_url_and_the_session() -> None:
    text = compose_file(GUIDE_FORM, "http://myhost.example.com:1/t", "s1")
    assert '      - "myhost.example.com=host-gateway"\n' in text
    assert "network_mode: pasta" in text and '"http://myhost.example.com:1/t"' in text
    assert f'{LABEL}: "s1"' in text
    assert LABEL not in compose_file(CONTROL_FORM, "http://x/", None)
