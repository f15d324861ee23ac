"""What the lab puts in place of what it cannot have, and what it cannot have at all.

The one substitution table of the guide's examples: registry images map to images the
lab builds, the guide's example hosts and addresses to lab addresses, the guide's user
set-up steps to the fresh user each example runs as. Everything else is literal.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.lab.images import WEB_IMAGE


@dataclass(frozen=True)
class ImageSubstitute:
    #: The image as the guide names it (short names included).
    image: str
    #: The lab's image with the same behaviour, or None when there is none yet.
    lab_image: str | None
    #: What behaves the same, or why there is no substitute.
    note: str


IMAGES: tuple[ImageSubstitute, ...] = (
    ImageSubstitute("ghcr.io/nginxinc/nginx-unprivileged", WEB_IMAGE,
                    "nginx as an unprivileged user on port 8080, socket activation through "
                    "NGINX=3;, the official image's access log format (index page: podnet's)"),
    ImageSubstitute("ghcr.io/nginxinc/nginx", None,
                    "nginx as root on port 80: the lab's nginx image listens on 8080"),
    ImageSubstitute("docker.io/library/nginx", None,
                    "nginx as root on port 80 with its welcome page: the lab's nginx image "
                    "listens on 8080 and serves another page"),
    ImageSubstitute("docker.io/library/fedora", WEB_IMAGE,
                    "a client with curl, cat and a shell (Debian, not Fedora: no dnf)"),
    ImageSubstitute("registry.fedoraproject.org/fedora", WEB_IMAGE,
                    "a client with curl, cat and a shell (Debian, not Fedora: no dnf)"),
    ImageSubstitute("fedora", WEB_IMAGE,
                    "a client with curl, cat and a shell (Debian, not Fedora: no dnf)"),
    ImageSubstitute("docker.io/library/alpine", WEB_IMAGE, "sleep and echo (Debian)"),
    ImageSubstitute("alpine", WEB_IMAGE, "sleep and echo (Debian)"),
)

#: A Containerfile that installs packages from Fedora on a registry image cannot be
#: built without a registry and Fedora's repositories.
BUILDER_NOTE = ("a Containerfile that installs Fedora packages with dnf; "
                "no lab image with the same packages yet")


@dataclass(frozen=True)
class Replacement:
    #: Text as the guide writes it (in commands, files and expected output).
    guide: str
    #: What the lab uses instead.
    lab: str
    note: str


ADDRESSES: tuple[Replacement, ...] = (
    Replacement("host1.example.com", "192.0.2.1", "host1's address on the client link"),
    Replacement("host2.example.com", "192.0.2.10", "host2's (the client's) address"),
    Replacement("192.168.10.108", "192.0.2.1", "the address of host1's main network interface"),
    Replacement("11.11.11.11", "203.0.113.11",
                "an arbitrary address pasta maps; the lab uses documentation addresses only"),
)

#: The guide's user set-up, done by the runner: each example runs as a fresh user.
USER_STEPS: tuple[Replacement, ...] = (
    Replacement("sudo useradd NAME", "a fresh unprivileged user of host1",
                "the user is created (and removed afterwards) by the runner"),
    Replacement("sudo machinectl shell NAME@ / --uid=NAME", "a login of that user",
                "its own systemd user manager; machinectl is not in the lab"),
    Replacement("/home/test, user1, user2, $user", "that user's home and name",
                "the lab's 'test' user is podnet's own"),
    Replacement("exit", "the end of that login", ""),
    Replacement("Log in to host2 / Log out from host2", "the step runs on host2", ""),
)


def image_substitute(image: str) -> ImageSubstitute | None:
    """The table's entry for an image reference (tag ignored), or None if unknown."""
    name = image.rsplit(":", 1)[0] if "/" not in image.rsplit(":", 1)[-1] else image
    for entry in IMAGES:
        if name == entry.image:
            return entry
    return None
