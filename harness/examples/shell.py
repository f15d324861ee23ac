"""The shell scripts the runner wraps around the guide's commands, as pure functions: a
login's shell state kept from one step to the next, a server run in the foreground
started in the background, a command of the guide run as root in host1 where only
host1's own network settings can change, and a command of host2 run unprivileged where
it can change nothing of the machine's. No lab needed to read or test them."""

from __future__ import annotations

import shlex

#: How long a server the guide runs in the foreground, or one started before an example
#: (assess.Prerequisite), may live (seconds).
SERVER_LIFETIME = 300
#: How long the runner waits for such a server to listen (tenths of a second).
LISTEN_WAIT = 100
#: Variables of the wrapper itself, never kept as the guide's shell state.
OWN = "__podnet_"


def sh(script: str, *args: str) -> list[str]:
    """The command line that runs ``script`` with sh, ``args`` as its ``$1``, ``$2``, ..."""
    return ["sh", "-c", script, "sh", *args]


def with_state(script: str, login: int) -> str:
    """``script`` run in the login's shell state (from ``~`` on its first step), the
    state it leaves (``cd``, variables it sets) kept for the login's next step."""
    return "\n".join((
        # Where the login's shell state (working directory, variables) is kept.
        f'{OWN}state="${{XDG_RUNTIME_DIR:-/tmp}}/podnet-guide-shell-{login}"',
        f"{OWN}known=$(compgen -v)",
        "cd ~ || exit 1",
        f'if [ -f "${OWN}state" ]; then . "${OWN}state"; fi',
        f"{OWN}save() {{",
        '  { printf "cd %q\\n" "$PWD"',
        f"    for {OWN}name in $(compgen -v); do",
        f'      case "${OWN}name" in {OWN}*|FUNCNAME|BASH_*) continue;; esac',
        f'      grep -qxF -- "${OWN}name" <<< "${OWN}known" '
        f'|| declare -p "${OWN}name" 2>/dev/null',
        f'    done; }} > "${OWN}state"',
        "}",
        f"trap {OWN}save EXIT",
        script,
    ))


#: A container started since the server was: one of its processes listens (in its own
#: network namespace: a container that publishes no port listens on none of host1's).
CONTAINER_LISTENS = "\n".join((
    f"  for {OWN}c in $(podman ps -q --no-trunc 2>/dev/null); do",
    f'    grep -qxF -- "${OWN}c" <<< "${OWN}before" && continue',
    f'    if podman exec "${OWN}c" ss -Hltun 2>/dev/null | grep -q .; then',
    f'      echo "${OWN}sid"; exit 0',
    "    fi",
    "  done",
))


def serve(command: str, login: int) -> str:
    """Start ``command`` (a server the guide runs in the foreground) in the background in
    the login's shell state, for at most :data:`SERVER_LIFETIME` seconds, in a session of
    its own; print that session's id once one of its processes listens (or, for ``podman
    run``, once a process of the container it started listens). When it ends first, exit
    with its status and its output on stderr."""
    container = command.startswith("podman run ")
    body = "\n".join((
        f'{OWN}log="${{XDG_RUNTIME_DIR:-/tmp}}/podnet-guide-serve-$$.log"',
        f"{OWN}before=$(podman ps -q --no-trunc 2>/dev/null)" if container else ":",
        f"setsid timeout {SERVER_LIFETIME} bash -c {shlex.quote(command)} "
        f'</dev/null >"${OWN}log" 2>&1 &',
        f"{OWN}sid=$!",
        f"for {OWN}i in $(seq {LISTEN_WAIT}); do",
        f"  if ! kill -0 ${OWN}sid 2>/dev/null; then",
        f'    wait ${OWN}sid; {OWN}rc=$?; cat "${OWN}log" >&2; exit ${OWN}rc',
        "  fi",
        f"  for {OWN}pid in $(pgrep -s ${OWN}sid); do",
        f'    if ss -Hltnup | grep -q "pid=${OWN}pid,"; then echo "${OWN}sid"; exit 0; fi',
        "  done",
        CONTAINER_LISTENS if container else ":",
        "  sleep 0.1",
        "done",
        f"echo 'the server did not listen within {LISTEN_WAIT // 10} s' >&2",
        f"kill -TERM -- -${OWN}sid; exit 1",
    ))
    return with_state(body, login)


def settled(container: str) -> str:
    """Exit 0 once the detached ``container`` has nothing left to start: it has ended
    (or is gone), it runs another command than its image's (no server of the image's), or
    one of its processes listens; exit 1 while its image's server is still starting."""
    cid = shlex.quote(container)
    return "\n".join((
        f"state=$(podman inspect -f '{{{{.State.Status}}}}' {cid} 2>/dev/null) || exit 0",
        '[ "$state" = running ] || exit 0',
        f"image=$(podman inspect -f '{{{{.Image}}}}' {cid}) || exit 0",
        f"[ \"$(podman inspect -f '{{{{json .Config.Cmd}}}}' {cid})\" = "
        "\"$(podman image inspect -f '{{json .Config.Cmd}}' \"$image\")\" ] || exit 0",
        f"podman exec {cid} ss -Hltunp 2>/dev/null | grep -q 'users:('",
    ))


def stop(session: str) -> str:
    """Stop the server started by :func:`serve` (its whole session)."""
    return f"kill -TERM -- -{shlex.quote(session)} 2>/dev/null; exit 0"


#: Run "$1" as root in host1 with the machine-wide part of /proc/sys replaced by
#: throwaway copies in a private mount namespace: only /proc/sys/net (host1's own
#: network namespace) is real. Any mount that fails stops it before "$1" runs.
ROOT_SANDBOX = r"""exec unshare --mount --propagation private sh -c '
set -e
mount -t tmpfs podnet-sysctl /mnt
for dir in /proc/sys/*; do
  name=${dir##*/}
  [ "$name" = net ] && continue
  cp -r "$dir" /mnt/ 2>/dev/null || true
  mount --bind "/mnt/$name" "$dir"
done
for dir in /proc/sys/*; do
  [ "$dir" = /proc/sys/net ] || mountpoint -q "$dir"
done
set +e
cd /root
exec bash -c "$1"
' sh "$1"
"""

#: Who runs the guide's host2 commands: the machine's unprivileged "nobody" (host2 is a
#: network namespace on the machine's own file system, with no root file system of its own).
CLIENT_UID = 65534

#: Run "$1" (a host2 command of the guide; started as root in host2's network namespace)
#: as :data:`CLIENT_UID` with no capabilities and no way to gain any, in private mount and
#: PID namespaces: the machine's root file system read-only, empty throwaway /tmp, /var/tmp
#: and /dev/shm (HOME is a directory in that /tmp), the environment cleared, and no other
#: process of the machine visible or reachable by a signal. Killing the wrapper kills all
#: it started. Any step that fails stops it before "$1" runs.
CLIENT_SANDBOX = f"""exec unshare --mount --pid --fork --kill-child --propagation private \\
  --mount-proc sh -c '
set -e
mount -o remount,bind,ro /
for dir in /tmp /var/tmp /dev/shm; do
  mount -t tmpfs -o mode=1777,size=64m,nosuid,nodev podnet-client "$dir"
done
mkdir -m 0700 /tmp/home
chown {CLIENT_UID}:{CLIENT_UID} /tmp/home
cd /tmp/home
set +e
setpriv --reuid={CLIENT_UID} --regid={CLIENT_UID} --clear-groups --no-new-privs \\
  --inh-caps=-all --bounding-set=-all \\
  env -i HOME=/tmp/home USER=nobody LOGNAME=nobody PATH=/usr/local/bin:/usr/bin:/bin \\
  LANG=C.UTF-8 bash -c "$1"
' sh "$1"
"""

#: Save (``save FILE``) or put back (``restore FILE``) host1's network settings: every
#: readable key under /proc/sys/net, written back only where it changed.
NET_SYSCTLS = r"""
import json, os, sys
def values():
    found = {}
    for top, _, names in os.walk("/proc/sys/net"):
        for name in names:
            path = os.path.join(top, name)
            try:
                with open(path) as f:
                    found[path] = f.read()
            except OSError:
                pass
    return found
action, where = sys.argv[1:]
if action == "save":  # atomically and durably: a crash leaves the old file or the new
    with open(where + ".tmp", "w") as f:
        json.dump(values(), f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(where + ".tmp", where)
    fd = os.open(os.path.dirname(where) or ".", os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
else:
    with open(where) as f:
        saved = json.load(f)
    for path, value in values().items():
        if path in saved and saved[path] != value:
            try:
                with open(path, "w") as f:
                    f.write(saved[path])
            except OSError as exc:
                print(f"cannot put back {path}: {exc}", file=sys.stderr)
    os.remove(where)
"""
