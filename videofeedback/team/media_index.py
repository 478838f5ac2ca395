"""The block list of a media file in the store: one SHA-256 per ciphertext block, so a
recording played from the store is checked block by block before anything of it is
decrypted (docs/FORMAT.md §12.4).

Built where sync stamps a media record's ``sha256`` (one pass over the file), sealed once to
the case and kept in ``cases/ID/sync/index/MEDIA_ID`` for the upload; the record's ``index``
names the list's SHA-256 (of its plaintext: the same on every laptop holding the file) and
the block size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from encryption import EncryptionError, Identity, Recipient, private_folder, write_encrypted
from videofeedback.library.cases import Case
from videofeedback.library.errors import LibraryError

from .errors import StoreConflictError, SyncError
from .heads import CaseNames, decrypt
from .remotes import Remote, load_remotes
from .store import S3Store

BLOCK = 128 * 1024  # the player's ranged block (remote_media.PLAY_BLOCK)
MAGIC = b"videofeedback media index v1\n"
DIGEST = 32


class MediaCheckError(LibraryError):
    """The store serves bytes for a recording that are not the ones its record names."""


@dataclass(frozen=True)
class BlockList:
    """The SHA-256 of each block of a media file's ciphertext."""

    size: int  # the file's ciphertext bytes
    sha256: str  # the whole file's SHA-256 (hex), as in the media record
    block: int
    digests: bytes  # ceil(size / block) digests of 32 bytes

    @property
    def count(self) -> int:
        return -(-self.size // self.block)

    def digest(self, index: int) -> bytes:
        return self.digests[index * DIGEST : (index + 1) * DIGEST]

    def check(self, index: int, data: bytes, what: str) -> None:
        """Raise unless ``data`` is block ``index`` of the file the list describes."""
        expected = min(self.block, self.size - index * self.block)
        if (
            not 0 <= index < self.count
            or len(data) != expected
            or hashlib.sha256(data).digest() != self.digest(index)
        ):
            raise MediaCheckError(
                f"the team store serves other bytes as {what} (block {index} is not the one "
                "its record names: another recording, altered or cut short); nothing of it "
                "was shown — sync to download it, and tell your administrator if it persists"
            )

    def to_bytes(self) -> bytes:
        head = f"bytes {self.size}\nsha256 {self.sha256}\nblock {self.block}\n\n"
        return MAGIC + head.encode() + self.digests

    @classmethod
    def from_bytes(cls, data: bytes) -> BlockList:
        if not data.startswith(MAGIC):
            raise ValueError("not a media index")
        head, sep, digests = data[len(MAGIC) :].partition(b"\n\n")
        fields = dict(line.split(" ", 1) for line in head.decode().splitlines())
        made = cls(int(fields["bytes"]), fields["sha256"], int(fields["block"]), digests)
        if not sep or made.block <= 0 or len(digests) != made.count * DIGEST:
            raise ValueError("a media index of the wrong length")
        return made


def build(path: Path, block: int = BLOCK) -> BlockList:
    """The block list of a file, with its whole SHA-256 and size (one pass)."""
    whole, digests, size = hashlib.sha256(), bytearray(), 0
    with open(path, "rb") as file:
        while data := file.read(block):
            whole.update(data)
            digests += hashlib.sha256(data).digest()
            size += len(data)
    return BlockList(size, whole.hexdigest(), block, bytes(digests))


def seal(blocks: BlockList, recipients: Sequence[Recipient], target: Path) -> dict[str, Any]:
    """Seal the list to the case, keep the ciphertext at ``target`` (atomically), and return
    what the media record carries: ``{"sha256": of the list's plaintext, "block": B}`` — the
    same on every laptop that holds the file (two copies of one folder stamp alike)."""
    plain = blocks.to_bytes()
    private_folder(target.parent, parents=True)
    write_encrypted(target, plain, recipients)
    return {"sha256": hashlib.sha256(plain).hexdigest(), "block": blocks.block}


def _opened(data: bytes, identities: Sequence[Identity]) -> bytes | None:
    try:
        return decrypt(data, identities)
    except EncryptionError:
        return None


def open_sealed(
    data: bytes, info: Mapping[str, Any], identities: Sequence[Identity], what: str
) -> BlockList:
    """The block list fetched from the store, checked against the media record's ``info``
    (``sha256``, ``bytes``, ``index``); any difference is a MediaCheckError."""
    index = info.get("index") or {}
    refused = MediaCheckError(
        f"the team store serves another block list for {what} than its record names; "
        "nothing of it was shown — sync to download it, and tell your administrator"
    )
    plain = _opened(data, identities)
    if plain is None or hashlib.sha256(plain).hexdigest() != index.get("sha256"):
        raise refused
    try:
        blocks = BlockList.from_bytes(plain)
    except (ValueError, KeyError):
        raise refused from None
    if (blocks.size, blocks.sha256, blocks.block) != (
        info.get("bytes"),
        info.get("sha256"),
        index.get("block"),
    ):
        raise refused
    return blocks


def has_index(info: Mapping[str, Any]) -> bool:
    index = info.get("index")
    return isinstance(index, dict) and bool(index.get("sha256")) and "sha256" in info


def sealed_path(case_folder: Path, media_id: str) -> Path:
    """Where this laptop keeps the sealed block list it made for a media file."""
    return case_folder / "sync" / "index" / media_id


def stamp(path: Path, recipients: Sequence[Recipient], sealed: Path) -> dict[str, Any]:
    """What sync puts in a finished media file's record: its ciphertext ``sha256`` and
    ``bytes``, and its block list's ``index`` (the list sealed and kept at ``sealed``)."""
    blocks = build(path)
    index = seal(blocks, recipients, sealed)
    return {"sha256": blocks.sha256, "bytes": blocks.size, "index": index}


def push(store: S3Store, name: str, sealed: Path, identities: Sequence[Identity]) -> bool:
    """Upload the sealed block list this laptop made (write-once). One already there counts
    if it opens to the same list (a retried sync, or another copy of this folder). False
    when this laptop made none (it downloaded the file)."""
    if not sealed.exists():
        return False
    data = sealed.read_bytes()
    try:
        store.put_new(name, data)
    except StoreConflictError:
        there = _opened(store.get(name), identities)
        if there is None or there != _opened(data, identities):
            raise SyncError(
                "the store holds a different block list where this laptop's goes; nothing "
                "was replaced — tell your administrator"
            ) from None
    return True


def _remote_for(case: Case) -> Remote | None:
    """The remote this library last synced with (the only one, mostly)."""
    remotes = load_remotes(case.session)
    local = case.session.library.local
    ranked = sorted(remotes.values(), key=lambda r: str(local.sync_value(f"last:{r.name}", "")))
    return ranked[-1] if ranked else None


def locate_media(case: Case, media_id: str) -> tuple[Remote, str, int | None] | None:
    """The sync engine's answer to the player (``remote_media``): where the store keeps a
    media file this laptop does not have."""
    remote = _remote_for(case)
    if remote is None:
        return None
    size = case.media.get(media_id).info.get("bytes")
    return remote, CaseNames.of(case.identity).media(media_id), size


def locate_index(case: Case, media_id: str) -> str:
    """The store name of that media file's block list."""
    return CaseNames.of(case.identity).index(media_id)
