"""podnet's test image, built on a target without a registry.

The one builder for every target: the lab's host1 and a workstation (``--target
local``) import a root file system tar made by mmdebstrap as the base and build the
same Containerfile on it. Every image podnet builds carries ``io.podnet.image``, never
the session label (containers inherit their image's labels, a user's own included).
At its end, a workstation session removes podnet's images except those kept on
purpose (``--keep-image``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from harness.errors import PodnetError
from harness.image_names import BASE_IMAGE, PODNET_NAMESPACE, WEB_IMAGE
from harness.results.timings import phase
from harness.services import IMAGE
from harness.targets.base import Target

log = logging.getLogger("podnet.lab")

CONTEXT_FILES = ("Containerfile", "nginx.conf", "default.conf", "udp-peer.py", "sink.py")
IMAGE_LABEL = "io.podnet.image"


#: Provides a base tar for as long as the context lasts (e.g. one mmdebstrap made).
TarSource = Callable[[], AbstractContextManager[Path]]


@dataclass(frozen=True)
class Built:
    tag: str
    #: False when the image was already there (nothing was imported or built).
    built: bool


def _context() -> dict[str, str]:
    root = resources.files("harness.lab") / "files" / "image"
    return {name: (root / name).read_text() for name in CONTEXT_FILES}


def image_tag(base_key: str) -> str:
    """The web image's tag for a base (``base_key`` names it) and this Containerfile."""
    digest = hashlib.sha256(base_key.encode())
    for name, text in sorted(_context().items()):
        digest.update(name.encode() + b"\0" + text.encode())
    return f"{WEB_IMAGE}:{digest.hexdigest()[:12]}"


def has_image(target: Target, tag: str) -> bool:
    return target.podman("image", "exists", tag, check=False).ok


def refuse_foreign(target: Target, name: str) -> None:
    """Stop, naming it, when ``name`` is an image without podnet's label: tagging or
    importing over it would take the name from an image of the user's."""
    done = target.podman("image", "inspect", "--format",
                         f'{{{{index .Labels "{IMAGE_LABEL}"}}}}', name, check=False)
    if done.ok and done.stdout.strip() in ("", "<no value>"):
        raise PodnetError(f"the image {name} is not podnet's (it has no {IMAGE_LABEL} "
                          "label) and podnet names its test image so: rename yours (podman "
                          f"tag {name} NEW-NAME && podman untag {name}), then run again")


def ensure_images(target: Target, image_tar: Path | TarSource, base_key: str) -> Built:
    """Build the test image unless the tag for this base and recipe exists.

    ``image_tar`` (a path, or a function that provides one only when it is needed) is
    read by podnet's own process and sent to the target's podman.
    """
    tag = image_tag(base_key)
    base = f"{BASE_IMAGE}:{tag.rsplit(':', 1)[1]}"
    for name in (IMAGE, tag, base):
        refuse_foreign(target, name)
    if has_image(target, tag):
        target.podman("tag", tag, IMAGE)
        return Built(tag, built=False)
    with phase("image builds: test image"):
        _build(target, image_tar, tag, base)
    return Built(tag, built=True)


def _build(target: Target, image_tar: Path | TarSource, tag: str, base: str) -> None:
    if has_image(target, base):
        # A build killed after its import left the base (podnet's: refuse_foreign passed);
        # importing over its name would leave it nameless, out of podnet's reach.
        _remove_build_containers(target, base)
        target.podman("rmi", base)
    log.info("importing the base image")
    with image_tar() if callable(image_tar) else contextlib.nullcontext(image_tar) as tar:
        target.run(["podman", "import", f"--change=LABEL {IMAGE_LABEL}=base", "-", base],
                   stdin_path=str(tar), timeout=300)
    # Not in the home directory: on host1 that is on an overlay root, which newer
    # buildah cannot use as the lower layer of its build-context overlay.
    build_dir = target.fresh_dir("/var/tmp", "podnet-image.")
    try:
        for name, text in _context().items():
            target.write_file(f"{build_dir}/{name}", text)
        log.info("building %s", tag)
        # --from: the base imported above, in place of the Containerfile's FROM;
        # --layers=false: no intermediate images to clean up afterwards.
        target.podman("build", "--network=none", "--pull=never", "--layers=false",
                      f"--from={base}", f"--label={IMAGE_LABEL}=web", "-t", tag,
                      "-t", IMAGE, build_dir, timeout=600)
    finally:
        target.remove_files(build_dir)
        # The web image keeps the base's layers; the base's own name is not needed.
        target.podman("rmi", base, check=False)


def _remove_build_containers(target: Target, image: str) -> None:
    """Remove the build containers a killed ``podman build`` left on ``image`` (podnet's
    own base image): buildah's working containers, which podman lists only with
    ``--external`` (state "storage") and which keep the image in use. Containers of podman's
    own are left alone: removing the image then fails, naming them."""
    image_id = target.podman("image", "inspect", "--format", "{{.Id}}", image).stdout.strip()
    listed = json.loads(target.podman("ps", "--all", "--external", "--format", "json").stdout
                        or "[]")
    leftovers = [str(c["Id"]) for c in listed
                 if c.get("ImageID") == image_id and c.get("State") == "storage"]
    if leftovers:
        log.info("removing %d build container(s) a killed build left", len(leftovers))
        target.podman("rm", "--force", *leftovers)


def podnet_images(target: Target) -> dict[str, list[str]]:
    """podnet's images on the target, id -> names, newest first: those carrying
    ``io.podnet.image`` (proxy images inherit it from the web image) whose every name is
    under ``localhost/podnet/``."""
    listed = target.podman("images", "--filter", f"label={IMAGE_LABEL}", "--format", "json",
                           check=False)
    try:
        images = json.loads(listed.stdout or "[]") if listed.ok else []
    except ValueError:
        return {}
    newest_first = sorted(images, key=lambda i: -int(i.get("Created") or 0))
    named = ((str(i["Id"]), [str(n) for n in i.get("Names") or []]) for i in newest_first)
    return {image: names for image, names in named
            if names and all(n.startswith(PODNET_NAMESPACE) for n in names)}


def remove_podnet_images(target: Target, keep: Mapping[str, Sequence[str]]) -> list[str]:
    """Remove podnet's images except those in ``keep`` (an image a proxy image was built
    from goes after it), by name and never forced: an image a container still uses
    stays. Returns the names removed."""
    pending = {i: n for i, n in podnet_images(target).items() if i not in keep}
    removed: list[str] = []
    while pending:
        gone = [i for i, names in pending.items() if target.podman("rmi", *names, check=False).ok]
        if not gone:
            break
        for image in gone:
            removed += pending.pop(image)
    return removed
