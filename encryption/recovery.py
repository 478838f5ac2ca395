"""Sealing an unfinished durable file (see docs/FORMAT.md, section 4)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .errors import EncryptionError, PayloadError, RecoveryError
from .files import PARTIAL_SUFFIX, atomic_file, partial_path
from .keys import Identity
from .stream import CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE, AgeReader, PayloadCipher, open_payload


@dataclass(frozen=True)
class RecoveryResult:
    path: Path
    kept_bytes: int  # plaintext kept
    dropped_bytes: int  # ciphertext bytes of a torn or unverifiable tail that were dropped
    already_sealed: bool


def _locate(path: Path) -> tuple[Path, Path]:
    """Return ``(unfinished, sealed_target)`` for a path given either way."""
    if path.name.endswith(PARTIAL_SUFFIX):
        return path, path.with_name(path.name[: -len(PARTIAL_SUFFIX)])
    return partial_path(path), path


def recover(path: str | os.PathLike[str], identities: Sequence[Identity]) -> RecoveryResult:
    """Seal ``NAME.partial`` into ``NAME``, keeping every complete chunk that verifies."""
    unfinished, target = _locate(Path(path))
    if not unfinished.exists():
        if not target.exists():
            raise RecoveryError(f"there is no file {target} and no unfinished {unfinished}")
        return RecoveryResult(target, _verify_sealed(target, identities), 0, already_sealed=True)
    if target.exists():
        raise RecoveryError(f"both {target} and {unfinished} exist; move one aside and retry")
    with open(unfinished, "rb") as source:
        cipher, prefix, complete, total = _open_unfinished(source, unfinished, identities)
        with atomic_file(target) as sink:
            sink.write(prefix)
            kept = _write_sealed(sink, cipher, _verified_chunks(source, cipher, complete))
    unfinished.unlink()
    return RecoveryResult(target, kept * CHUNK_SIZE, total - kept * ENCRYPTED_CHUNK_SIZE, False)


def recoverable_bytes(path: str | os.PathLike[str], identities: Sequence[Identity]) -> int:
    """How many plaintext bytes a recovery of this unfinished file would keep (changes nothing)."""
    with open(path, "rb") as source:
        cipher, _, complete, _ = _open_unfinished(source, Path(path), identities)
        return sum(len(plain) for _, plain in _verified_chunks(source, cipher, complete))


def _verify_sealed(target: Path, identities: Sequence[Identity]) -> int:
    with AgeReader(target, identities) as reader:
        try:
            return reader.verify()
        except PayloadError as exc:
            raise PayloadError(
                f"{target} was sealed and is now damaged (not an unfinished recording), "
                f"so it cannot be recovered: {exc}"
            ) from None


def _open_unfinished(
    source: BinaryIO, path: Path, identities: Sequence[Identity]
) -> tuple[PayloadCipher, bytes, int, int]:
    """Return the cipher, the header+nonce bytes, the count of complete chunks, payload size."""
    try:
        cipher, offset = open_payload(source, identities)
    except EncryptionError as exc:
        raise RecoveryError(f"{path} cannot be recovered: {exc}") from None
    source.seek(0)
    prefix = source.read(offset)
    total = os.fstat(source.fileno()).st_size - offset
    return cipher, prefix, total // ENCRYPTED_CHUNK_SIZE, total


def _verified_chunks(
    source: BinaryIO, cipher: PayloadCipher, complete: int
) -> Iterator[tuple[bytes, bytes]]:
    """``(ciphertext, plaintext)`` of each complete non-final chunk, up to the first bad one."""
    for index in range(complete):
        ciphertext = source.read(ENCRYPTED_CHUNK_SIZE)
        try:
            plaintext = cipher.open(index, ciphertext, final=False)
        except PayloadError:
            return
        yield ciphertext, plaintext


def _write_sealed(
    sink: BinaryIO, cipher: PayloadCipher, chunks: Iterator[tuple[bytes, bytes]]
) -> int:
    """Copy the chunks, resealing the last one as final; return how many were kept."""
    held: tuple[bytes, bytes] | None = None
    kept = 0
    for chunk in chunks:
        if held is not None:
            sink.write(held[0])
        held, kept = chunk, kept + 1
    sink.write(cipher.seal(max(kept - 1, 0), held[1] if held else b"", final=True))
    return kept
