"""The test image podman's system tests expect (``quay.io/libpod/testimage:<tag>``),
built in host1 from Debian packages instead of pulled: the lab's image base (Debian,
with socat and iproute2) plus Debian's busybox, whose applets come first in ``PATH`` as
they do in upstream's Alpine image (``top`` without a terminal, ``nc``, ``wget``,
``nslookup``, ``httpd`` as ``busybox-extras``) except iproute2's commands (``ip -j``),
which upstream adds to Alpine as well, and ``nc``: Debian's busybox nc lacks ``-n`` and
``-v``, so ``nc -l -n -v -p PORT`` is served by ``testimage/nc`` (python3, in the base) with
busybox's lines and the socket's real addresses, and every other use goes to busybox;
and the small ``/home/podman`` files podman's ``build-testimage``
describes: ``testimage-id`` (the tag, dated 2020-09-13), ``pause``, ``healthcheck`` and
``bytecheck``.
"""

from __future__ import annotations

from importlib import resources

#: Debian packages the image adds to the lab's base.
PACKAGES = ("busybox",)
#: The build context's files (in the ``testimage`` directory beside this module), and
#: the mode each is written with.
CONTEXT = resources.files("harness") / "upstream" / "testimage"
FILES = {"Containerfile": "0644", "nc": "0755", "home/pause": "0755",
         "home/healthcheck": "0755", "home/bytecheck": "0755"}
#: ``testimage-id``'s modification time, which a test of ``run --tz`` reads.
TESTIMAGE_ID_TIME = 1600000000


def context_files(tag: str) -> dict[str, tuple[str, str]]:
    """The build context besides the .deb files: path -> (content, mode)."""
    files = {path: (CONTEXT.joinpath(path).read_text(encoding="utf-8"), mode)
             for path, mode in FILES.items()}
    return {**files, "home/testimage-id": (f"{tag}\n", "0644")}
