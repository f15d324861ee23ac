"""Registers podnet's pytest plugin (options, markers, header, fixtures)."""

pytest_plugins = ("harness.pytest_plugin",)
