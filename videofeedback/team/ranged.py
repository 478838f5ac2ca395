"""A store object as a seekable file: ranged reads in blocks, cached.

``AgeReader(StoreObjectFile(...), identities)`` decrypts a recording straight from the
store: only the blocks a read touches are fetched. Blocks are ciphertext (age chunks), so
the optional disk cache holds nothing readable; it is capped in size and evicts the least
recently used blocks first.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

from .store import MIB, S3Store

BLOCK_SIZE = 1 * MIB
MEMORY_BYTES = 16 * MIB  # blocks kept in memory, at most
#: Reading on from the block before, a reader fetches twice as many blocks in one GET as
#: the time before, up to this many: the media server reads ahead of ffmpeg in order, and
#: each GET costs a round trip and, on a busy laptop, more CPU than its bytes.
READ_AHEAD = 16
#: Blocks a GET after a jump brings, for a reader that reads on from where it jumps (the
#: media server's, one per ffmpeg request: a fragment's header, then its pictures). A
#: reader that hops from header to header (the player's demuxer on open) takes 1.
READ_FIRST = 4

#: Raises unless the bytes are that block of the object (``media_index.BlockList.check``).
Check = Callable[[int, bytes], None]


class BlockCache:
    """Ciphertext blocks on disk, at most ``limit`` bytes, least recently used out first."""

    def __init__(self, folder: Path, limit: int) -> None:
        self.folder = folder
        self.limit = limit
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _path(self, object_name: str, index: int) -> Path:
        digest = hashlib.sha256(f"{object_name}\n{index}".encode()).hexdigest()[:32]
        return self.folder / digest

    def get(self, object_name: str, index: int) -> bytes | None:
        path = self._path(object_name, index)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        os.utime(path)
        return data

    def put(self, object_name: str, index: int, data: bytes) -> None:
        path = self._path(object_name, index)
        # a name of its own: several readers (the player's, the media server's threads)
        # may fetch the same block at once
        temporary = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
        self._evict()

    def _evict(self) -> None:
        entries = []
        for entry in os.scandir(self.folder):
            try:
                if entry.is_file() and not entry.name.endswith(".tmp"):
                    info = entry.stat()
                    entries.append((info.st_atime_ns, info.st_mtime_ns, entry.path, info.st_size))
            except FileNotFoundError:  # evicted by another reader meanwhile
                continue
        entries.sort()
        total = sum(size for *_, size in entries)
        for _, _, path, size in entries:
            if total <= self.limit:
                break
            total -= size
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass


class Blocks(Protocol):
    def get(self, object_name: str, index: int) -> bytes | None: ...

    def put(self, object_name: str, index: int, data: bytes) -> None: ...


class SharedBlocks:
    """Blocks in memory shared by every reader of one recording (the media server opens a
    reader per request: ffmpeg reconnects to seek), in front of the optional disk cache."""

    def __init__(self, limit: int = 64 * MIB, disk: BlockCache | None = None) -> None:
        self.limit = limit
        self.disk = disk
        self._blocks: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, object_name: str, index: int) -> bytes | None:
        with self._lock:
            data = self._blocks.get((object_name, index))
            if data is not None:
                self._blocks.move_to_end((object_name, index))
                return data
        data = self.disk.get(object_name, index) if self.disk else None
        if data is not None:
            self._keep(object_name, index, data)
        return data

    def put(self, object_name: str, index: int, data: bytes) -> None:
        self._keep(object_name, index, data)
        if self.disk:
            self.disk.put(object_name, index, data)

    def _keep(self, object_name: str, index: int, data: bytes) -> None:
        with self._lock:
            if (object_name, index) in self._blocks:
                return
            self._blocks[(object_name, index)] = data
            self._size += len(data)
            while self._size > self.limit and len(self._blocks) > 1:
                self._size -= len(self._blocks.popitem(last=False)[1])


class StoreObjectFile(io.RawIOBase):
    """Read-only, seekable bytes of one store object (of known size)."""

    def __init__(
        self,
        store: S3Store,
        name: str,
        size: int | None = None,
        cache: Blocks | None = None,
        block_size: int = BLOCK_SIZE,
        check: Check | None = None,
        first_read: int = READ_FIRST,
    ) -> None:
        """``check``: every block (from the store or the cache) is checked before it is
        used or cached; ``first_read``: blocks the GET after a jump brings."""
        super().__init__()
        self._store = store
        self._name = name
        if size is None:
            info = store.head(name)
            size = 0 if info is None else info.size
        self._size = size
        self._cache = cache
        self._block_size = block_size
        self._position = 0
        self._blocks: OrderedDict[int, bytes] = OrderedDict()
        self._check = check
        self._first_read = first_read
        self._run = first_read  # blocks the next GET in order brings
        self.requests = 0  # ranged GETs made (for benchmarks and tests)
        self.fetched = 0  # bytes those GETs brought

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        wanted = min(len(buffer), self._size - self._position)
        if wanted <= 0:
            return 0
        view = memoryview(buffer).cast("B")
        copied = 0
        while copied < wanted:
            index, within = divmod(self._position, self._block_size)
            block = self._block(index)
            piece = block[within : within + wanted - copied]
            if not piece:
                break
            view[copied : copied + len(piece)] = piece
            copied += len(piece)
            self._position += len(piece)
        return copied

    def _block(self, index: int) -> bytes:
        if index in self._blocks:
            self._blocks.move_to_end(index)
            return self._blocks[index]
        data = self._cached(index)
        if data is None:
            in_order = index - 1 in self._blocks
            self._run = min(READ_AHEAD, self._run * 2) if in_order else self._first_read
            data = self._fetch(index, self._run)
        self._keep(index, data)
        return data

    def _count(self) -> int:
        return -(-self._size // self._block_size)

    def _cached(self, index: int) -> bytes | None:
        data = self._cache.get(self._name, index) if self._cache else None
        if data is not None and self._check is not None:
            self._check(index, data)
        return data

    def _fetch(self, first: int, count: int = 1) -> bytes:
        """Blocks ``first`` … (up to ``count``, up to the next one at hand) in one ranged GET,
        each checked, then cached (kept here without a cache); the first one's bytes."""
        last = first + 1
        while last < min(first + count, self._count()) and not self._at_hand(last):
            last += 1
        start = first * self._block_size
        end = min(self._size, last * self._block_size)
        data = self._store.get(self._name, start, end) if start < end else b""
        self.requests += 1
        self.fetched += len(data)
        for index in range(first, last):
            at = (index - first) * self._block_size
            block = data[at : at + self._block_size]
            if self._check is not None:
                self._check(index, block)
            if self._cache:
                self._cache.put(self._name, index, block)
            elif index != first:
                self._keep(index, block)
        return data[: self._block_size]

    def _at_hand(self, index: int) -> bool:
        if index in self._blocks:
            return True
        return self._cache is not None and self._cache.get(self._name, index) is not None

    def prefetch(self, indices: Iterable[int]) -> None:
        """Fetch these blocks (those not at hand), each run of neighbours in one GET."""
        wanted = sorted(i for i in set(indices) if 0 <= i < self._count())
        wanted = [i for i in wanted if not self._at_hand(i)]
        while wanted:
            length = 1
            while length < len(wanted) and wanted[length] == wanted[0] + length:
                length += 1
            self._keep(wanted[0], self._fetch(wanted[0], length))
            wanted = wanted[length:]

    def _keep(self, index: int, data: bytes) -> None:
        self._blocks[index] = data
        self._blocks.move_to_end(index)
        if len(self._blocks) > max(1, MEMORY_BYTES // self._block_size):
            self._blocks.popitem(last=False)
