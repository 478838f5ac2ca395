"""Serve decrypted media to ffmpeg over loopback HTTP with Range requests, so ffmpeg can seek
inside an encrypted file while no plaintext touches the disk.

Only 127.0.0.1, one random 128-bit token per file; each request gets its own reader. Another
account on the computer can see the port (/proc/net/tcp), never the token: ffmpeg gets the URL
through a pipe only it inherits (``clips.ffmpeg.spawn``), not on its command line. And on
Linux the server answers only connections whose socket belongs to this process's own user
(the kernel's table /proc/net/tcp names each socket's owner), so even a known token is refused
to another account. ffmpeg cannot speak HTTP over a Unix socket, hence loopback TCP.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol


class ServedFile(Protocol):
    """A seekable binary file object usable as a context manager (a file, an AgeReader)."""

    def seek(self, offset: int, whence: int = 0, /) -> int: ...

    def read(self, size: int = -1, /) -> bytes | None: ...

    def __enter__(self) -> ServedFile: ...

    def __exit__(self, *exc: object) -> object: ...


Opener = Callable[[], ServedFile]  # returns a fresh, seekable file object each time
_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")
_BLOCK = 256 * 1024
#: Each connection's send buffer. The server reads its source ahead of ffmpeg by as much as
#: the socket takes, and ffmpeg seeks by dropping the connection: with the kernel's own
#: (autotuned, megabytes) buffer, a recording played from the team store fetched and
#: decrypted twice the bytes per exact-frame seek; a whole-file read is as fast with this.
_SEND_BUFFER = 64 * 1024
_HOST = "127.0.0.1"
_SERVED_URL = re.compile(r"http://127\.0\.0\.1:\d{1,5}/[0-9a-f]{32}")
_PROC_NET_TCP = "/proc/net/tcp"
_ESTABLISHED = "01"


def is_served_url(text: str) -> bool:
    """Whether ``text`` is a URL of this module's servers (it holds a secret token)."""
    return _SERVED_URL.fullmatch(text) is not None


def _proc_address(address: tuple[str, int]) -> str:
    """An IPv4 address as /proc/net/tcp writes it: the address in host byte order, the port,
    both in upper-case hex."""
    host = int.from_bytes(socket.inet_aton(address[0]), sys.byteorder)
    return f"{host:08X}:{address[1]:04X}"


def peer_uid(client: tuple[str, int], server: tuple[str, int], table: str | None = None) -> int:
    """The user owning the connected socket at ``client`` (talking to ``server``), from the
    kernel's socket table; -1 if no live socket matches (closed, or not found: refuse)."""
    if table is None:
        with open(_PROC_NET_TCP, encoding="ascii") as file:
            table = file.read()
    local, remote = _proc_address(client), _proc_address(server)
    for line in table.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or (fields[1], fields[2], fields[3]) != (local, remote, _ESTABLISHED):
            continue
        if fields[9] != "0":  # a socket with an inode: open in some process
            return int(fields[7])
    return -1


def peer_is_this_user(client: tuple[str, int], server: tuple[str, int]) -> bool:
    """On Linux, whether the connecting socket belongs to this process's user. Elsewhere no
    such table exists and the secret token (never on a command line) is the only key."""
    if not sys.platform.startswith("linux"):
        return True
    try:
        return peer_uid(client, server) == os.getuid()
    except OSError:
        return False


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - no logs
        pass

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(body=False)

    def do_GET(self) -> None:  # noqa: N802
        self._serve(body=True)

    def _serve(self, body: bool) -> None:
        opener = self.server.sources.get(self.path.lstrip("/"))
        if opener is None:
            self.send_error(404)
            return
        with opener() as source:
            size = source.seek(0, os.SEEK_END)
            start, end = self._range(size)
            if start is None:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.end_headers()
                return
            partial = "Range" in self.headers
            self.send_response(206 if partial else 200)
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(end - start))
            if partial:
                self.send_header("Content-Range", f"bytes {start}-{end - 1}/{size}")
            self.end_headers()
            if body:
                self._copy(source, start, end)

    def _range(self, size: int) -> tuple[int | None, int]:
        header = self.headers.get("Range")
        if not header:
            return 0, size
        match = _RANGE.match(header.strip())
        if not match or (not match.group(1) and not match.group(2)):
            return None, 0
        if not match.group(1):  # the last N bytes
            return max(0, size - int(match.group(2))), size
        start = int(match.group(1))
        end = min(size, int(match.group(2)) + 1) if match.group(2) else size
        return (start, end) if start < size or size == 0 else (None, 0)

    def _copy(self, source: ServedFile, start: int, end: int) -> None:
        source.seek(start)
        remaining = end - start
        try:
            while remaining > 0:
                block = source.read(min(_BLOCK, remaining))
                if not block:
                    break
                self.wfile.write(block)
                remaining -= len(block)
        except (BrokenPipeError, ConnectionResetError):
            pass  # ffmpeg seeks by dropping a connection


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__((_HOST, 0), _Handler)
        self.sources: dict[str, Opener] = {}
        self.refused = 0  # connections from another user's socket

    def get_request(self) -> tuple[socket.socket, tuple[str, int]]:
        connection, address = super().get_request()
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _SEND_BUFFER)
        return connection, address

    def verify_request(self, request: object, client_address: object) -> bool:
        host, port = self.server_address[:2]
        assert isinstance(client_address, tuple)
        if peer_is_this_user(client_address, (str(host), port)):
            return True
        self.refused += 1
        return False


class MediaServer:
    """Holds the loopback server for as long as ffmpeg needs it."""

    def __init__(self) -> None:
        self._server = _Server()
        self._thread = threading.Thread(
            target=self._server.serve_forever, daemon=True, name="media-server"
        )
        self._thread.start()

    @property
    def refused(self) -> int:
        return self._server.refused

    def url(self, opener: Opener) -> str:
        """A URL for ``opener``'s file. Hand it to ffmpeg only through ``clips.ffmpeg.spawn``
        (or ``run``/``capture``), which keeps it off the command line."""
        token = secrets.token_hex(16)
        self._server.sources[token] = opener
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/{token}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def serving(*openers: Opener) -> Iterator[list[str]]:
    """URLs for the given sources, valid inside the ``with`` block."""
    server = MediaServer()
    try:
        yield [server.url(opener) for opener in openers]
    finally:
        server.close()
