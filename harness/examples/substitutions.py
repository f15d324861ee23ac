"""What the lab puts in place of what it cannot have, and what it cannot have at all.

The one substitution table of the guide's examples: registry images map to images the
lab builds, the guide's example hosts and addresses to lab addresses, the guide's user
set-up steps to the fresh user each example runs as. Everything else is literal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.image_names import PODNET_NAMESPACE, WEB_IMAGE

#: Built for each example's user from the lab's web image: nginx as root on port 80 with
#: the official image's default server (welcome page) and access log format.
ROOT_NGINX = f"{PODNET_NAMESPACE}guide-nginx"


@dataclass(frozen=True)
class ImageSubstitute:
    #: The image as the guide names it (short names and other registries' names included).
    images: tuple[str, ...]
    #: The lab's image with the same behaviour, or None when there is none yet.
    lab_image: str | None
    #: What behaves the same, or why there is no substitute.
    note: str


IMAGES: tuple[ImageSubstitute, ...] = (
    ImageSubstitute(("ghcr.io/nginxinc/nginx-unprivileged",), WEB_IMAGE,
                    "nginx as an unprivileged user on port 8080, socket activation through "
                    "NGINX=3;, the official image's access log format (index page: podnet's)"),
    ImageSubstitute(("ghcr.io/nginxinc/nginx", "docker.io/library/nginx"), ROOT_NGINX,
                    "nginx as root on port 80 serving its welcome page from "
                    "/usr/share/nginx/html, the official image's access log format "
                    "(Debian's nginx, built from the lab's web image)"),
    ImageSubstitute(("docker.io/library/fedora", "registry.fedoraproject.org/fedora",
                     "fedora"), WEB_IMAGE,
                    "a client with curl, cat and a shell (Debian, not Fedora: no dnf)"),
    ImageSubstitute(("docker.io/library/python",), WEB_IMAGE,
                    "python3 and its http.server (Debian's python3; /etc/terminfo, the "
                    "directory the guide serves, is there too)"),
    ImageSubstitute(("docker.io/library/alpine", "alpine"), WEB_IMAGE,
                    "sleep and echo (Debian)"),
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
    Replacement('"/usr/libexec/podman"', '"/usr/lib/podman", "/usr/libexec/podman"',
                "podman's helper directory: the guide's host (Fedora) has every helper in "
                "/usr/libexec/podman, host1 (Debian) has netavark and aardvark-dns in "
                "/usr/lib/podman"),
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
    Replacement("loginctl enable-linger (as the user)", "done by the runner, as root",
                "each user it creates lingers; host1 has no polkit, which lets a user enable "
                "its own linger on the guide's hosts"),
    Replacement("Log in to host2 / Log out from host2", "the step runs on host2", ""),
    Replacement("two users (user1, user2)", "two fresh users of host1",
                "a login of each in turn, as the guide switches between them"),
    Replacement("cd, variables", "kept from one step to the next within a login", ""),
    Replacement("a server run in the foreground (python3 -m http.server, podman run -p "
                "without -d)", "started in the background until its login ends",
                "the runner waits until it listens, then runs the next step"),
    Replacement("podman run -d; journalctl, podman logs", "the next step 3 s later; "
                "2 s after the step before", "a reader's pace: the container's server is "
                "still starting when podman returns; log lines reach the journal a moment "
                "after the request"),
    Replacement("If jq is installed, ...", "run only where that tool is installed",
                "else the block is not run, as the guide says"),
)

#: Commands the guide runs with sudo that the runner runs as root in host1, each with why
#: that is safe there (host1's root is the machine's root: it shares the kernel).
ROOT_COMMANDS: tuple[tuple[str, str], ...] = (
    (r"^sysctl --system$", "applies host1's sysctl.d files where only host1's network "
     "namespace's keys are real: the machine-wide keys (kernel.*, vm.*, fs.*, ...) are "
     "throwaway copies"),
)


def root_command(command: str) -> bool:
    """Whether the runner has a safe way to run ``command`` (without sudo) as root."""
    return any(re.search(pattern, command) for pattern, _ in ROOT_COMMANDS)


#: sudo in the guide: root in host1, which is the machine's root (host1 shares the
#: machine's kernel), so only the commands of :data:`ROOT_COMMANDS` run.
ROOT_STEP = Replacement(
    "sudo sysctl --system", "root in host1 with only host1's network namespace's keys real",
    "machine-wide keys (kernel.*, vm.*, fs.*) are throwaway copies: host1's sysctl.d files "
    "set kernel.core_pattern and kernel.pid_max, which would change the machine; the network "
    "keys it changes are put back afterwards")
ROOT_FILE = Replacement(
    "a file in /etc", "written as root in host1, removed afterwards",
    "the guide's reader writes it as root; host1's own files are never overwritten")


def image_substitute(image: str) -> ImageSubstitute | None:
    """The table's entry for an image reference (tag ignored), or None if unknown."""
    name = image.rsplit(":", 1)[0] if "/" not in image.rsplit(":", 1)[-1] else image
    return next((entry for entry in IMAGES if name in entry.images), None)
