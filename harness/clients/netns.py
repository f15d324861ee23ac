"""A client in a network namespace on this machine (the lab's host2 and host3)."""

from __future__ import annotations

import sys

from harness.clients.base import Client


class NetnsClient(Client):
    #: The namespace shares this machine's files: the controller's own Python.
    python = sys.executable

    def __init__(self, name: str, netns: str, address: str) -> None:
        self.name = name
        self.netns = netns
        self.address = address
        self.prefix = ("ip", "netns", "exec", netns)
