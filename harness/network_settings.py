"""containers.conf ``[network]`` settings a method needs (``network_settings`` in
methods.toml), e.g. podman 6's ``rootless_port_forwarder = "pasta"``.

They are written as a drop-in of the rootless user's own configuration
(``~/.config/containers/containers.conf.d/``, read after the system's), recorded in the
session's manifest like every file podnet writes, and removed when the check ends. The
setting applies to every custom network of the user, and containers.conf(5) says to change
it only while no container runs on one: :func:`applied` refuses while one does.

:func:`reported_refusal` and :func:`start_refusal` judge what podman does with them
(harness.capabilities tries them once per session): podman reports the setting in effect
and starts with it (offered), refuses it with its own message (unsupported: the
observation is the result), or something else stands in the way (a reason to skip).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

from harness.errors import PodnetError
from harness.methods import Method
from harness.targets.base import Target

#: The user's containers.conf drop-in directory, relative to the home directory.
USER_CONF_DIR = ".config/containers/containers.conf.d"
#: Where ``podman info --format json`` reports a setting in effect, per key: a key of its
#: ``host`` object (podman 6: ``"rootlessPortForwarder": "rootlessport"``).
REPORTED = {"rootless_port_forwarder": "rootlessPortForwarder"}
#: The probe that reads them.
INFO_PROBE = "podman info --format json"


class ProbeFailed(PodnetError):
    """podnet's own probe of the settings failed: an error naming the probe, never a
    verdict about podman."""


class SettingsBusy(PodnetError):
    """Containers run on custom networks: the settings may not change now."""


def drop_in_path(target: Target, method: Method) -> str:
    return f"{target.home}/{USER_CONF_DIR}/99-podnet-{method.id}.conf"


def drop_in_text(method: Method) -> str:
    """The drop-in's text: a ``[network]`` table of the method's settings."""
    lines = [f"{key} = {json.dumps(value)}" for key, value in method.network_settings]
    return "\n".join([f"# podnet: {method.id}, removed when its check ends", "[network]",
                      *lines, ""])


def on_custom_networks(ps_lines: str, networks: str) -> list[str]:
    """Running containers attached to a podman network: ``ps_lines`` is ``podman ps
    --format '{{.Names}}\\t{{.Networks}}'`` (networks comma-separated, empty for pasta or
    host), ``networks`` is ``podman network ls --format '{{.Name}}'``."""
    known = set(networks.split())
    rows = (line.partition("\t") for line in ps_lines.splitlines())
    return [name.strip() for name, _, attached in rows
            if known & {n.strip() for n in attached.split(",")}]


def busy_containers(target: Target) -> list[str]:
    ps = target.podman("ps", "--format", "{{.Names}}\t{{.Networks}}").stdout
    networks = target.podman("network", "ls", "--format", "{{.Name}}").stdout
    return on_custom_networks(ps, networks)


@contextlib.contextmanager
def applied(target: Target, method: Method) -> Iterator[str | None]:
    """The method's settings in effect for the user while the context lasts; yields the
    drop-in's path (None for a method without settings)."""
    if not method.network_settings:
        yield None
        return
    if busy := busy_containers(target):
        raise SettingsBusy(
            f"not changing {', '.join(k for k, _ in method.network_settings)} while "
            f"{', '.join(busy)} run on custom networks (containers.conf(5): change it only "
            "when no containers are running); stop them first")
    path = drop_in_path(target, method)
    directory = path.rsplit("/", 1)[0]
    made_directory = not target.run(["test", "-d", directory], check=False).ok
    target.write_file(path, drop_in_text(method))
    try:
        yield path
    finally:
        target.remove_files(path)
        if made_directory:
            target.run(["rmdir", "--ignore-fail-on-non-empty", directory], check=False)


def reported_refusal(key: str, wanted: str, returncode: int, stdout: str,
                     stderr: str) -> tuple[str | None, str | None]:
    """Judge :data:`INFO_PROBE` for ``key`` with the drop-in in place: (podman's refusal,
    another reason not to go on). A podman whose info has no such setting does not offer
    it (podman ignores containers.conf keys it does not know, without a word: what its
    info reports is its answer); one that reports another value has the drop-in
    overridden by a configuration read after it (not podman's refusal). A probe that
    fails or prints no JSON raises :class:`ProbeFailed`."""
    said = (stderr.strip() or stdout.strip() or "no output").splitlines()[-1].strip()
    if returncode != 0:
        raise ProbeFailed(f"podnet's probe '{INFO_PROBE}' exited {returncode}: {said}")
    try:
        info = json.loads(stdout)
    except ValueError:
        info = None
    host = info.get("host") if isinstance(info, dict) else None
    if not isinstance(host, dict):
        raise ProbeFailed(f"podnet's probe '{INFO_PROBE}' printed no host information: {said}")
    version = info["version"].get("Version") if isinstance(info.get("version"), dict) else None
    field = REPORTED[key]
    if field not in host:
        return (f"podman {version or '(version not reported)'} does not offer {key}: "
                f"'{INFO_PROBE}' reports no host.{field} (podman ignores containers.conf "
                "keys it does not know)"), None
    value = str(host[field])
    if value != wanted:
        return None, (f"podman reports {key} = {value!r} with podnet's drop-in setting "
                      f"{wanted!r}: a containers.conf read after it overrides it")
    return None, None


def start_refusal(with_settings: tuple[int, str], without: tuple[int, str]
                  ) -> tuple[str | None, str | None]:
    """Judge the start trial: a container publishing a port on a custom network, with the
    settings and, as the control, without. (refusal, another reason): only a start that
    fails with the settings while the control starts is podman refusing them."""
    status, message = with_settings
    control_status, control_message = without
    if status == 0:
        return None, None
    if control_status != 0:
        return None, ("podman does not start a container publishing a port on a custom "
                      f"network even without the settings: {control_message[-300:]}")
    return message.strip() or f"podman run exited {status}", None
