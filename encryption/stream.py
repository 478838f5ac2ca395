"""The age STREAM payload: a streaming writer and a seekable, verifying reader."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Sequence
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from .errors import (
    HeaderError,
    NoIdentityMatchError,
    PayloadError,
    UnfinishedError,
    WrongPassphraseError,
)
from .header import Header, Stanza, check_mac, hkdf, read_header, write_header
from .keys import FILE_KEY_SIZE, Identity, Recipient, ScryptIdentity

CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
NONCE_SIZE = 16
_WRITE_BATCH = 16 * ENCRYPTED_CHUNK_SIZE  # large writes are markedly cheaper than 64 KiB ones


class PayloadCipher:
    """Seals and opens the chunks of one file's payload."""

    def __init__(self, file_key: bytes, nonce: bytes) -> None:
        self._aead = ChaCha20Poly1305(hkdf(file_key, nonce, b"payload"))

    @staticmethod
    def _nonce(index: int, final: bool) -> bytes:
        return index.to_bytes(11, "big") + (b"\x01" if final else b"\x00")

    def seal(self, index: int, plaintext: bytes | bytearray | memoryview, final: bool) -> bytes:
        return self._aead.encrypt(self._nonce(index, final), plaintext, None)

    def open(self, index: int, ciphertext: bytes, final: bool) -> bytes:
        """Decrypt chunk ``index``; raise PayloadError unless it verifies with that flag."""
        if len(ciphertext) < TAG_SIZE or (not final and len(ciphertext) != ENCRYPTED_CHUNK_SIZE):
            raise PayloadError(_damaged_at(index, "it has the wrong length"))
        try:
            plaintext = self._aead.decrypt(self._nonce(index, final), ciphertext, None)
        except InvalidTag:
            raise PayloadError(_damaged_at(index, "it does not verify")) from None
        if final and index > 0 and not plaintext:
            raise PayloadError(_damaged_at(index, "the final chunk is empty"))
        return plaintext

    def open_either(self, index: int, ciphertext: bytes, expect_final: bool) -> tuple[bytes, bool]:
        """Decrypt a chunk whose flag is not known: a full chunk may be final or not, a short
        one only final. Tries the expected flag first; returns ``(plaintext, final)``."""
        if len(ciphertext) != ENCRYPTED_CHUNK_SIZE:
            return self.open(index, ciphertext, final=True), True
        try:
            return self.open(index, ciphertext, expect_final), expect_final
        except PayloadError:
            return self.open(index, ciphertext, not expect_final), not expect_final


def _trailing_data(index: int) -> PayloadError:
    return PayloadError(
        f"the encrypted content ends at byte {(index + 1) * CHUNK_SIZE} but more data follows; "
        "the file was altered or joined with another"
    )


def _no_final_chunk(index: int) -> UnfinishedError:
    return UnfinishedError(
        f"the encrypted content stops after byte {(index + 1) * CHUNK_SIZE} without its end: "
        "the file is truncated or an unfinished recording; if it is a recording, recover it"
    )


def _damaged_at(index: int, reason: str) -> str:
    return (
        f"the encrypted content is damaged, truncated or unfinished at byte {index * CHUNK_SIZE} "
        f"({reason}); if this is an interrupted recording, recover it"
    )


# --- the header, both ways --------------------------------------------------------------------


def new_header(recipients: Sequence[Recipient]) -> tuple[bytes, bytes]:
    """Return ``(file_key, header_bytes)`` for a new file to ``recipients``."""
    if not recipients:
        raise NoIdentityMatchError("no recipients given; say who may open the file")
    file_key = os.urandom(FILE_KEY_SIZE)
    stanzas: list[Stanza] = [r.wrap(file_key) for r in recipients]
    if any(s.type == "scrypt" for s in stanzas) and len(stanzas) > 1:
        raise ValueError("a passphrase-encrypted file can have no other recipient")
    return file_key, write_header(stanzas, file_key)


def unwrap_file_key(header: Header, identities: Sequence[Identity]) -> bytes:
    """Find the file key with one of ``identities`` and check the header MAC."""
    types = [s.type for s in header.stanzas]
    if "scrypt" in types and len(types) > 1:
        raise HeaderError("the file's header is damaged (a passphrase stanza is not alone)")
    for identity in identities:
        file_key = identity.unwrap(header.stanzas)
        if file_key is not None:
            check_mac(header, file_key)
            return file_key
    if "scrypt" in types and any(isinstance(i, ScryptIdentity) for i in identities):
        raise WrongPassphraseError("wrong passphrase; check it and try again")
    raise NoIdentityMatchError(
        "none of your keys can open this file; it was encrypted for someone else"
    )


def open_payload(source: BinaryIO, identities: Sequence[Identity]) -> tuple[PayloadCipher, int]:
    """Read the header at the start of ``source``; return the cipher and the header length."""
    header = read_header(source)
    file_key = unwrap_file_key(header, identities)
    nonce = source.read(NONCE_SIZE)
    if len(nonce) != NONCE_SIZE:
        raise HeaderError("the file ends right after its header; it is truncated")
    return PayloadCipher(file_key, nonce), header.length + NONCE_SIZE


# --- writing ----------------------------------------------------------------------------------


class AgeWriter:
    """Encrypts what is written to it onto ``sink``, as one age file.

    With ``durable=True`` every complete chunk is sealed (as non-final) and fsynced as soon
    as it is full, so a killed writer loses at most the chunk in progress; ``close()`` then
    rewrites the last chunk in place as final if no more data came (the sink must be a
    seekable file). See docs/FORMAT.md.
    ``close()`` writes the final chunk; it does not close the sink.
    """

    def __init__(
        self, sink: BinaryIO, recipients: Sequence[Recipient], *, durable: bool = False
    ) -> None:
        self._sink = sink
        self._durable = durable
        file_key, header = new_header(recipients)
        nonce = os.urandom(NONCE_SIZE)
        self._cipher = PayloadCipher(file_key, nonce)
        self._buffer = bytearray()
        self._batch = memoryview(bytearray(_WRITE_BATCH))  # reused: no page faults per batch
        self._batched = 0  # ciphertext bytes in the batch, not yet handed to the sink
        self._last_plaintext = b""  # durable mode: the newest chunk, to reseal it as final
        self._index = 0
        self._closed = False
        self.plaintext_written = 0
        sink.write(header + nonce)
        self._sync()

    @property
    def durable_bytes(self) -> int:
        """Plaintext bytes already sealed in complete chunks (kept by a recovery)."""
        return self._index * CHUNK_SIZE

    def _sync(self) -> None:
        if self._durable:
            self._sink.flush()
            os.fsync(self._sink.fileno())

    def _emit(self, plaintext: bytes | bytearray | memoryview, final: bool) -> None:
        sealed = self._cipher.seal(self._index, plaintext, final)
        self._index += 1
        self._batch[self._batched : self._batched + len(sealed)] = sealed
        self._batched += len(sealed)
        if self._durable or final or self._batched == _WRITE_BATCH:
            self._sink.write(self._batch[: self._batched])
            self._batched = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self._closed:
            raise ValueError("write to a closed encrypted file")
        view = memoryview(data).cast("B")
        size = len(view)
        emitted = False
        while view:
            if len(self._buffer) == CHUNK_SIZE:  # more data follows: the held chunk is not final
                self._emit_held()
                emitted = True
            while not self._buffer and len(view) > CHUNK_SIZE:
                self._emit(view[:CHUNK_SIZE], final=False)
                view = view[CHUNK_SIZE:]
                emitted = True
            take = CHUNK_SIZE - len(self._buffer)
            self._buffer += view[:take]
            view = view[take:]
            if self._durable and len(self._buffer) == CHUNK_SIZE:
                self._emit_held()  # durable: on disk now; close() reseals it if it was the last
                emitted = True
        if emitted:
            self._sync()
        self.plaintext_written += size
        return size

    def _emit_held(self) -> None:
        self._last_plaintext = bytes(self._buffer)
        self._emit(self._buffer, final=False)
        self._buffer = bytearray()

    def close(self) -> None:
        if self._closed:
            return
        if self._buffer or self._index == 0:
            self._emit(self._buffer, final=True)
        else:  # durable mode sealed the last full chunk as non-final: write it again, final
            self._sink.flush()
            self._sink.seek(-ENCRYPTED_CHUNK_SIZE, os.SEEK_END)
            self._sink.truncate()
            self._index -= 1
            self._emit(self._last_plaintext, final=True)
        self._buffer = bytearray()
        self._closed = True
        self._sink.flush()
        self._sync()

    @property
    def closed(self) -> bool:
        return self._closed


# --- reading ----------------------------------------------------------------------------------


class AgeReader(io.RawIOBase):
    """A seekable, read-only view of an age file's plaintext.

    Only the chunks a read touches are decrypted (the last one is cached); every byte
    returned has been authenticated. The size is trusted only after the final chunk verified.
    """

    def __init__(
        self, source: str | os.PathLike[str] | BinaryIO, identities: Sequence[Identity]
    ) -> None:
        super().__init__()
        self._owns = isinstance(source, (str, os.PathLike))
        self._file: BinaryIO = (
            open(source, "rb") if isinstance(source, (str, os.PathLike)) else source
        )
        try:
            self._file.seek(0)
            self._cipher, self._offset = open_payload(self._file, identities)
            self._file.seek(0, os.SEEK_END)
            ciphertext = self._file.tell() - self._offset
        except BaseException:
            if self._owns:
                self._file.close()
            raise
        self._chunks = max(1, -(-ciphertext // ENCRYPTED_CHUNK_SIZE))
        self._claimed_size = ciphertext - TAG_SIZE * self._chunks
        self._position = 0
        self._cached: tuple[int, bytes] = (-1, b"")
        self._last_is_final: bool | None = None  # known once the last chunk was opened
        self._early_end: int | None = None  # a final chunk found before the last position
        self._fd = _fileno(self._file)

    # io.RawIOBase
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET:
            target = offset
        elif whence == os.SEEK_CUR:
            target = self._position + offset
        elif whence == os.SEEK_END:
            target = self.size() + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if target < 0:
            raise ValueError("negative seek position")
        self._position = target
        return target

    def size(self) -> int:
        """The plaintext size, after verifying the final chunk."""
        if self._last_is_final is None:
            self._chunk(self._chunks - 1)
        if self._early_end is not None:
            raise _trailing_data(self._early_end)
        if not self._last_is_final:
            raise _no_final_chunk(self._chunks - 1)
        return self._claimed_size

    def verify(self) -> int:
        """Authenticate every chunk; return the plaintext size."""
        for index in range(self._chunks):
            self._chunk(index)
        return self.size()

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        out = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(out):
            try:
                piece = self._piece(len(out) - filled)
            except PayloadError:
                if filled:  # hand over what verified; the next read raises
                    break
                raise
            if not piece:
                break
            out[filled : filled + len(piece)] = piece
            filled += len(piece)
            self._position += len(piece)
        return filled

    def _piece(self, limit: int) -> bytes:
        """Up to ``limit`` verified bytes at the current position, from one chunk."""
        index, start = divmod(self._position, CHUNK_SIZE)
        if index >= self._chunks:
            self.size()  # EOF is only trusted once the final chunk verified
            return b""
        return self._chunk(index)[start : start + limit]

    def readall(self) -> bytes:
        parts = []
        while chunk := self.read(CHUNK_SIZE * 16):
            parts.append(chunk)
        return b"".join(parts)

    def close(self) -> None:
        if self._owns and not self.closed:
            self._file.close()
        super().close()

    # chunks
    def _read_ciphertext(self, index: int) -> bytes:
        offset = self._offset + index * ENCRYPTED_CHUNK_SIZE
        if self._fd is not None:
            return os.pread(self._fd, ENCRYPTED_CHUNK_SIZE, offset)
        self._file.seek(offset)
        return self._file.read(ENCRYPTED_CHUNK_SIZE)

    def _chunk(self, index: int) -> bytes:
        if self._early_end is not None and index > self._early_end:
            raise _trailing_data(self._early_end)
        if self._cached[0] == index:
            return self._cached[1]
        last = index == self._chunks - 1
        plaintext, final = self._cipher.open_either(index, self._read_ciphertext(index), last)
        if last:
            self._last_is_final = final
        elif final:
            self._early_end = index
        self._cached = (index, plaintext)
        return plaintext


def _fileno(file: BinaryIO) -> int | None:
    try:
        return file.fileno()
    except (OSError, AttributeError, io.UnsupportedOperation):
        return None


def iter_decrypt(source: BinaryIO, identities: Sequence[Identity]) -> Iterator[bytes]:
    """Decrypt a non-seekable stream (a pipe) chunk by chunk, releasing only verified chunks."""
    cipher, _ = open_payload(source, identities)
    current = _read_exactly(source, ENCRYPTED_CHUNK_SIZE)
    index = 0
    while True:
        full = len(current) == ENCRYPTED_CHUNK_SIZE
        following = _read_exactly(source, ENCRYPTED_CHUNK_SIZE) if full else b""
        plaintext, final = cipher.open_either(index, current, expect_final=not following)
        yield plaintext
        if final and following:
            raise _trailing_data(index)
        if final:
            return
        if not following:
            raise _no_final_chunk(index)
        current, index = following, index + 1


def _read_exactly(source: BinaryIO, size: int) -> bytes:
    parts = []
    while size:
        part = source.read(size)
        if not part:
            break
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


def read_encrypted(path: str | os.PathLike[str], identities: Sequence[Identity]) -> bytes:
    """Decrypt a whole (small) file into memory."""
    with AgeReader(path, identities) as reader:
        return reader.readall()
