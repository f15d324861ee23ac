"""The guide podnet verifies, as data: its revisions (text, commit id, date), shipped in
``harness/data/guide`` with the guide's license, and where a quote occurs in one."""
