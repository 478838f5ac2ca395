"""Writing encrypted files safely: atomic replacement, and durable recordings named .partial."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from .keys import Recipient
from .stream import AgeWriter

PARTIAL_SUFFIX = ".partial"
#: Everything videofeedback writes is for this OS account only: another account on the same
#: computer sees neither names, sizes nor dates of the library's files (docs/FORMAT.md, 10.3).
PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700


def private_folder(path: str | os.PathLike[str], parents: bool = False) -> Path:
    """Make ``path`` a folder only this account can open (created if missing; an existing
    one is made private). Folders created for ``parents`` are private too."""
    folder = Path(path)
    if parents and not folder.parent.exists():
        private_folder(folder.parent, parents=True)
    try:
        folder.mkdir(mode=PRIVATE_FOLDER)
    except FileExistsError:
        if not folder.is_dir():
            raise
    os.chmod(folder, PRIVATE_FOLDER)
    return folder


def _make_private(fd: int) -> None:
    """The file is this account's only, whatever the umask (POSIX; Windows has ACLs)."""
    if hasattr(os, "fchmod"):
        os.fchmod(fd, PRIVATE_FILE)


def make_tree_private(root: str | os.PathLike[str]) -> int:
    """Folders 0700 and files 0600 under ``root`` (itself included), for a folder written
    before videofeedback set modes; symbolic links are left alone. How many were changed."""
    changed = 0
    for folder, _, files in os.walk(root):
        for path, mode in [(folder, PRIVATE_FOLDER)] + [
            (os.path.join(folder, name), PRIVATE_FILE) for name in files
        ]:
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode) or stat.S_IMODE(info.st_mode) == mode:
                continue
            os.chmod(path, mode)
            changed += 1
    return changed


def partial_path(path: str | os.PathLike[str]) -> Path:
    return Path(os.fspath(path) + PARTIAL_SUFFIX)


def fsync_directory(directory: str | os.PathLike[str]) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_file(
    path: str | os.PathLike[str], temp: str | os.PathLike[str] | None = None
) -> Iterator[BinaryIO]:
    """Yield a temporary file beside ``path`` (readable by this account only); on success
    fsync it and rename it over ``path``. ``temp`` names the temporary file (it must not
    exist) when the caller must know it before the first byte, e.g. to sweep it after a crash.

    On any exception the temporary file is removed and ``path`` is untouched.
    """
    target = Path(path)
    if temp is None:
        fd, temp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
        )
    else:
        temp_name = os.fspath(temp)
        fd = os.open(temp_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    try:
        _make_private(fd)
        with os.fdopen(fd, "wb") as sink:
            yield sink
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    fsync_directory(target.parent)


def write_encrypted(
    path: str | os.PathLike[str], data: bytes, recipients: Sequence[Recipient]
) -> None:
    """Encrypt ``data`` to ``recipients`` and atomically replace ``path`` with it."""
    with atomic_file(path) as sink:
        writer = AgeWriter(sink, recipients)
        writer.write(data)
        writer.close()


@contextmanager
def atomic_encrypted_writer(
    path: str | os.PathLike[str], recipients: Sequence[Recipient]
) -> Iterator[AgeWriter]:
    """Stream plaintext into an encrypted file that appears at ``path`` only when complete."""
    with atomic_file(path) as sink:
        writer = AgeWriter(sink, recipients)
        yield writer
        writer.close()


class DurableEncryptedFile:
    """A recording in progress: writes ``NAME.partial``, fsynced chunk by chunk; ``close()``
    seals it and renames it to ``NAME``. If the process dies, ``recover()`` keeps every
    complete chunk. ``abort()`` leaves the .partial file for recovery."""

    def __init__(self, path: str | os.PathLike[str], recipients: Sequence[Recipient]) -> None:
        self.path = Path(path)
        self.partial = partial_path(self.path)
        if self.path.exists() or self.partial.exists():
            raise FileExistsError(f"{self.path} already exists")
        fd = os.open(self.partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        _make_private(fd)
        self._sink = os.fdopen(fd, "wb")
        fsync_directory(self.path.parent)
        self._writer = AgeWriter(self._sink, recipients, durable=True)

    @property
    def durable_bytes(self) -> int:
        return self._writer.durable_bytes

    @property
    def plaintext_written(self) -> int:
        return self._writer.plaintext_written

    def write(self, data: bytes | bytearray | memoryview) -> int:
        return self._writer.write(data)

    def close(self) -> Path:
        if not self._sink.closed:
            self._writer.close()
            self._sink.close()
            os.replace(self.partial, self.path)
            fsync_directory(self.path.parent)
        return self.path

    def abort(self) -> None:
        """Stop without sealing: the .partial file stays, recoverable."""
        if not self._sink.closed:
            self._sink.close()

    def __enter__(self) -> DurableEncryptedFile:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
