"""The test image podman's system tests expect (``quay.io/libpod/testimage:<tag>``),
built in host1 from Debian packages instead of pulled: the lab's image base (Debian,
with socat and iproute2) plus Debian's busybox, whose applets come first in ``PATH`` as
they do in upstream's Alpine image (``top`` without a terminal, ``nc``, ``wget``,
``nslookup``, ``httpd`` as ``busybox-extras``) except iproute2's commands (``ip -j``),
which upstream adds to Alpine as well, and ``nc``: Debian's busybox nc lacks ``-n`` and
``-v``, so ``nc -l -n -v -p PORT`` is served by :data:`NC` (python3, in the base) with
busybox's lines and the socket's real addresses, and every other use goes to busybox;
and the small ``/home/podman`` files podman's ``build-testimage``
describes: ``testimage-id`` (the tag, dated 2020-09-13), ``pause``, ``healthcheck`` and
``bytecheck``.
"""

from __future__ import annotations

#: Debian packages the image adds to the lab's base.
PACKAGES = ("busybox",)

PAUSE = """#!/bin/sh
#
# Trivial little pause script, used in one of the pod tests
#
trap 'exit 0' SIGTERM
echo Confirmed: testimage pause invoked as $0
while :; do
    sleep 0.1
done
"""

HEALTHCHECK = """#!/bin/sh

if test -e /uh-oh || test -e /uh-oh-only-once; then
    echo "Uh-oh on stdout!"
    echo "Uh-oh on stderr!" >&2

    # Special file causes us to fail healthcheck only once
    rm -f /uh-oh-only-once

    exit 1
else
    echo "Life is Good on stdout"
    echo "Life is Good on stderr" >&2
    exit 0
fi
"""

BYTECHECK = """#!/bin/sh
#
# Helper script for comparing bytestream data. Shows data size,
# md5sum, and first/last eight bytes.
#
# Reads stream from stdin, writes summary to stdout
#
tmpfile=`mktemp bytecheck.XXXXXXX`

cat >$tmpfile

size=`stat -c %s $tmpfile`
hash=`md5sum <$tmpfile`
odl=`head -c8 $tmpfile | od -An -tx1`
odr=`tail -c8 $tmpfile | od -An -tx1`

rm -f $tmpfile

echo size=$size hash=$hash head=$odl tail=$odr
"""

NC = '''#!/usr/bin/python3
"""nc for podman's tests. Alpine's busybox nc has -n and -v, Debian's has neither:
``nc -l -n -v -p PORT`` listens here and prints busybox's lines on stderr (listening
on, connect to ... from ..., with the socket's real addresses), the data on stdout;
every other use is busybox's own nc."""
import os
import socket
import sys

args = sys.argv[1:]
if len(args) != 5 or args[:4] != ["-l", "-n", "-v", "-p"]:
    os.execv("/usr/bin/busybox", ["nc", *args])
port = int(args[4])
server = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
server.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("::", port))
server.listen(1)
print(f"listening on [::]:{port} ...", file=sys.stderr, flush=True)
conn, peer = server.accept()
local = conn.getsockname()
print(f"connect to [{local[0]}]:{local[1]} from [{peer[0]}]:{peer[1]}", file=sys.stderr,
      flush=True)
while data := conn.recv(65536):
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
'''

#: ``testimage-id``'s modification time, which a test of ``run --tz`` reads.
TESTIMAGE_ID_TIME = 1600000000

CONTAINERFILE = """FROM scratch
COPY debs/ /tmp/debs/
RUN dpkg -i /tmp/debs/*.deb && rm -rf /tmp/debs \\
 && iproute2=$(dpkg -L iproute2 | sed -n 's#^/.*bin/##p') \\
 && for applet in $(busybox --list); do \\
      case " $(echo $iproute2) nc " in *" $applet "*) continue ;; esac; \\
      ln -s /usr/bin/busybox /usr/local/bin/"$applet"; \\
    done \\
 && ln -s /usr/bin/busybox /usr/bin/busybox-extras
COPY nc /usr/local/bin/nc
COPY home/ /home/podman/
WORKDIR /home/podman
CMD ["/bin/echo", "This container is intended for podman CI testing"]
"""


def context_files(tag: str) -> dict[str, tuple[str, str]]:
    """The build context besides the .deb files: path -> (content, mode)."""
    return {"Containerfile": (CONTAINERFILE, "0644"),
            "nc": (NC, "0755"),
            "home/testimage-id": (f"{tag}\n", "0644"),
            "home/pause": (PAUSE, "0755"),
            "home/healthcheck": (HEALTHCHECK, "0755"),
            "home/bytecheck": (BYTECHECK, "0755")}
