"""Opaque store names of a case's objects, and a device's signed head (docs/FORMAT.md §12.2)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from encryption import (
    EncryptionError,
    Identity,
    Recipient,
    SignatureError,
    SigningKey,
    VerifyKey,
    iter_decrypt,
)
from videofeedback.library.audit import encrypt_bytes, open_note, sign_note
from videofeedback.library.errors import LibraryError
from videofeedback.library.keyring import CaseKeys

from .errors import SyncError

BATCH_GENESIS = hashlib.sha256(b"videofeedback batches v1").digest()
PACK_MAGIC = b"videofeedback entries v1\n"


def pack(items: Sequence[bytes]) -> bytes:
    """Entries (ciphertexts) in one object: each as 8 bytes of length, then the bytes."""
    return PACK_MAGIC + b"".join(len(i).to_bytes(8, "big") + i for i in items)


def unpack(data: bytes) -> list[bytes]:
    if not data.startswith(PACK_MAGIC):
        raise ValueError("not a pack of entries")
    items, at = [], len(PACK_MAGIC)
    while at < len(data):
        size = int.from_bytes(data[at : at + 8], "big")
        if at + 8 + size > len(data):
            raise ValueError("a pack of entries is cut short")
        items.append(data[at + 8 : at + 8 + size])
        at += 8 + size
    return items


def batch_next(previous: bytes, ciphertext: bytes) -> bytes:
    return hashlib.sha256(previous + hashlib.sha256(ciphertext).digest()).digest()


def encrypt(data: bytes, recipients: Sequence[Recipient]) -> bytes:
    return encrypt_bytes(data, recipients)


def decrypt(data: bytes, identities: Sequence[Identity]) -> bytes:
    return b"".join(iter_decrypt(io.BytesIO(data), identities))


class HeadKeyError(SyncError):
    """A head this laptop's case keys do not open (a newer epoch, or no longer a member)."""


@dataclass(frozen=True)
class CaseNames:
    """The store's names for one case: HMACs under a key only members hold."""

    key: bytes

    @classmethod
    def of(cls, keys: CaseKeys) -> CaseNames:
        secret = str(keys.epoch_identity(1)).encode()
        return cls(hmac.new(secret, b"videofeedback store tag key", hashlib.sha256).digest())

    def _mac(self, text: str) -> str:
        return hmac.new(self.key, text.encode(), hashlib.sha256).hexdigest()[:32]

    @property
    def heads(self) -> str:
        return f"h/{self._mac('case')}/"

    def head(self, device: str) -> str:
        return self.heads + self._mac(f"device\n{device}")

    def entries(self, device: str, first: int) -> str:
        """The pack of the device's trail entries from number ``first`` on."""
        return "o/" + self._mac(f"entries\n{device}\n{first}")

    def batch(self, device: str, number: int) -> str:
        return "o/" + self._mac(f"batch\n{device}\n{number}")

    def media(self, media_id: str) -> str:
        return "o/" + self._mac(f"media\n{media_id}")

    def index(self, media_id: str) -> str:
        """The media file's block list (FORMAT §12.4)."""
        return "o/" + self._mac(f"media-index\n{media_id}")

    def keys(self, digest: str) -> str:
        return "o/" + self._mac(f"keys\n{digest}")

    def epoch_note(self, tag: str, epoch: int) -> str:
        """The signed note of key epoch ``epoch`` as device ``tag`` holds it (§12.6)."""
        return "o/" + self._mac(f"epoch note\n{tag}\n{epoch}")


@dataclass(frozen=True)
class Head:
    """What one device holds of a case: its trail, its change batches, its key file."""

    case: str
    device: str
    entries: int
    trail: bytes  # chain value after ``entries`` (docs/FORMAT.md §9)
    batches: int
    batch_chain: bytes
    keys: str  # SHA-256 hex of the key.age it holds
    lamport: int
    user: str = ""

    def text(self) -> bytes:
        b64 = base64.b64encode
        return (
            f"videofeedback.sync/{self.case}\n{self.device}\n"
            f"audit {self.entries} {b64(self.trail).decode()}\n"
            f"batches {self.batches} {b64(self.batch_chain).decode()}\n"
            f"keys {self.keys}\nlamport {self.lamport}\n"
        ).encode()

    def seal(self, key: SigningKey, recipients: Sequence[Recipient]) -> bytes:
        return encrypt(sign_note(self.text(), self.user, key), recipients)

    @classmethod
    def open(
        cls, data: bytes, identities: Sequence[Identity], keys: Mapping[str, VerifyKey], case: str
    ) -> Head:
        try:
            note = decrypt(data, identities)
        except EncryptionError:
            raise HeadKeyError(
                f"case {case}: a device's head is written to a key epoch this laptop does not "
                "hold (were you removed from the case?); nothing was merged"
            ) from None
        try:
            text, user = open_note(note, keys)
            lines = text.decode().splitlines()
            audit, batches = lines[2].split(" "), lines[3].split(" ")
            head = cls(
                lines[0].removeprefix("videofeedback.sync/"),
                lines[1],
                int(audit[1]),
                base64.b64decode(audit[2]),
                int(batches[1]),
                base64.b64decode(batches[2]),
                lines[4].removeprefix("keys "),
                int(lines[5].removeprefix("lamport ")),
                user,
            )
        except (SignatureError, LibraryError, ValueError, IndexError) as exc:
            raise SyncError(
                f"case {case}: a device's head in the store does not verify ({exc}): forged "
                "or damaged; nothing was merged — tell your administrator"
            ) from None
        if head.case != case:
            raise SyncError(f"case {case}: the store serves another case's head under its name")
        return head

    def state(self) -> dict[str, object]:
        return {
            "entries": self.entries,
            "trail": self.trail.hex(),
            "batches": self.batches,
            "batch_chain": self.batch_chain.hex(),
            "keys": self.keys,
            "lamport": self.lamport,
        }
