"""The library: a folder of encrypted cases, its users, and who is acting now."""

from __future__ import annotations

import base64
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from encryption import (
    EncryptionError,
    Identity,
    IdentityFileError,
    NoIdentityMatchError,
    Recipient,
    SignatureError,
    UserKeys,
    VerifyKey,
    WrongPassphraseError,
    X25519Identity,
    X25519Recipient,
    load_identity_file,
    make_tree_private,
    private_folder,
    read_encrypted,
    save_identity_file,
)

from .audit import AuditLog, now_iso
from .errors import AuthenticationError, LibraryError, NotFoundError, PermissionDeniedError
from .manifest import (
    Manifest,
    RetentionRecord,
    Settings,
    UserRecord,
    WriterLock,
    read_manifest,
    retention_message,
    write_manifest,
)
from .roles import Action, Role, require

_USER_NAME = re.compile(r"^[a-z][a-z0-9._-]{0,31}$")
FREE_ATTEMPTS = 3
MAX_DELAY_SECONDS = 30.0


def unlock_delay(failures: int) -> float:
    """Seconds to wait before another attempt after ``failures`` wrong passphrases in a row."""
    if failures < FREE_ATTEMPTS:
        return 0.0
    return min(2.0 ** (failures - FREE_ATTEMPTS), MAX_DELAY_SECONDS)


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(5)}"


def check_user_name(name: str) -> str:
    if not _USER_NAME.match(name):
        raise LibraryError(
            f"{name!r} is not a valid user name: use 1-32 lowercase letters, digits, '.', '_' "
            "or '-', starting with a letter"
        )
    return name


class Library:
    """An open library folder. Writing needs the lock: use ``Library.open`` as a context."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.manifest: Manifest = read_manifest(folder)
        self._lock = WriterLock(folder)

    # --- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, folder: Path) -> Library:
        library = cls(folder)
        library._lock.acquire()
        library.manifest = read_manifest(folder)  # re-read under the lock
        make_tree_private(folder)  # a library from before 0700/0600: fixed in place
        return library

    def close(self) -> None:
        self._lock.release()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @classmethod
    def create(
        cls, folder: Path, admin: str, passphrase: str, recovery_out: Path, retention_days: int
    ) -> tuple[Library, UserSession]:
        """Create a library with a first admin and an organisation recovery key."""
        check_user_name(admin)
        if (folder / "manifest.json").exists():
            raise LibraryError(f"there is already a library at {folder}")
        if recovery_out.exists():
            raise LibraryError(f"{recovery_out} exists; choose another file for the recovery key")
        private_folder(folder, parents=True)
        if any(folder.iterdir()):
            raise LibraryError(f"{folder} is not empty; choose an empty or new folder")
        recovery = UserKeys([X25519Identity.generate()])
        save_identity_file(recovery_out, recovery, passphrase)
        manifest = Manifest(
            library_id=secrets.token_hex(8),
            created=now_iso(),
            recovery_recipient=str(recovery.recipient),
            settings=Settings(retention_days=retention_days),
        )
        write_manifest(folder, manifest)
        library = cls.open(folder)
        session = library._add_user(admin, Role.ADMIN, passphrase, by=admin)
        library.audit_log().append(admin, "library.create", manifest.library_id)
        library.audit_log().checkpoint(admin, session.keys.require_signing_key())
        return library, session

    # --- users ---------------------------------------------------------------------------

    def user_record(self, name: str) -> UserRecord:
        try:
            return self.manifest.users[name]
        except KeyError:
            raise NotFoundError(f"there is no user {name!r} in this library") from None

    def identity_path(self, name: str) -> Path:
        return self.folder / "users" / f"{name}.identity"

    def recipient_of(self, name: str) -> X25519Recipient:
        return X25519Recipient.parse(self.user_record(name).recipient)

    def verify_keys(self) -> dict[str, VerifyKey]:
        return {n: VerifyKey.parse(u.verify_key) for n, u in self.manifest.users.items()}

    def recovery_recipient(self) -> X25519Recipient:
        return X25519Recipient.parse(self.manifest.recovery_recipient)

    def _add_user(self, name: str, role: Role, passphrase: str, by: str) -> UserSession:
        check_user_name(name)
        if name in self.manifest.users:
            raise LibraryError(f"there is already a user {name!r}")
        keys = UserKeys.generate()
        private_folder(self.folder / "users")
        save_identity_file(self.identity_path(name), keys, passphrase)
        self.manifest.users[name] = UserRecord(
            role=role.value,
            recipient=str(keys.recipient),
            verify_key=str(keys.require_signing_key().verify_key),
            created=now_iso(),
        )
        write_manifest(self.folder, self.manifest)
        return UserSession(self, name, role, keys)

    def add_user(self, by: UserSession, name: str, role: Role, passphrase: str) -> None:
        require(by.role, Action.MANAGE_USERS)
        self._add_user(name, role, passphrase, by=by.name)
        by.audit("user.add", name, role=role.value)

    # --- unlocking -----------------------------------------------------------------------

    def unlock(
        self, name: str, passphrase: str, sleep: Callable[[float], None] = time.sleep
    ) -> UserSession:
        """Open the user's identity file; wrong passphrases are audited and slow down."""
        if name not in self.manifest.users:
            self.audit_log().append("?", "unlock.failed", "-", reason="unknown user")
            raise AuthenticationError(f"there is no user {name!r} in this library")
        failures = self.manifest.unlock_failures.get(name, 0)
        sleep(unlock_delay(failures))
        try:
            keys = load_identity_file(self.identity_path(name), passphrase)
        except WrongPassphraseError:
            self.manifest.unlock_failures[name] = failures + 1
            write_manifest(self.folder, self.manifest)
            self.audit_log().append(name, "unlock.failed", name, reason="wrong passphrase")
            wait = unlock_delay(failures + 1)
            later = f"; wait {wait:.0f} s before the next try" if wait else ""
            raise AuthenticationError(f"wrong passphrase for {name}{later}") from None
        except IdentityFileError as exc:
            raise LibraryError(f"the identity file of {name} cannot be read: {exc}") from None
        if failures:
            del self.manifest.unlock_failures[name]
            write_manifest(self.folder, self.manifest)
        session = UserSession(self, name, Role(self.manifest.users[name].role), keys)
        session.audit("unlock", name)
        return session

    # --- the library-level audit trail ---------------------------------------------------

    def audit_log(self) -> AuditLog:
        admins = [
            X25519Recipient.parse(u.recipient)
            for u in self.manifest.users.values()
            if u.role == Role.ADMIN.value
        ]
        recipients: list[Recipient] = [*admins, self.recovery_recipient()]
        return AuditLog(self.folder / "audit", self.manifest.library_id, recipients)

    # --- retention -----------------------------------------------------------------------

    def record_retention(self, case_id: str, until: date, by: UserSession) -> None:
        message = retention_message(case_id, until.isoformat())
        signature = base64.b64encode(by.keys.require_signing_key().sign(message)).decode()
        self.manifest.retention[case_id] = RetentionRecord(until.isoformat(), by.name, signature)
        write_manifest(self.folder, self.manifest)

    def expired_cases(self, today: date) -> list[str]:
        """Closed cases past their retention date, whose date was signed by a known user."""
        expired = []
        keys = self.verify_keys()
        for case_id, record in sorted(self.manifest.retention.items()):
            if date.fromisoformat(record.until) >= today or record.signed_by not in keys:
                continue
            try:
                keys[record.signed_by].verify(
                    retention_message(case_id, record.until), base64.b64decode(record.signature)
                )
            except SignatureError:
                continue  # a tampered date never leads to deletion
            expired.append(case_id)
        return expired

    def purge(self, by: UserSession, today: date) -> list[str]:
        """Crypto-shred and delete every expired case; return their ids."""
        require(by.role, Action.PURGE)
        purged = []
        for case_id in self.expired_cases(today):
            folder = self.case_folder(case_id)
            shred(folder / "key.age")
            shutil.rmtree(folder, ignore_errors=True)
            del self.manifest.retention[case_id]
            write_manifest(self.folder, self.manifest)
            by.audit("case.purge", case_id)
            purged.append(case_id)
        return purged

    # --- cases ---------------------------------------------------------------------------

    def case_folder(self, case_id: str) -> Path:
        if not re.fullmatch(r"c-[0-9a-f]{10}", case_id):
            raise NotFoundError(f"{case_id!r} is not a case id (they look like c-1a2b3c4d5e)")
        return self.folder / "cases" / case_id

    def case_ids(self) -> list[str]:
        cases = self.folder / "cases"
        return sorted(p.name for p in cases.iterdir()) if cases.exists() else []


def shred(path: Path) -> None:
    """Overwrite a key file with random bytes, fsync, then delete it."""
    if not path.exists():
        return
    size = path.stat().st_size
    with open(path, "r+b") as file:
        file.write(os.urandom(size))
        file.flush()
        os.fsync(file.fileno())
    path.unlink()


@dataclass
class UserSession:
    """A user who unlocked their identity: their keys and role."""

    library: Library
    name: str
    role: Role
    keys: UserKeys

    @property
    def identities(self) -> list[Identity]:
        return list(self.keys.identities)

    def audit(self, action: str, obj: str, **detail: str) -> None:
        """Record in the library audit trail and sign its new head."""
        log = self.library.audit_log()
        log.append(self.name, action, obj, **detail)
        log.checkpoint(self.name, self.keys.require_signing_key())

    def try_case_identity(self, case_id: str) -> X25519Identity | None:
        """The case's key if this user is a member, else None (nothing is audited)."""
        try:
            return self.case_identity(case_id)
        except (PermissionDeniedError, EncryptionError):
            return None

    def case_identity(self, case_id: str) -> X25519Identity:
        path = self.library.case_folder(case_id) / "key.age"
        if not path.exists():
            raise NotFoundError(f"there is no case {case_id}")
        try:
            return X25519Identity.parse(read_encrypted(path, self.identities).decode())
        except NoIdentityMatchError:
            raise PermissionDeniedError(
                f"you ({self.name}) are not a member of case {case_id}, so its files cannot be "
                "opened with your key; ask its practitioner to add you"
            ) from None
