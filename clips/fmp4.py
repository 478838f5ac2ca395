"""Fragmented MP4 boxes: where the last complete fragment ends (for recovered recordings), and
ffmpeg's fragmented output made ready to store (padded fragments, a corrected mfra)."""

from __future__ import annotations

import bisect
import struct
from collections.abc import Callable
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


_HELD = (b"moof", b"mfra")  # boxes held back until complete: read (moof) or corrected (mfra)


class FragmentTracker:
    """Follows top-level boxes in a stream of MP4 bytes, and says how much a ``free`` box must
    pad after each completed fragment (moof + mdat) to reach the next ``chunk`` boundary
    (``chunk`` 0: no padding).

    The ``mfra`` index ffmpeg writes last is held back until complete and corrected:
    - the padding moves every later box, so its offsets would point before their moofs;
    - its times are ffmpeg's presentation times, which for AAC sound are the priming (1,024
      samples) earlier than the fragment's own decode time (tfdt). Read with
      ``-use_mfra_for pts`` that put every later fragment's sound 21.3 ms early. Each entry's
      time becomes the time its fragment itself gives its first sample."""

    def __init__(self, chunk: int) -> None:
        self._chunk = chunk
        self._buffer = bytearray()  # bytes received and not yet handed on
        self._base = 0  # ffmpeg's position of _buffer[0]
        self._times: dict[tuple[int, int], int] = {}  # (track, moof position): first time
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
        held = self._box_start if self._type in _HELD and self._remaining else self._cursor
        if handed < held:
            pieces.append(self._piece(handed, held, pad=False))
            handed = held
        del self._buffer[:handed]
        self._base += handed
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
            if self._type == b"moof":
                moof = bytes(self._buffer[self._box_start : self._cursor])
                for track, time in fragment_times(moof).items():
                    self._times[track, self._base + self._box_start] = time
            if self._type in (b"mdat", b"mfra"):
                return True

    def _piece(self, start: int, end: int, pad: bool) -> tuple[bytes, int]:
        data = bytes(self._buffer[start:end])
        self._raw += len(data)
        self._padded += len(data)
        padding = 0
        if pad and self._chunk:
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
        track, sizes, count = struct.unpack_from(">III", out, start + 4)
        numbers = ((sizes >> 4) & 3) + ((sizes >> 2) & 3) + (sizes & 3) + 3
        pair = ">QQ" if version else ">II"
        step = struct.calcsize(pair) + numbers
        for n in range(count):
            at = start + 16 + n * step
            if at + step > end:
                return
            time, offset = struct.unpack_from(pair, out, at)
            time = self._times.get((track, offset), time)
            moved = offset + self._shift(offset)
            if version or (moved < 1 << 32 and 0 <= time < 1 << 32):
                struct.pack_into(pair, out, at, time, moved)

    def rest(self) -> bytes:
        """What is still held at the end of the stream (a box that never completed)."""
        rest = bytes(self._buffer)
        self._buffer.clear()
        return rest


def free_box(size: int) -> bytes:
    return struct.pack(">I4s", size, b"free") + bytes(size - 8)


class StoredFragments:
    """A sink for ffmpeg's fragmented MP4 that passes it on through a FragmentTracker: call
    it with each chunk of output, then ``finish()``."""

    def __init__(self, write: Callable[[bytes], object], chunk: int = 0) -> None:
        self._write = write
        self._tracker = FragmentTracker(chunk)

    def __call__(self, data: bytes) -> None:
        for piece, padding in self._tracker.feed(data):
            self._write(piece)
            if padding:
                self._write(free_box(padding))

    def finish(self) -> None:
        if rest := self._tracker.rest():
            self._write(rest)


def fragment_times(moof: bytes) -> dict[int, int]:
    """For each track in a moof: the presentation time of its first sample (the tfdt plus
    that sample's composition offset). A malformed moof gives what could be read."""
    times: dict[int, int] = {}
    for kind, start, end in _children(moof, 8, len(moof)):
        if kind != b"traf":
            continue
        parts = {k: (a, b) for k, a, b in _children(moof, start, end)}
        tfhd, tfhd_end = parts.get(b"tfhd", (0, 0))
        time = _decode_time(moof, *parts.get(b"tfdt", (0, 0)))
        if tfhd_end - tfhd < 8 or time is None:
            continue
        track = struct.unpack_from(">I", moof, tfhd + 4)[0]
        times[track] = time + (_first_offset(moof, parts[b"trun"][0]) if b"trun" in parts else 0)
    return times


def _decode_time(moof: bytes, start: int, end: int) -> int | None:
    """A tfdt's time (None if it is too short: 8 bytes in version 0, 12 in version 1)."""
    if end - start < 8 or end - start < 8 + 4 * moof[start]:
        return None
    return int(struct.unpack_from(">Q" if moof[start] else ">I", moof, start + 4)[0])


def _first_offset(moof: bytes, trun: int) -> int:
    """The composition offset of a track run's first sample (0 if it gives none)."""
    version = moof[trun]
    flags = int.from_bytes(moof[trun + 1 : trun + 4], "big")
    if not flags & 0x800 or trun + 8 > len(moof) or not struct.unpack_from(">I", moof, trun + 4)[0]:
        return 0
    position = trun + 8 + 4 * bool(flags & 0x01) + 4 * bool(flags & 0x04)
    position += 4 * bool(flags & 0x100) + 4 * bool(flags & 0x200) + 4 * bool(flags & 0x400)
    if position + 4 > len(moof):
        return 0
    return int(struct.unpack_from(">i" if version else ">I", moof, position)[0])


def _children(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the boxes in data[start:end], stopping at the
    first that does not fit."""
    found = []
    while start + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, start)
        if size < 8 or start + size > end:
            break
        found.append((kind, start + 8, start + size))
        start += size
    return found
