"""Which TCP sockets a process listens on, read from /proc (no tools needed): the tests
that prove a server listens on loopback only, or not at all after a job, share it."""

from __future__ import annotations

import os
from pathlib import Path

LISTEN = "0A"


def _socket_inodes(pid: int | str) -> set[str]:
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    return inodes


def listening(pid: int | str = "self") -> set[tuple[str, int]]:
    """(local address as /proc writes it in hex, port) of every socket ``pid`` listens on."""
    inodes = _socket_inodes(pid)
    found = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == LISTEN and fields[9] in inodes:
                address, port = fields[1].rsplit(":", 1)
                found.add((address, int(port, 16)))
    return found
