"""pytest finds podnet's plugin through its ``pytest11`` entry point (pyproject.toml), as
it does for an installed podnet; this file registers nothing, so the plugin loads once."""
