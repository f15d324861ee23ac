"""podnet: verify the claims of the rootless Podman networking guide on real Podman."""

__version__ = "0.1.0"
