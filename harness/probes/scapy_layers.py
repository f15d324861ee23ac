"""scapy's packet layers and capture reader, imported without writing in the user's home.

On import scapy creates ``~/.config``, ``~/.cache/scapy`` and ``~/.local/share`` (XDG
directories) and caches its data files there: on a workstation that is a file in the
person's home that podnet did not record. While scapy is imported here, those
directories point where nothing can be created, so scapy keeps no cache at all.
"""

from __future__ import annotations

from harness.run import environ

#: A path no directory can be created at (procfs refuses mkdir).
NOWHERE = "/proc/podnet-no-such-directory"
XDG_VARIABLES = ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME")


with environ(dict.fromkeys(XDG_VARIABLES, NOWHERE)):
    from scapy.layers.inet import IP, TCP, UDP
    from scapy.layers.inet6 import IPv6
    from scapy.utils import PcapReader

__all__ = ["IP", "TCP", "UDP", "IPv6", "PcapReader"]
