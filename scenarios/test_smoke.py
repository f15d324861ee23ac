"""The target serves a client: a published container answers from host2."""

import pytest

from harness.capabilities import Capabilities
from harness.clients.base import Client
from harness.methods import get_method
from harness.services import ServeOptions, serve
from harness.targets.base import Target

pytestmark = [pytest.mark.lab, pytest.mark.smoke]


def test_published_container_answers_client(target: Target, client: Client,
                                            capabilities: Capabilities) -> None:
    """pasta where the target has it, else slirp4netns (podman < 4.4)."""
    method = next((get_method(m) for m in ("pasta", "slirp4netns-slirp4netns")
                   if not capabilities.first_missing(get_method(m).requires)), None)
    if method is None:
        pytest.skip("the target has neither pasta nor slirp4netns")
    with serve(target, method, client, ServeOptions()) as service:
        reply = client.http_get(f"http://{target.main_address}:{service.port}/")
    assert reply.status == 200, reply
    assert "podnet" in reply.body


def test_podman_is_rootless(info) -> None:  # type: ignore[no-untyped-def]
    assert info.rootless, "podman on the target must run rootless"
