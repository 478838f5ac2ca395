"""Fragmented MP4 boxes: where the last complete fragment ends (for recovered recordings)."""

from __future__ import annotations

import bisect
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
    pad after each completed fragment (moof + mdat) to reach the next ``chunk`` boundary.

    The padding moves every later box, so the ``mfra`` index ffmpeg writes last would point
    before its moofs: it is held back until complete and its offsets are corrected."""

    def __init__(self, chunk: int) -> None:
        self._chunk = chunk
        self._buffer = bytearray()  # bytes received and not yet handed on
        self._cursor = 0  # in _buffer: how far the boxes have been followed
        self._box_start = 0  # in _buffer: where the current box began
        self._remaining = 0  # bytes of the current box still to come (0: at a box start)
        self._type = b""
        self._raw = 0  # bytes handed on, padding not counted (ffmpeg's own positions)
        self._padded = 0  # bytes handed on, padding counted
        self._shifted_at: list[int] = []  # ffmpeg's positions where padding was put
        self._shifted_by: list[int] = []  # the padding put up to and including each

    def feed(self, data: bytes) -> list[tuple[bytes, int]]:
        """Split ``data`` into pieces: (bytes, padding to add after them)."""
        self._buffer += data
        pieces: list[tuple[bytes, int]] = []
        handed = 0  # in _buffer: bytes already put into pieces
        while self._next_box_complete():
            if self._type == b"mdat":
                pieces.append(self._piece(handed, self._cursor, pad=True))
                handed = self._cursor
            elif self._type == b"mfra":
                box = bytes(self._buffer[self._box_start : self._cursor])
                pieces.append(self._piece(handed, self._box_start, pad=False))
                pieces.append((self._corrected_mfra(box), 0))
                self._raw, self._padded = self._raw + len(box), self._padded + len(box)
                handed = self._cursor
        held = self._box_start if self._type == b"mfra" and self._remaining else self._cursor
        if handed < held:
            pieces.append(self._piece(handed, held, pad=False))
            handed = held
        del self._buffer[:handed]
        self._cursor -= handed
        self._box_start -= handed
        return [(data, padding) for data, padding in pieces if data or padding]

    def _next_box_complete(self) -> bool:
        """Follow the boxes through the buffer; True each time one is complete."""
        while True:
            if self._remaining == 0:
                if len(self._buffer) - self._cursor < 8:
                    return False
                size, self._type = struct.unpack_from(">I4s", self._buffer, self._cursor)
                self._remaining = size if size >= 8 else 1 << 62  # 64-bit or open-ended
                self._box_start = self._cursor
            step = min(self._remaining, len(self._buffer) - self._cursor)
            self._cursor += step
            self._remaining -= step
            if self._remaining:
                return False
            if self._type in (b"mdat", b"mfra"):
                return True

    def _piece(self, start: int, end: int, pad: bool) -> tuple[bytes, int]:
        data = bytes(self._buffer[start:end])
        self._raw += len(data)
        self._padded += len(data)
        padding = 0
        if pad:
            padding = -self._padded % self._chunk
            padding += self._chunk if 0 < padding < 8 else 0
            self._padded += padding
            if padding:
                self._shifted_at.append(self._raw)
                self._shifted_by.append(self._padded - self._raw)
        return data, padding

    def _shift(self, position: int) -> int:
        before = bisect.bisect_right(self._shifted_at, position)
        return self._shifted_by[before - 1] if before else 0

    def _corrected_mfra(self, box: bytes) -> bytes:
        """The mfra with each tfra entry's moof offset moved by the padding before it."""
        out = bytearray(box)
        position = 8
        while position + 8 <= len(out):
            size, kind = struct.unpack_from(">I4s", out, position)
            if size < 8 or position + size > len(out):
                return box
            if kind == b"tfra":
                self._correct_tfra(out, position + 8, position + size)
            position += size
        return bytes(out)

    def _correct_tfra(self, out: bytearray, start: int, end: int) -> None:
        version = out[start]
        sizes, count = struct.unpack_from(">II", out, start + 8)
        numbers = ((sizes >> 4) & 3) + ((sizes >> 2) & 3) + (sizes & 3) + 3
        pair = ">QQ" if version else ">II"
        step = struct.calcsize(pair) + numbers
        for n in range(count):
            at = start + 16 + n * step
            if at + step > end:
                return
            time, offset = struct.unpack_from(pair, out, at)
            moved = offset + self._shift(offset)
            if version or moved < 1 << 32:
                struct.pack_into(pair, out, at, time, moved)


def free_box(size: int) -> bytes:
    return struct.pack(">I4s", size, b"free") + bytes(size - 8)
