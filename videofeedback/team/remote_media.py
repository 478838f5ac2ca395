"""Playing a recording that is in the team store but not on this laptop.

``StoreMedia.open()`` gives a decrypting, seekable reader over ranged GETs of the store
object (``ranged.StoreObjectFile``): only the age chunks a read touches are fetched, each
is authenticated, and the plaintext stays in memory. What was fetched may be kept in a
ciphertext-only block cache outside the library folder, capped in size
(``VIDEOFEEDBACK_STORE_CACHE_MB``, default 1024; 0 turns it off).

Every block is checked against the recording's block list (``media_index``, FORMAT
§12.4) before it is decrypted or cached: the store cannot play another recording of the
case under this one's name, nor a cut or altered copy.

``media_source(case, record)`` is what a player asks for: the local file when it is here,
else the store object, named by the record (``info["store"]``) or by the sync engine
(``locate_media(case, media_id)``); a record without a block list is not played from
the store (sync downloads it whole, checked).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, cast

from encryption import AgeReader, Identity
from videofeedback.library.cases import Case
from videofeedback.library.errors import LibraryError
from videofeedback.library.local_state import state_dir
from videofeedback.library.records import MediaRecord

from .engine import engine
from .errors import StoreNotFoundError
from .media_index import BlockList, MediaCheckError, has_index, open_sealed
from .ranged import READ_AHEAD, READ_FIRST, BlockCache, SharedBlocks, StoreObjectFile
from .remotes import Remote, find_remote
from .store import MIB, S3Store

CACHE_ENV = "VIDEOFEEDBACK_STORE_CACHE_MB"
DEFAULT_CACHE_MB = 1024
#: Smaller than the ranged reader's default: seeking in a fragmented MP4 reads each
#: fragment's header (a few hundred bytes) on the way, not its pictures.
PLAY_BLOCK = 128 * 1024


@dataclass(frozen=True)
class Checked:
    """How a recording played from the store is checked: its block list's object name, the
    media record's info (``sha256``, ``bytes``, ``index``) and how to name it in errors."""

    index_name: str
    info: dict[str, Any]
    what: str


_clients: dict[Remote, S3Store] = {}
_clients_lock = threading.Lock()


def reading_client(remote: Remote) -> S3Store:
    """One S3 client per remote for every recording played from it in this process: making
    one costs ~100 ms, and its connections to the store stay open (keep-alive) for the next
    recording. boto3's clients are thread-safe."""
    with _clients_lock:
        if remote not in _clients:
            _clients[remote] = remote.store()
        return _clients[remote]


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
    """One encrypted recording in the store; ``open()`` may be called from any thread.
    With ``checked``, every block is checked against its block list before it is used."""

    remote: Remote
    name: str  # the object's opaque name under the remote's prefix
    identities: list[Identity]
    size: int | None = None
    cache: BlockCache | None = None
    block_size: int = PLAY_BLOCK
    checked: Checked | None = None
    requests: int = 0  # ranged GETs made by every reader opened so far
    fetched: int = 0  # bytes they brought from the store
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _files: list[StoreObjectFile] = field(default_factory=list, repr=False)
    _shared: SharedBlocks | None = field(default=None, repr=False)
    _store: S3Store | None = field(default=None, repr=False)
    _blocks: BlockList | None = field(default=None, repr=False)

    def open(self, first_read: int = READ_FIRST) -> AgeReader:
        """A new reader; ``first_read``: blocks its GET after a jump brings (1 for a reader
        that hops between headers, as the player's demuxer does)."""
        with self._lock:
            if self._store is None:
                self._store = reading_client(self.remote)
            store = self._store
            first = self._shared is None
            if first:  # nothing is read before the block list is (a failure leaves none)
                if self.checked is not None:
                    self._blocks = self._block_list(store, self.checked)
                    self.size, self.block_size = self._blocks.size, self._blocks.block
                self._shared = SharedBlocks(disk=self.cache)
            shared = self._shared
            assert shared is not None
        if self.size is None:
            info = store.head(self.name)
            if info is None:
                raise LibraryError(
                    "this recording is neither on this laptop nor in the team store; "
                    "sync on the laptop that made it"
                )
            self.size = info.size
        check = None
        if self.checked is not None:
            assert self._blocks is not None  # read before anything else (above)
            check = partial(self._blocks.check, what=self.checked.what)
        file = StoreObjectFile(
            store, self.name, self.size, shared, self.block_size, check, first_read
        )
        with self._lock:
            self._files.append(file)
        if first:  # what every reader reads first: the age header and the final chunk, and
            last = max(0, -(-self.size // self.block_size) - 1)  # what ffmpeg (or the
            file.prefetch([*range(READ_AHEAD), last - 1, last])  # player) probes: the moov
            # and the first fragment; each run in one GET
        return AgeReader(cast(BinaryIO, file), self.identities)

    def _block_list(self, store: S3Store, checked: Checked) -> BlockList:
        try:
            data = store.get(checked.index_name)
        except StoreNotFoundError:
            raise MediaCheckError(
                f"the team store has no block list for {checked.what}, so it cannot be "
                "checked while it plays; sync to download it first"
            ) from None
        return open_sealed(data, checked.info, self.identities, checked.what)

    def count(self) -> tuple[int, int]:
        """(requests, bytes) fetched so far by every reader."""
        with self._lock:
            self.requests = sum(f.requests for f in self._files)
            self.fetched = sum(f.fetched for f in self._files)
        return self.requests, self.fetched


Locator = Callable[[Case, str], "tuple[Remote, str, int | None] | None"]


def _located(case: Case, record: MediaRecord) -> tuple[Remote, str, str | None] | None:
    """Where the store keeps the record's file and its block list: the record's own note,
    else the engine."""
    named = record.info.get("store")
    if isinstance(named, dict) and named.get("object"):
        remote = find_remote(case.session, named.get("remote"))
        index = named.get("index")
        return remote, str(named["object"]), str(index) if index else None
    module = engine()
    locate: Locator | None = getattr(module, "locate_media", None) if module else None
    found = locate(case, record.id) if locate else None
    if found is None:
        return None
    index_of: Callable[[Case, str], str] | None = getattr(module, "locate_index", None)
    return found[0], found[1], index_of(case, record.id) if index_of else None


def media_source(case: Case, record: MediaRecord) -> Path | StoreMedia:
    """The local encrypted file if it is on this laptop, else the store object, checked
    block by block against its block list (a record without one is refused: sync first)."""
    path = case.folder / record.file
    if path.exists():
        return path
    located = _located(case, record)
    if located is None:
        raise LibraryError(
            f"recording {record.id} is not on this laptop and no team store holds it "
            "that this laptop knows of; sync, then try again"
        )
    remote, name, index_name = located
    if index_name is None or not has_index(record.info):
        raise LibraryError(
            f"recording {record.id} was stored without a block list, so it cannot be "
            "checked while it plays from the team store; sync to download it first"
        )
    checked = Checked(index_name, dict(record.info), f"recording {record.id}")
    cache = block_cache(case.session.library.manifest.library_id)
    return StoreMedia(remote, name, [case.identity], None, cache, checked=checked)
