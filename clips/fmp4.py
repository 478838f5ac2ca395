"""Fragmented MP4 boxes: where the last complete fragment ends (for recovered recordings)."""

from __future__ import annotations

import struct
from typing import Protocol


class Seekable(Protocol):
    def seek(self, offset: int, whence: int = 0, /) -> int: ...

    def read(self, size: int = -1, /) -> bytes | None: ...


def complete_prefix(stream: Seekable, size: int) -> int:
    """Bytes from the start up to the end of the last complete moof+mdat pair (or of the moov,
    if no fragment is complete). A torn box at the end is not counted."""
    position = 0
    kept = 0
    pending_moof = False
    while position + 8 <= size:
        stream.seek(position)
        header = stream.read(16) or b""
        box_size, box_type = struct.unpack(">I4s", header[:8])
        if box_size == 1 and len(header) >= 16:
            box_size = struct.unpack(">Q", header[8:16])[0]
        elif box_size == 0:
            box_size = size - position
        if box_size < 8 or position + box_size > size:
            break
        position += box_size
        if box_type in (b"ftyp", b"moov"):
            kept = position
        elif box_type == b"moof":
            pending_moof = True
        elif box_type == b"mdat" and pending_moof:
            kept, pending_moof = position, False
    return kept


class FragmentTracker:
    """Follows top-level boxes in a stream of MP4 bytes, and says how much a ``free`` box must
    pad after each completed fragment (moof + mdat) to reach the next ``chunk`` boundary."""

    def __init__(self, chunk: int) -> None:
        self._chunk = chunk
        self._header = b""  # bytes of a box header not yet complete
        self._remaining = 0  # bytes left in the current box
        self._type = b""
        self._position = 0  # bytes seen, padding included

    def feed(self, data: bytes) -> list[tuple[bytes, int]]:
        """Split ``data`` into pieces: (bytes, padding to add after them)."""
        pieces: list[tuple[bytes, int]] = []
        start = 0
        view = memoryview(data)
        index = 0
        while index < len(view):
            if self._remaining == 0:
                need = 8 - len(self._header)
                self._header += bytes(view[index : index + need])
                index += min(need, len(view) - index)
                if len(self._header) < 8:
                    continue
                size, self._type = struct.unpack(">I4s", self._header)
                self._remaining = max(size - 8, 0) if size >= 8 else 1 << 62
                self._header = b""
                if self._remaining:
                    continue
            step = min(self._remaining, len(view) - index)
            index += step
            self._remaining -= step
            if self._remaining == 0 and self._type == b"mdat":
                pieces.append((bytes(view[start:index]), 0))
                start = index
                self._position += len(pieces[-1][0])
                pieces[-1] = (pieces[-1][0], self._padding())
                self._position += pieces[-1][1]
        if start < len(view):
            pieces.append((bytes(view[start:]), 0))
            self._position += len(view) - start
        return pieces

    def _padding(self) -> int:
        gap = -self._position % self._chunk
        return gap + self._chunk if 0 < gap < 8 else gap


def free_box(size: int) -> bytes:
    return struct.pack(">I4s", size, b"free") + bytes(size - 8)
