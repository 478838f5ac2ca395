"""Playing a recording that is in the team store but not on this laptop.

``StoreMedia.open()`` gives a decrypting, seekable reader over ranged GETs of the store
object (``ranged.StoreObjectFile``): only the age chunks a read touches are fetched, each
is authenticated, and the plaintext stays in memory. What was fetched may be kept in a
ciphertext-only block cache outside the library folder, capped in size
(``VIDEOFEEDBACK_STORE_CACHE_MB``, default 1024; 0 turns it off).

``media_source(case, record)`` is what a player asks for: the local file when it is here,
else the store object, named by the record (``info["store"]``) or by the sync engine
(``locate_media(case, media_id)``, if it has one).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, cast

from encryption import AgeReader, Identity
from videofeedback.library.cases import Case
from videofeedback.library.errors import LibraryError
from videofeedback.library.local_state import state_dir
from videofeedback.library.records import MediaRecord

from .engine import engine
from .ranged import BlockCache, SharedBlocks, StoreObjectFile
from .remotes import Remote, find_remote
from .store import MIB, S3Store

CACHE_ENV = "VIDEOFEEDBACK_STORE_CACHE_MB"
DEFAULT_CACHE_MB = 1024
#: Smaller than the ranged reader's default: seeking in a fragmented MP4 reads each
#: fragment's header (a few hundred bytes) on the way, not its pictures.
PLAY_BLOCK = 128 * 1024


def cache_limit() -> int:
    """The block cache's size limit in bytes (the setting; 0: no disk cache)."""
    text = os.environ.get(CACHE_ENV, "")
    try:
        megabytes = int(text) if text else DEFAULT_CACHE_MB
    except ValueError:
        raise LibraryError(f"{CACHE_ENV} must be a whole number of megabytes") from None
    return max(0, megabytes) * MIB


def cache_folder(library_id: str) -> Path:
    """Outside the library folder (a copy of the folder never carries it); ciphertext only."""
    return state_dir() / "store-cache" / library_id


def block_cache(library_id: str) -> BlockCache | None:
    limit = cache_limit()
    return BlockCache(cache_folder(library_id), limit) if limit else None


@dataclass
class StoreMedia:
    """One encrypted recording in the store; ``open()`` may be called from any thread."""

    remote: Remote
    name: str  # the object's opaque name under the remote's prefix
    identities: list[Identity]
    size: int | None = None
    cache: BlockCache | None = None
    block_size: int = PLAY_BLOCK
    requests: int = 0  # ranged GETs made by every reader opened so far
    fetched: int = 0  # bytes they brought from the store
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _files: list[StoreObjectFile] = field(default_factory=list, repr=False)
    _shared: SharedBlocks | None = field(default=None, repr=False)
    _store: S3Store | None = field(default=None, repr=False)

    def open(self) -> AgeReader:
        with self._lock:  # one client for every reader (boto3's clients are thread-safe;
            if self._store is None:  # making one costs tens of milliseconds)
                self._store = self.remote.store()
            store = self._store
        if self.size is None:
            info = store.head(self.name)
            if info is None:
                raise LibraryError(
                    "this recording is neither on this laptop nor in the team store; "
                    "sync on the laptop that made it"
                )
            self.size = info.size
        with self._lock:
            if self._shared is None:
                self._shared = SharedBlocks(disk=self.cache)
        file = StoreObjectFile(store, self.name, self.size, self._shared, self.block_size)
        with self._lock:
            self._files.append(file)
        return AgeReader(cast(BinaryIO, file), self.identities)

    def count(self) -> tuple[int, int]:
        """(requests, bytes) fetched so far by every reader."""
        with self._lock:
            self.requests = sum(f.requests for f in self._files)
            self.fetched = sum(f.fetched for f in self._files)
        return self.requests, self.fetched


Locator = Callable[[Case, str], "tuple[Remote, str, int | None] | None"]


def _located(case: Case, record: MediaRecord) -> tuple[Remote, str, int | None] | None:
    """Where the store keeps the record's file: the record's own note, else the engine."""
    named = record.info.get("store")
    if isinstance(named, dict) and named.get("object"):
        remote = find_remote(case.session, named.get("remote"))
        size = named.get("size")
        return remote, str(named["object"]), int(size) if size is not None else None
    module = engine()
    locate: Locator | None = getattr(module, "locate_media", None) if module else None
    return locate(case, record.id) if locate else None


def media_source(case: Case, record: MediaRecord) -> Path | StoreMedia:
    """The local encrypted file if it is on this laptop, else the store object."""
    path = case.folder / record.file
    if path.exists():
        return path
    located = _located(case, record)
    if located is None:
        raise LibraryError(
            f"recording {record.id} is not on this laptop and no team store holds it "
            "that this laptop knows of; sync, then try again"
        )
    remote, name, size = located
    cache = block_cache(case.session.library.manifest.library_id)
    return StoreMedia(remote, name, [case.identity], size, cache)
