"""Invitations: how a member's laptop learns of a case it does not hold (FORMAT §12.5).

A case's store names need its key, so each member has an inbox of write-once
invitations, named by HMACs under a key computed from the signed roster (library id and
the member's recipient). An invitation is a signed note, encrypted to the member alone,
carrying the case id, its KEK and its key.age; the reader makes the case folder from it
and an ordinary case sync pulls the rest.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import shutil
from dataclasses import dataclass

from encryption import EncryptionError, X25519Recipient, private_folder
from videofeedback.library import Library, UserSession
from videofeedback.library.audit import open_note, sign_note
from videofeedback.library.case_db import new_database
from videofeedback.library.cases import Case
from videofeedback.library.errors import LibraryError
from videofeedback.library.keyring import KEY_FILE, CaseKeys, read_key_parts
from videofeedback.library.records import CaseId

from .errors import StoreConflictError, StoreNotFoundError
from .heads import decrypt, encrypt
from .store import S3Store

NOTE_PREFIX = "videofeedback.invite/"


def inbox_key(library_id: str, recipient: str) -> bytes:
    text = f"{library_id}\n{recipient}".encode()
    return hmac.new(b"videofeedback inbox v1", text, hashlib.sha256).digest()


def slot_name(key: bytes, number: int) -> str:
    return "o/" + hmac.new(key, f"invite\n{number}".encode(), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class Invitation:
    case_id: str
    user: str
    kek: bytes
    key_file: bytes
    by: str = ""

    def text(self) -> bytes:
        return (
            f"{NOTE_PREFIX}{self.case_id}\n{self.user}\nkek {self.kek.hex()}\n"
            f"key {base64.b64encode(self.key_file).decode()}\n"
        ).encode()

    def seal(self, session: UserSession, recipient: X25519Recipient) -> bytes:
        note = sign_note(self.text(), session.name, session.keys.require_signing_key())
        return encrypt(note, [recipient])

    @classmethod
    def open(cls, data: bytes, session: UserSession) -> Invitation | None:
        """The invitation if it opens, verifies and is addressed to this user; else None."""
        try:
            note = decrypt(data, session.identities)
            text, by = open_note(note, session.library.verify_keys())
            lines = text.decode().splitlines()
            found = cls(
                lines[0].removeprefix(NOTE_PREFIX),
                lines[1],
                bytes.fromhex(lines[2].removeprefix("kek ")),
                base64.b64decode(lines[3].removeprefix("key "), validate=True),
                by,
            )
        except (EncryptionError, LibraryError, ValueError, IndexError):
            return None
        if not lines[0].startswith(NOTE_PREFIX) or found.user != session.name:
            return None
        return found


def _inbox(library: Library, user: str) -> bytes:
    return inbox_key(library.manifest.library_id, library.user_record(user).recipient)


# --- publishing ------------------------------------------------------------------------------


def invite_members(case: Case, store: S3Store, remote: str) -> int:
    """Invite every member this computer has not invited to the case yet; the count."""
    session, library = case.session, case.session.library
    local = library.local
    done = set(local.sync_value(f"invited:{remote}:{case.id}", []))
    wanted = [
        m.user for m in case.members.all() if m.user not in done and not library.is_removed(m.user)
    ]
    if not wanted:
        return 0
    key_file = (case.folder / KEY_FILE).read_bytes()
    for user in wanted:
        record = library.user_record(user)
        invitation = Invitation(case.id, user, case.identity.kek, key_file)
        data = invitation.seal(session, X25519Recipient.parse(record.recipient))
        _put_in_first_free_slot(library, store, remote, user, data)
        done.add(user)
        local.set_sync_value(f"invited:{remote}:{case.id}", sorted(done))
    return len(wanted)


def _put_in_first_free_slot(
    library: Library, store: S3Store, remote: str, user: str, data: bytes
) -> None:
    key = _inbox(library, user)
    counter = f"inbox-next:{remote}:{hashlib.sha256(key).hexdigest()[:16]}"
    number = int(library.local.sync_value(counter, 1))
    while True:
        try:
            store.put_new(slot_name(key, number), data)
        except StoreConflictError:
            number += 1
            continue
        library.local.set_sync_value(counter, number + 1)
        return


# --- reading ---------------------------------------------------------------------------------


def read_inbox(session: UserSession, store: S3Store, remote: str) -> tuple[list[Invitation], int]:
    """The new invitations to this user that open (others are skipped) and the last slot
    read; the caller remembers it with ``mark_read`` once it took them."""
    library = session.library
    key = _inbox(library, session.name)
    number = int(library.local.sync_value(f"inbox:{remote}", 0)) + 1
    found: list[Invitation] = []
    while True:
        try:
            data = store.get(slot_name(key, number))
        except StoreNotFoundError:
            break
        invitation = Invitation.open(data, session)
        if invitation is not None:
            found.append(invitation)
        number += 1
    return found, number - 1


def mark_read(library: Library, remote: str, upto: int) -> None:
    library.local.set_sync_value(f"inbox:{remote}", upto)


def make_case(session: UserSession, invitation: Invitation) -> Case | None:
    """A new case folder from an invitation (key.age, the KEK in the key store, an empty
    database); None if the case is already here or the key file does not open."""
    library = session.library
    case_id = invitation.case_id
    try:
        folder = library.case_folder(case_id)
    except LibraryError:
        return None
    if folder.exists():
        return None
    private_folder(folder, parents=True)
    (folder / KEY_FILE).write_bytes(invitation.key_file)
    try:
        parts = read_key_parts(folder / KEY_FILE, session.identities)
    except (EncryptionError, LibraryError):
        shutil.rmtree(folder, ignore_errors=True)
        return None
    if not isinstance(parts, tuple) or not parts:
        shutil.rmtree(folder, ignore_errors=True)
        return None
    library.key_store().change(
        session.identities, library.store_recipients(), {case_id: invitation.kek}
    )
    keys = CaseKeys(case_id, invitation.kek, parts)
    return Case(session, CaseId(case_id), keys, new_database())


def drop_case(session: UserSession, case_id: str) -> None:
    """Undo ``make_case``: the user is not a member of what was pulled."""
    library = session.library
    library.key_store().change(session.identities, library.store_recipients(), remove=[case_id])
    shutil.rmtree(library.case_folder(case_id), ignore_errors=True)
    library.local.forget_sync(case_id)
