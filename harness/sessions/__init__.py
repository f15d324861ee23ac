"""A session on a target, from its start to its cleanup: what podnet marks as its own
there (:mod:`.ownership`: the session label on podman objects, the manifest of files, pid
files, and the cleanup planned from those marks alone), the records of sessions kept on
the target (:mod:`.records`), and the marked session itself with the cleanup of stale
ones (:mod:`.cleanup`). Nothing here knows a concrete target: a target is what
:class:`.cleanup.Marking` describes."""
