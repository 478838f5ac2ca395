"""Writing encrypted files safely: atomic replacement, and durable recordings named .partial."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from .keys import Recipient
from .stream import AgeWriter

PARTIAL_SUFFIX = ".partial"


def partial_path(path: str | os.PathLike[str]) -> Path:
    return Path(os.fspath(path) + PARTIAL_SUFFIX)


def fsync_directory(directory: str | os.PathLike[str]) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_file(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Yield a temporary file beside ``path``; on success fsync it and rename it over ``path``.

    On any exception the temporary file is removed and ``path`` is untouched.
    """
    target = Path(path)
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as temp:
            yield temp
            temp.flush()
            os.fsync(temp.fileno())
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
        self._sink = open(self.partial, "xb")  # noqa: SIM115
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
