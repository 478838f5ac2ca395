"""One checked reader of ISO-BMFF (MP4) boxes, used by every module that walks them.

``boxes(data)`` iterates the boxes of a buffer, ``stream_boxes(stream, size)`` the top-level
boxes of a file read by offset; each ``Box`` reads its own fields with bounds checks. Every
failure is a BoxError that names the box (never struct.error or IndexError), so a caller
that falls back on a damaged file (the draft reel, a smart cut) sees one kind of error.
``tfdt`` and ``tfra`` are parsed here, once.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from .errors import BoxError

Buffer = bytes | bytearray | memoryview


class Seekable(Protocol):
    def seek(self, offset: int, whence: int = 0, /) -> int: ...

    def read(self, size: int = -1, /) -> bytes | None: ...


HEADER = 8
LARGE_HEADER = 16


@dataclass(frozen=True, eq=False, slots=True)
class Box:
    """One box of ``data``: its header starts at ``start``, its payload at ``payload``, and
    it ends at ``end`` (all positions in ``data``)."""

    data: Buffer
    kind: bytes
    start: int
    payload: int
    end: int

    @property
    def name(self) -> str:
        return self.kind.decode("latin-1")

    @property
    def size(self) -> int:
        return self.end - self.payload

    def unpack(self, layout: str, at: int) -> tuple[int, ...]:
        """The fields of ``layout`` (struct format) at ``at`` bytes into the payload."""
        width = struct.calcsize(layout)
        if at < 0 or self.payload + at + width > self.end:
            raise BoxError(f"the {self.name} box is too short (it ends inside its fields)")
        return tuple(int(v) for v in struct.unpack_from(layout, self.data, self.payload + at))

    def u8(self, at: int) -> int:
        return self.unpack(">B", at)[0]

    def u32(self, at: int) -> int:
        return self.unpack(">I", at)[0]

    def u64(self, at: int) -> int:
        return self.unpack(">Q", at)[0]

    @property
    def version(self) -> int:
        return self.u8(0)

    @property
    def flags(self) -> int:
        return self.u32(0) & 0xFFFFFF

    def bytes_at(self, at: int, length: int) -> bytes:
        if at < 0 or length < 0 or self.payload + at + length > self.end:
            raise BoxError(f"the {self.name} box is too short")
        return bytes(self.data[self.payload + at : self.payload + at + length])

    def content(self) -> bytes:
        return bytes(self.data[self.payload : self.end])

    def whole(self) -> bytes:
        return bytes(self.data[self.start : self.end])

    def children(self, skip: int = 0, strict: bool = True) -> Iterator[Box]:
        """The boxes inside the payload, after ``skip`` bytes of the box's own fields."""
        if self.payload + skip > self.end:
            raise BoxError(f"the {self.name} box is too short to hold its children")
        return boxes(self.data, self.payload + skip, self.end, parent=self.name, strict=strict)

    def child(self, kind: bytes, skip: int = 0) -> Box:
        for found in self.children(skip):
            if found.kind == kind:
                return found
        raise BoxError(f"no {kind.decode('latin-1')} box in the {self.name} box")


def boxes(
    data: Buffer, start: int = 0, end: int | None = None, parent: str = "file", strict: bool = True
) -> Iterator[Box]:
    """The boxes in data[start:end]. A box that does not fit raises BoxError (``strict``) or
    ends the iteration (a torn box at the end of a recovered recording)."""
    end = len(data) if end is None else min(end, len(data))
    while start + HEADER <= end:
        size, kind = struct.unpack_from(">I4s", data, start)
        header = HEADER
        if size == 1 and start + LARGE_HEADER <= end:
            size, header = struct.unpack_from(">Q", data, start + HEADER)[0], LARGE_HEADER
        elif size == 0:
            size = end - start
        if size < header or start + size > end:
            if strict:
                _torn(kind, parent)
            return
        yield Box(data, kind, start, start + header, start + size)
        start += size


def _torn(kind: bytes, parent: str) -> int:
    name = kind.decode("latin-1")
    raise BoxError(f"the {name} box runs past the end of its parent ({parent})")


def box_header(data: Buffer, at: int) -> tuple[int, bytes] | None:
    """(size, type) of a box header at ``at``: None until the whole header is there; a size
    below 8 (an open-ended or damaged box) is given as it is."""
    if at + HEADER > len(data):
        return None
    size, kind = struct.unpack_from(">I4s", data, at)
    if size == 1:
        if at + LARGE_HEADER > len(data):
            return None
        size = struct.unpack_from(">Q", data, at + HEADER)[0]
    return int(size), bytes(kind)


@dataclass(frozen=True, slots=True)
class TopBox:
    """A top-level box of a file read by offset (its payload is not read)."""

    kind: bytes
    start: int
    payload: int
    end: int


def stream_boxes(stream: Seekable, size: int) -> Iterator[TopBox]:
    """The top-level boxes of a ``size``-byte file; stops at a torn box at the end."""
    position = 0
    while position + HEADER <= size:
        stream.seek(position)
        head = stream.read(LARGE_HEADER) or b""
        if len(head) < HEADER:
            return
        box_size, kind = struct.unpack_from(">I4s", head)
        header = HEADER
        if box_size == 1:
            if len(head) < LARGE_HEADER:
                return
            box_size, header = struct.unpack_from(">Q", head, HEADER)[0], LARGE_HEADER
        elif box_size == 0:
            box_size = size - position
        if box_size < header or position + box_size > size:
            return
        yield TopBox(kind, position, position + header, position + box_size)
        position += box_size


def read_box(stream: Seekable, at: TopBox | int, kind: bytes, size: int | None = None) -> Box:
    """The box of ``kind`` at an offset, read whole (its header and size checked)."""
    offset = at if isinstance(at, int) else at.start
    name = kind.decode("latin-1")
    stream.seek(offset)
    head = stream.read(LARGE_HEADER) or b""
    if len(head) < HEADER or head[4:8] != kind:
        raise BoxError(f"no {name} box where the index says")
    found = box_header(head, 0)
    box_size = found[0] if found else 0
    if box_size < HEADER or (size is not None and offset + box_size > size):
        raise BoxError(f"the {name} box has a wrong size")
    stream.seek(offset)
    whole = stream.read(box_size) or b""
    if len(whole) != box_size:
        raise BoxError(f"the {name} box is cut short")
    header = LARGE_HEADER if struct.unpack_from(">I", whole)[0] == 1 else HEADER
    if box_size < header:
        raise BoxError(f"the {name} box has a wrong size")
    return Box(whole, kind, 0, header, box_size)


def tfdt_time(tfdt: Box) -> int:
    """A tfdt's base media decode time (32 bits in version 0, 64 in version 1)."""
    return tfdt.u64(4) if tfdt.version else tfdt.u32(4)


@dataclass(frozen=True, slots=True)
class TfraEntry:
    time: int
    moof_offset: int
    at: int  # where the entry's (time, offset) pair is in the tfra's data


@dataclass(frozen=True, slots=True)
class Tfra:
    track_id: int
    pair: str  # the struct layout of an entry's (time, offset): ">II" or ">QQ"
    entries: tuple[TfraEntry, ...]


def parse_tfra(tfra: Box) -> Tfra:
    """A track fragment random access box: which fragment starts at which time."""
    track_id, sizes, count = tfra.unpack(">III", 4)
    numbers = ((sizes >> 4) & 3) + ((sizes >> 2) & 3) + (sizes & 3) + 3
    pair = ">QQ" if tfra.version else ">II"
    step = struct.calcsize(pair) + numbers
    if 16 + step * count > tfra.size:
        raise BoxError("the tfra box is cut short (fewer entries than it counts)")
    entries = []
    for n in range(count):
        time, offset = tfra.unpack(pair, 16 + n * step)
        entries.append(TfraEntry(time, offset, tfra.payload + 16 + n * step))
    return Tfra(track_id, pair, tuple(entries))


@contextmanager
def reading(name: str) -> Iterator[None]:
    """Turn an out-of-bounds read inside a box's own structures (descriptors, parameter
    sets) into a BoxError that names the box."""
    try:
        yield
    except (IndexError, struct.error, ValueError) as error:
        raise BoxError(f"the {name} box is damaged ({error})") from error
