"""A large object from the store into a file: ranged GETs on several threads, each block
written in place with ``os.pwrite``, hashed in order, resumable (docs/FORMAT.md §12.1).

The bytes go to a hidden partial file beside the target; only a whole object whose SHA-256
and size are the ones its (signed, synced) record names is moved into place, so a half
download is never visible under the object's name. A small state file (the object's
opaque name, its size and hash, the bytes already written, fsynced and hashed — nothing
about people) lets a killed download go on from there: the partial file's prefix is hashed
again locally and the rest fetched.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from encryption import atomic_file, private_folder

from .errors import StoreError
from .store import MIB, S3Store

BLOCK = 8 * MIB
THREADS = 6  # ranged GETs in flight (boto3's download_file runs 10)
WINDOW = THREADS + 2  # blocks fetched ahead of the hasher: memory <= WINDOW x BLOCK
CHECKPOINT = 64 * MIB  # fsync the partial file and record the prefix every this many bytes


class DownloadMismatchError(StoreError):
    """The store served other bytes than the record names (hash or size)."""


class LocalDiskFullError(StoreError):
    """This laptop's disk filled up while downloading."""


@dataclass(frozen=True)
class Wanted:
    """An object to fetch and what it must be."""

    name: str
    size: int
    sha256: str


def partial_of(target: Path) -> Path:
    return target.with_name(f".{target.name}.sync.tmp")


def download(
    store: S3Store,
    wanted: Wanted,
    target: Path,
    state_path: Path,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Fetch ``wanted`` into ``target`` (replaced atomically once whole and checked);
    ``progress`` gets the bytes done so far (resumed bytes included)."""
    private_folder(target.parent, parents=True)
    partial = partial_of(target)
    try:
        _fetch(store, wanted, partial, state_path, progress)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise LocalDiskFullError(
                f"this laptop's disk is full: {target.name} could not be downloaded; free some "
                "space and sync again (it goes on where it stopped)"
            ) from None
        raise
    os.replace(partial, target)
    state_path.unlink(missing_ok=True)


def _fetch(
    store: S3Store,
    wanted: Wanted,
    partial: Path,
    state_path: Path,
    progress: Callable[[int], None] | None,
) -> None:
    digest = hashlib.sha256()
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(partial, flags, 0o600)
    try:
        done = _resume(fd, wanted, state_path, digest)
        if progress:
            progress(done)
        _blocks(store, wanted, fd, done, digest, state_path, progress)
        os.ftruncate(fd, wanted.size)
        os.fsync(fd)
    finally:
        os.close(fd)
    if digest.hexdigest() != wanted.sha256:
        partial.unlink(missing_ok=True)
        state_path.unlink(missing_ok=True)
        raise DownloadMismatchError(f"{wanted.name}: SHA-256 differs from its record")


def _resume(fd: int, wanted: Wanted, state_path: Path, digest: Any) -> int:
    """The bytes of the partial file already fetched (and hashed again here), or 0."""
    state = _read_state(state_path)
    same = [state.get(k) for k in ("name", "size", "sha256")] == [
        wanted.name,
        wanted.size,
        wanted.sha256,
    ]
    recorded = state.get("done")
    done = 0
    if same and isinstance(recorded, int) and recorded > 0:
        done = min(recorded, wanted.size, os.fstat(fd).st_size)
    position = 0
    while position < done:
        block = os.pread(fd, min(BLOCK, done - position), position)
        if not block:
            break
        digest.update(block)
        position += len(block)
    return position


def _blocks(
    store: S3Store,
    wanted: Wanted,
    fd: int,
    done: int,
    digest: Any,
    state_path: Path,
    progress: Callable[[int], None] | None,
) -> None:
    """Fetch the blocks from ``done`` on, WINDOW ahead, THREADS at once; hash in order."""

    def fetch(start: int) -> bytes:
        data = store.get(wanted.name, start, min(wanted.size, start + BLOCK))
        if len(data) != min(BLOCK, wanted.size - start):
            raise DownloadMismatchError(f"{wanted.name}: a block came back short")
        view = memoryview(data)
        written = 0
        while written < len(data):
            written += os.pwrite(fd, view[written:], start + written)
        return data

    starts = iter(range(done, wanted.size, BLOCK))
    checkpoint = done
    with ThreadPoolExecutor(THREADS) as pool, ThreadPoolExecutor(1) as flusher:
        ahead: deque[Future[bytes]] = deque()
        flushed: Future[None] | None = None
        try:
            for start in starts:
                ahead.append(pool.submit(fetch, start))
                if len(ahead) >= WINDOW:
                    break
            while ahead:
                block = ahead.popleft().result()
                digest.update(block)
                done += len(block)
                del block
                if (following := next(starts, None)) is not None:
                    ahead.append(pool.submit(fetch, following))
                if done - checkpoint >= CHECKPOINT and (flushed is None or flushed.done()):
                    # off this thread: the blocks keep coming while the disk catches up
                    flushed = flusher.submit(_checkpoint, fd, state_path, wanted, done)
                    checkpoint = done
                if progress:
                    progress(done)
            if flushed is not None:
                flushed.result()
        except BaseException:
            for future in ahead:
                future.cancel()
            try:  # what was hashed in order is on disk: the next run goes on from it
                _checkpoint(fd, state_path, wanted, done)
            except OSError:
                pass  # (a full disk): the last checkpoint stands
            raise


def _checkpoint(fd: int, state_path: Path, wanted: Wanted, done: int) -> None:
    """The first ``done`` bytes made durable, then recorded as such."""
    os.fsync(fd)
    _write_state(state_path, wanted, done)


def _read_state(path: Path) -> dict[str, Any]:
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _write_state(path: Path, wanted: Wanted, done: int) -> None:
    private_folder(path.parent, parents=True)
    state = {"name": wanted.name, "size": wanted.size, "sha256": wanted.sha256, "done": done}
    with atomic_file(path) as out:
        out.write(json.dumps(state).encode())
