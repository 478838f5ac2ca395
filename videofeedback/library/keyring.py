"""Case keys: epochs, the library key store, crypto-shredding (docs/FORMAT.md, section 8.1).

A case's files are encrypted to the X25519 key of its newest *epoch*. Epoch ``e``'s secret is

    secret_e = part_e XOR HKDF-SHA256(ikm=KEK, salt=case id, info="videofeedback epoch e")

where ``part_e`` (32 random bytes) is in the case's ``key.age`` (to its members and the
recovery key) and ``KEK`` (32 random bytes, one per case) is only in the library's key store
``keys/a.age`` + ``keys/b.age`` (to every user and the recovery key). Removing a member starts
a new epoch; purging a case removes its KEK from the key store, which is overwritten in place,
so every copy of ``key.age`` (earlier versions, backups, bundles) opens nothing any more.
"""

from __future__ import annotations

import io
import json
import os
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from encryption import (
    EncryptionError,
    Identity,
    NoIdentityMatchError,
    Recipient,
    X25519Identity,
    X25519Recipient,
    bech32,
    read_encrypted,
    write_encrypted,
)
from encryption.files import fsync_directory
from encryption.header import Stanza
from encryption.stream import AgeWriter

from .case_db import load_database
from .errors import LibraryError, NotFoundError

if TYPE_CHECKING:
    from .library import Library

KEY_FILE = "key.age"
KEYS_FORMAT = "videofeedback-case-keys"
STORE_FORMAT = "videofeedback-keystore"
STORE_SLOTS = ("a.age", "b.age")
RECIPIENT_BUCKET = 16  # key.age always has a multiple of this many recipient stanzas
STORE_PADDING = 4096  # the key store's plaintext is padded to a multiple of this
SECRET_SIZE = 32


class KeysDestroyedError(LibraryError):
    """The case's keys were destroyed (the case was purged)."""


def _pad(kek: bytes, case_id: str, epoch: int) -> bytes:
    info = f"videofeedback epoch {epoch}".encode()
    hkdf = HKDF(algorithm=hashes.SHA256(), length=SECRET_SIZE, salt=case_id.encode(), info=info)
    return hkdf.derive(kek)


def _xor(left: bytes, right: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(left, right, strict=True))


@dataclass(frozen=True)
class CaseKeys:
    """Every epoch of one case. An age identity (tries each epoch, newest first) whose
    ``recipient`` is the newest epoch's: everything written is encrypted to that."""

    case_id: str
    kek: bytes = field(repr=False)  # secrets never go into a repr (tracebacks, test logs)
    parts: tuple[bytes, ...] = field(repr=False)  # the key.age part of each epoch, oldest first
    # parts of competing rotations that lost (epoch, part): read with, never written to
    # (docs/FORMAT.md §12.6)
    others: tuple[tuple[int, bytes], ...] = field(default=(), repr=False)

    @classmethod
    def new(cls, case_id: str) -> CaseKeys:
        return cls(case_id, secrets.token_bytes(SECRET_SIZE), (secrets.token_bytes(SECRET_SIZE),))

    @property
    def epoch(self) -> int:
        return len(self.parts)

    def epoch_identity(self, epoch: int) -> X25519Identity:
        return X25519Identity(_xor(self.parts[epoch - 1], _pad(self.kek, self.case_id, epoch)))

    @cached_property
    def identities(self) -> list[X25519Identity]:
        """Newest first (then the parts of rotations that lost, to read what they wrote)."""
        found = [self.epoch_identity(e) for e in range(self.epoch, 0, -1)]
        pads = [(part, _pad(self.kek, self.case_id, epoch)) for epoch, part in self.others]
        return found + [X25519Identity(_xor(part, pad)) for part, pad in pads]

    @property
    def newest(self) -> X25519Identity:
        return self.identities[0]

    @property
    def recipient(self) -> X25519Recipient:
        return self.newest.recipient

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None:
        for identity in self.identities:
            file_key = identity.unwrap(stanzas)
            if file_key is not None:
                return file_key
        return None

    def with_new_epoch(self) -> CaseKeys:
        """The keys after a member left: a fresh epoch nobody outside the case ever had."""
        new = (*self.parts, secrets.token_bytes(SECRET_SIZE))
        return CaseKeys(self.case_id, self.kek, new, self.others)

    def with_legacy_key(self, legacy: X25519Identity) -> CaseKeys:
        """Keys whose epoch 1 is an old single case key (see ``upgrade_case``)."""
        part = _xor(bytes.fromhex(_secret_hex(legacy)), _pad(self.kek, self.case_id, 1))
        return CaseKeys(self.case_id, self.kek, (part, *self.parts), self.others)

    def key_file_text(self) -> bytes:
        parts = [p.hex() for p in self.parts]
        data: dict[str, object] = {
            "format": KEYS_FORMAT,
            "version": 2,
            "case_id": self.case_id,
            "epochs": parts,
        }
        if self.others:
            data["others"] = [[epoch, part.hex()] for epoch, part in self.others]
        return json.dumps(data, sort_keys=True).encode()


def _secret_hex(identity: X25519Identity) -> str:
    _, data = bech32.decode(str(identity))
    return data.hex()


# --- key.age ---------------------------------------------------------------------------------


def _padded(recipients: Sequence[Recipient]) -> list[Recipient]:
    """Recipients plus decoys (fresh random keys nobody holds) up to a multiple of the
    bucket, so key.age does not show how many members a case has."""
    decoys = -len(recipients) % RECIPIENT_BUCKET
    return [*recipients, *(X25519Identity.generate().recipient for _ in range(decoys))]


def write_key_file(folder: Path, keys: CaseKeys, recipients: Sequence[Recipient]) -> None:
    """Write the case's key.age to ``recipients`` (its members and the recovery key)."""
    write_encrypted(folder / KEY_FILE, keys.key_file_text(), _padded(recipients))


Others = tuple[tuple[int, bytes], ...]


def read_key_file(
    path: Path, identities: Sequence[Identity]
) -> tuple[tuple[bytes, ...], Others] | X25519Identity:
    """The epoch parts of a key.age and the parts of rotations that lost; an old single-key
    key.age gives its X25519 identity."""
    text = read_encrypted(path, identities)
    if text.startswith(b"AGE-SECRET-KEY-1"):
        return X25519Identity.parse(text.decode())
    try:
        data = json.loads(text)
        if data["format"] != KEYS_FORMAT or data["case_id"] != path.parent.name:
            raise ValueError("not this case's key file")
        others = tuple((int(e), bytes.fromhex(p)) for e, p in data.get("others", []))
        return tuple(bytes.fromhex(p) for p in data["epochs"]), others
    except (ValueError, KeyError, TypeError) as exc:
        raise LibraryError(f"{path} is damaged ({exc}); restore it from a backup") from None


def read_key_parts(
    path: Path, identities: Sequence[Identity]
) -> tuple[bytes, ...] | X25519Identity:
    """The epoch parts of a key.age; an old single-key key.age gives its X25519 identity."""
    found = read_key_file(path, identities)
    return found if isinstance(found, X25519Identity) else found[0]


def load_case_keys(
    folder: Path, case_id: str, store: KeyStore, identities: Sequence[Identity]
) -> CaseKeys:
    """The case's keys for a holder of ``identities``; NoIdentityMatchError for a non-member."""
    path = folder / KEY_FILE
    if not path.exists():
        raise NotFoundError(f"there is no case {case_id}")
    found = read_key_file(path, identities)
    if isinstance(found, X25519Identity):
        raise LegacyKeyError(found)
    return CaseKeys(case_id, store.kek(case_id, identities), *found)


class LegacyKeyError(LibraryError):
    """key.age still holds a single case key (a library from before epochs): upgrade it."""

    def __init__(self, legacy: X25519Identity) -> None:
        super().__init__("this case's keys are in the old format; upgrade the library")
        self.legacy = legacy


# --- the key store ---------------------------------------------------------------------------


class KeyStore:
    """Every case's KEK, in two copies overwritten in place (never renamed over), so that an
    earlier version does not survive on another inode. A crash while one copy is written
    leaves the other whole; the reader takes the newest copy that opens."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder / "keys"

    def exists(self) -> bool:
        return any((self.folder / slot).exists() for slot in STORE_SLOTS)

    def read(self, identities: Sequence[Identity]) -> dict[str, bytes]:
        best: tuple[int, dict[str, bytes]] | None = None
        failure: Exception | None = None
        for slot in STORE_SLOTS:
            try:
                generation, keks = _parse_store(read_encrypted(self.folder / slot, identities))
            except FileNotFoundError:
                continue
            except (EncryptionError, LibraryError) as exc:  # a torn copy: the other one counts
                failure = exc
                continue
            if best is None or generation > best[0]:
                best = (generation, keks)
        if best is None:
            if isinstance(failure, NoIdentityMatchError):
                raise failure
            raise LibraryError(
                f"the library's key store {self.folder} is missing or damaged; restore it "
                "from the key store backup (see README: backups)"
            )
        return best[1]

    def kek(self, case_id: str, identities: Sequence[Identity]) -> bytes:
        try:
            return self.read(identities)[case_id]
        except KeyError:
            raise KeysDestroyedError(
                f"the keys of case {case_id} were destroyed (the case was purged); "
                "nothing of it can be opened any more"
            ) from None

    def write(
        self, keks: Mapping[str, bytes], recipients: Sequence[Recipient], generation: int
    ) -> None:
        """Overwrite both copies in place with ``keks``."""
        self.folder.mkdir(mode=0o700, exist_ok=True)
        plain = json.dumps(
            {
                "format": STORE_FORMAT,
                "generation": generation,
                "keys": {case: kek.hex() for case, kek in sorted(keks.items())},
            }
        ).encode()
        plain += b" " * (-len(plain) % STORE_PADDING)
        for slot in STORE_SLOTS:
            _overwrite_in_place(self.folder / slot, _encrypt(plain, recipients))
        fsync_directory(self.folder)

    def change(
        self,
        identities: Sequence[Identity],
        recipients: Sequence[Recipient],
        add: Mapping[str, bytes] | None = None,
        remove: Iterable[str] = (),
    ) -> None:
        """Read, change and rewrite the store (a missing store starts empty)."""
        keks = self.read(identities) if self.exists() else {}
        generation = self._generation(identities) if self.exists() else 0
        keks.update(add or {})
        for case_id in remove:
            keks.pop(case_id, None)
        self.write(keks, recipients, generation + 1)

    def _generation(self, identities: Sequence[Identity]) -> int:
        generations = []
        for slot in STORE_SLOTS:
            try:
                generations.append(_parse_store(read_encrypted(self.folder / slot, identities))[0])
            except (FileNotFoundError, EncryptionError, LibraryError):
                continue
        return max(generations, default=0)


def _encrypt(plain: bytes, recipients: Sequence[Recipient]) -> bytes:
    sink = io.BytesIO()
    writer = AgeWriter(sink, recipients)
    writer.write(plain)
    writer.close()
    return sink.getvalue()


def _parse_store(plain: bytes) -> tuple[int, dict[str, bytes]]:
    try:
        data = json.loads(plain)
        if data["format"] != STORE_FORMAT:
            raise ValueError("not a key store")
        return int(data["generation"]), {c: bytes.fromhex(k) for c, k in data["keys"].items()}
    except (ValueError, KeyError, TypeError) as exc:
        raise LibraryError(f"the library's key store is damaged ({exc})") from None


def _overwrite_in_place(path: Path, data: bytes) -> None:
    """Write ``data`` over the file's own blocks (same inode); a longer old content's tail
    is overwritten with random bytes before the file is cut to size."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        old_size = os.fstat(fd).st_size
        _write_all(fd, data, 0)
        if old_size > len(data):
            _write_all(fd, os.urandom(old_size - len(data)), len(data))
            os.fsync(fd)
            os.ftruncate(fd, len(data))
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


def shred(path: Path) -> None:
    """Overwrite a key file with random bytes, fsync, then delete it."""
    if not path.exists():
        return
    _overwrite_in_place(path, os.urandom(path.stat().st_size))
    path.unlink()


# --- upgrading libraries from before epochs ----------------------------------------------------


def upgrade_case(
    library: Library, case_id: str, legacy: X25519Identity, identities: Sequence[Identity]
) -> CaseKeys:
    """Turn an old single-key key.age into epochs: the old key becomes epoch 1 (sealed under a
    new KEK) and a fresh epoch 2 takes every later write. Copies of the old key.age made
    before the upgrade stay readable with the recovery key: the docs say so."""
    folder = library.case_folder(case_id)
    keys = CaseKeys.new(case_id).with_legacy_key(legacy)
    db = load_database(folder / "case.db.age", [legacy])
    try:
        members = [str(row[0]) for row in db.execute("SELECT user FROM members")]
    finally:
        db.close()
    library.key_store().change(identities, library.store_recipients(), add={case_id: keys.kek})
    recipients: list[Recipient] = [library.recipient_of(m) for m in members]
    write_key_file(folder, keys, [*recipients, library.recovery_recipient()])
    return keys


def upgrade_to_epochs(
    library: Library,
    identities: Sequence[Identity],
    store_recipients: Sequence[Recipient] | None = None,
) -> list[str]:
    """Upgrade in place every case ``identities`` can open (the recovery identity opens all;
    a member's opens theirs, and each member's first opening upgrades the rest lazily).
    Creates the key store if the library has none. Returns the ids of the cases upgraded."""
    store = library.key_store()
    if not store.exists():
        recipients = library.store_recipients() if store_recipients is None else store_recipients
        store.write({}, list(recipients), generation=1)
    upgraded = []
    for case_id in library.case_ids():
        try:
            parts = read_key_parts(library.case_folder(case_id) / KEY_FILE, identities)
        except (NoIdentityMatchError, FileNotFoundError):
            continue
        if isinstance(parts, X25519Identity):
            upgrade_case(library, case_id, parts, identities)
            upgraded.append(case_id)
    return upgraded
