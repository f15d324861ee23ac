"""Test images built inside host1 without a registry."""

from __future__ import annotations

import hashlib
import logging
from importlib import resources
from pathlib import Path

from harness.targets.base import Target

log = logging.getLogger("podnet.lab")

#: One image serves as web server (default command) and tools (iperf3, curl, socat,
#: python3, the UDP peer reporter and the socket-activated sink).
WEB_IMAGE = "localhost/podnet/web"
BASE_IMAGE = "localhost/podnet/base:latest"
CONTEXT_FILES = ("Containerfile", "nginx.conf", "default.conf", "udp-peer.py", "sink.py")


def _context() -> dict[str, str]:
    root = resources.files("harness.lab") / "files" / "image"
    return {name: (root / name).read_text() for name in CONTEXT_FILES}


def image_tag(base_key: str) -> str:
    digest = hashlib.sha256(base_key.encode())
    for name, text in sorted(_context().items()):
        digest.update(name.encode() + b"\0" + text.encode())
    return f"{WEB_IMAGE}:{digest.hexdigest()[:12]}"


def ensure_images(target: Target, image_tar: Path, base_key: str) -> str:
    """Build the test image unless the tag for this recipe exists; return the tag."""
    tag = image_tag(base_key)
    if target.podman("image", "exists", tag, check=False).ok:
        target.podman("tag", tag, f"{WEB_IMAGE}:latest")
        return tag
    log.info("importing the base image")
    target.run(["podman", "import", "-", BASE_IMAGE], stdin_path=str(image_tar), timeout=300)
    # Not in the home directory: that is on host1's overlay root, which newer buildah
    # cannot use as the lower layer of its build-context overlay.
    build_dir = f"/var/tmp/podnet-image-{tag.rsplit(':', 1)[1]}"
    for name, text in _context().items():
        target.write_file(f"{build_dir}/{name}", text)
    log.info("building %s", tag)
    target.podman("build", "--network=none", "--pull=never", "-t", tag, "-t",
                  f"{WEB_IMAGE}:latest", build_dir, timeout=600)
    target.podman("image", "prune", "-f", check=False)
    target.remove_files(build_dir)
    return tag
