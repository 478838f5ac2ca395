"""Fragmented MP4 boxes: where the last complete fragment ends (for recovered recordings), and
ffmpeg's fragmented output made ready to store (padded fragments, a corrected mfra)."""

from __future__ import annotations

import bisect
import struct
from collections.abc import Callable

from .boxes import (
    Box,
    Seekable,
    Tfra,
    box_header,
    boxes,
    parse_tfra,
    stream_boxes,
    tfdt_time,
)
from .errors import BoxError

__all__ = [
    "FragmentTracker",
    "Seekable",
    "StoredFragments",
    "complete_prefix",
    "fragment_times",
    "free_box",
]


def complete_prefix(stream: Seekable, size: int) -> int:
    """Bytes from the start up to the end of the last complete moof+mdat pair (or of the moov,
    if no fragment is complete). A torn box at the end is not counted."""
    kept = 0
    pending_moof = False
    for top in stream_boxes(stream, size):
        if top.kind in (b"ftyp", b"moov"):
            kept = top.end
        elif top.kind == b"moof":
            pending_moof = True
        elif top.kind == b"mdat" and pending_moof:
            kept, pending_moof = top.end, False
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
                header = box_header(self._buffer, self._cursor)
                if header is None:
                    return False
                size, self._type = header
                self._remaining = size if size >= 8 else 1 << 62  # open-ended or damaged
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
        """The mfra with each tfra entry's moof offset moved by the padding before it, and
        its time made the fragment's own (a malformed mfra is passed on as it is)."""
        out = bytearray(box)
        try:
            for tfra in boxes(box, 8, parent="mfra"):
                if tfra.kind == b"tfra":
                    self._correct_tfra(out, parse_tfra(tfra))
        except BoxError:
            return box
        return bytes(out)

    def _correct_tfra(self, out: bytearray, tfra: Tfra) -> None:
        for entry in tfra.entries:
            time = self._times.get((tfra.track_id, entry.moof_offset), entry.time)
            moved = entry.moof_offset + self._shift(entry.moof_offset)
            if tfra.pair == ">QQ" or (moved < 1 << 32 and 0 <= time < 1 << 32):
                struct.pack_into(tfra.pair, out, entry.at, time, moved)

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
    for traf in boxes(moof, 8, parent="moof", strict=False):
        if traf.kind != b"traf":
            continue
        parts = {part.kind: part for part in traf.children(strict=False)}
        try:
            track = parts[b"tfhd"].u32(4) if b"tfhd" in parts else None
            time = tfdt_time(parts[b"tfdt"]) if b"tfdt" in parts else None
            if track is None or time is None:
                continue
            times[track] = time + (_first_offset(parts[b"trun"]) if b"trun" in parts else 0)
        except BoxError:
            continue
    return times


def _first_offset(trun: Box) -> int:
    """The composition offset of a track run's first sample (0 if it gives none)."""
    flags = trun.flags
    if not flags & 0x800 or not trun.u32(4):
        return 0
    position = 8 + 4 * bool(flags & 0x01) + 4 * bool(flags & 0x04)
    position += 4 * bool(flags & 0x100) + 4 * bool(flags & 0x200) + 4 * bool(flags & 0x400)
    return trun.unpack(">i" if trun.version else ">I", position)[0]
