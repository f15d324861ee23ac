"""``podnet upstream-tests``: podman's own networking system tests (bats), run in the
lab's host1 as its rootless user against the lab's podman, in a private storage, with
the test image they expect built from Debian packages. The project holds none of
podman's files: the user points podnet at a podman checkout (``--podman-src``)."""
