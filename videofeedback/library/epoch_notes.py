"""A signed note for each new key epoch of a case: who rotated, from which epoch, to which
key, removing whom, and where in the rotating laptop's trail (docs/FORMAT.md §12.6).

``cases/ID/epochs/E.age``: an age file to epoch E's key whose plaintext is a signed note
(§9 signature line, by the rotating user). The team store carries it beside the key file,
so a laptop takes a new epoch only from someone who may change the case's members.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from encryption import EncryptionError, SignatureError, VerifyKey, iter_decrypt, private_folder

from .audit import encrypt_bytes, open_note, sign_note
from .errors import LibraryError
from .keyring import CaseKeys

if TYPE_CHECKING:
    from .cases import Case

FOLDER = "epochs"
PREFIX = "videofeedback.epoch/"


def fingerprint(keys: CaseKeys, epoch: int) -> str:
    """SHA-256 (hex) of epoch ``epoch``'s recipient in ``keys``."""
    return hashlib.sha256(str(keys.epoch_identity(epoch).recipient).encode()).hexdigest()


@dataclass(frozen=True)
class EpochNote:
    case: str
    epoch: int
    previous: str  # fingerprint of epoch - 1
    recipient: str  # fingerprint of the new epoch
    removes: str  # the member this rotation removes ("" for none)
    device: str  # the rotating laptop's device id
    entries: int  # entries of that laptop's own trail when it rotated
    user: str = ""  # the signer

    def text(self) -> bytes:
        return (
            f"{PREFIX}{self.case}\nepoch {self.epoch}\nfrom {self.previous}\n"
            f"to {self.recipient}\nremoves {self.removes}\ndevice {self.device}\n"
            f"entries {self.entries}\n"
        ).encode()

    @property
    def digest(self) -> str:
        """What ties two competing rotations (the smaller wins, on every laptop)."""
        return hashlib.sha256(self.text()).hexdigest()

    def matches(self, keys: CaseKeys) -> bool:
        """Whether ``keys`` hold exactly the epochs this note names."""
        return (
            1 < self.epoch <= keys.epoch
            and self.recipient == fingerprint(keys, self.epoch)
            and self.previous == fingerprint(keys, self.epoch - 1)
        )

    @classmethod
    def parse(cls, text: bytes, user: str) -> EpochNote:
        lines = text.decode().splitlines()
        values = [line.split(" ", 1)[1] if " " in line else "" for line in lines[1:7]]
        if not lines[0].startswith(PREFIX) or len(values) != 6:
            raise ValueError("not a key epoch note")
        epoch, previous, recipient, removes, device, entries = values
        return cls(
            lines[0].removeprefix(PREFIX),
            int(epoch),
            previous,
            recipient,
            removes,
            device,
            int(entries),
            user,
        )


def note_path(case_folder: Path, epoch: int) -> Path:
    return case_folder / FOLDER / f"{epoch:06d}.age"


def write_note(case: Case, removes: str = "") -> None:
    """Sign the note of the case's newest epoch (the rotation just made) and keep it."""
    keys = case.identity
    entries = len(case.audit_log()._entry_files())  # noqa: SLF001
    note = EpochNote(
        case.id,
        keys.epoch,
        fingerprint(keys, keys.epoch - 1),
        fingerprint(keys, keys.epoch),
        removes,
        case.device,
        entries,
    )
    signed = sign_note(note.text(), case.session.name, case.session.keys.require_signing_key())
    keep(case.folder, keys.epoch, encrypt_bytes(signed, [keys.recipient]))


def keep(case_folder: Path, epoch: int, data: bytes) -> None:
    """An epoch's note (ciphertext) in the case folder, whole or absent."""
    path = note_path(case_folder, epoch)
    private_folder(path.parent, parents=True)
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_bytes(data)
    os.chmod(temp, 0o600)
    os.replace(temp, path)


def open_epoch_note(
    data: bytes, keys: CaseKeys, verify_keys: Mapping[str, VerifyKey], case_id: str
) -> EpochNote:
    """A note that opens with ``keys``, is signed by a roster user and names this case;
    LibraryError otherwise."""
    try:
        plain = b"".join(iter_decrypt(io.BytesIO(data), [keys]))
        text, user = open_note(plain, verify_keys)
        note = EpochNote.parse(text, user)
    except (EncryptionError, SignatureError, ValueError, IndexError) as exc:
        raise LibraryError(f"a key epoch note does not open or verify ({exc})") from None
    if note.case != case_id:
        raise LibraryError("a key epoch note of another case")
    return note


def signed_note(case_folder: Path, epoch: int, keys: CaseKeys) -> bytes | None:
    """The signed plaintext of epoch ``epoch``'s note, if the case folder has one that opens
    (it goes, base64, into the library trail when a laptop replaces an epoch: §12.8)."""
    path = note_path(case_folder, epoch)
    try:
        return b"".join(iter_decrypt(io.BytesIO(path.read_bytes()), [keys]))
    except (OSError, EncryptionError):
        return None
