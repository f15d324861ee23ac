"""The target serves a client: a published container answers from host2."""

import pytest

from harness.clients.base import Client
from harness.methods import get_method
from harness.services import ServeOptions, serve
from harness.targets.base import Target

pytestmark = [pytest.mark.lab, pytest.mark.smoke]


def test_published_container_answers_client(target: Target, client: Client) -> None:
    with serve(target, get_method("pasta"), client, ServeOptions()) as service:
        reply = client.http_get(f"http://{target.main_address}:{service.port}/")
    assert reply.status == 200, reply
    assert "podnet" in reply.body


def test_podman_is_rootless(info) -> None:  # type: ignore[no-untyped-def]
    assert info.rootless, "podman on the target must run rootless"
