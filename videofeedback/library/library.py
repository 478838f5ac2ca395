"""The library: a folder of encrypted cases, its users, and who is acting now."""

from __future__ import annotations

import base64
import re
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
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
    save_identity_file,
)

from .audit import NOBODY, AuditLog, AuditReport, now_iso
from .errors import AuthenticationError, LibraryError, NotFoundError, PermissionDeniedError
from .history import LibraryHistory
from .key_announcements import EpochKeys
from .keyring import (
    CaseKeys,
    KeysDestroyedError,
    KeyStore,
    LegacyKeyError,
    load_case_keys,
    shred,
    upgrade_case,
)
from .local_state import LocalState
from .manifest import (
    VERSION,
    Manifest,
    RetentionRecord,
    Settings,
    UserRecord,
    WriterLock,
    closure_message,
    read_manifest,
    write_manifest,
)
from .merged_trail import chain_logs
from .passphrases import check_new_passphrase, new_recovery_secret, normalise_recovery_secret
from .roles import Action, Role, allowed, require
from .roster import RosterError, check_roster, roster_message, sign_roster, supersedes

#: What the administrator signs (roster.roster_message) and a team's laptops take.
ROSTER_FIELDS = (
    "created",
    "recovery_recipient",
    "settings",
    "users",
    "legacy_logs",
    "roster_serial",
    "roster_signature",
)
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
        self._trusted: bytes | None = None  # the roster message + signature last verified
        self._log: AuditLog | None = None
        self._log_recipients: list[str] = []
        self.recovery_secret = ""  # set by create() only: shown once, kept offline

    # --- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, folder: Path) -> Library:
        library = cls(folder)
        library._lock.acquire()
        library.manifest = read_manifest(folder)  # re-read under the lock
        make_tree_private(folder)  # a library from before 0700/0600: fixed in place
        try:
            if library.needs_upgrade and library.local.pins is not None:
                raise RosterError(
                    "the library says it is of an older format than this computer has seen it "
                    "in: someone changed manifest.json by hand. Nothing was done; ask your "
                    "administrator"
                )
            if library.manifest.users and not library.needs_upgrade:
                library.trusted_users()  # refuse a roster nobody allowed to sign did sign
        except LibraryError:
            library.close()
            raise
        return library

    @property
    def needs_upgrade(self) -> bool:
        return self.manifest.version < VERSION

    @property
    def local(self) -> LocalState:
        """What this computer remembers of the library (outside the folder)."""
        return LocalState(self.manifest.library_id)

    def close(self) -> None:
        self._lock.release()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @classmethod
    def create(
        cls,
        folder: Path,
        admin: str,
        passphrase: str,
        recovery_out: Path,
        retention_days: int,
        recovery_secret: str | None = None,
    ) -> tuple[Library, UserSession]:
        """Create a library with a first admin and an organisation recovery key, which is
        protected by its own secret (``library.recovery_secret``: show it once, keep it
        offline), never by the admin's passphrase."""
        check_user_name(admin)
        check_new_passphrase(passphrase, [admin, folder.name])
        secret = normalise_recovery_secret(recovery_secret or new_recovery_secret())
        if (folder / "manifest.json").exists():
            raise LibraryError(f"there is already a library at {folder}")
        if recovery_out.exists():
            raise LibraryError(f"{recovery_out} exists; choose another file for the recovery key")
        private_folder(folder, parents=True)
        if any(folder.iterdir()):
            raise LibraryError(f"{folder} is not empty; choose an empty or new folder")
        recovery = UserKeys([X25519Identity.generate()])
        save_identity_file(recovery_out, recovery, secret)
        manifest = Manifest(
            library_id=secrets.token_hex(8),
            created=now_iso(),
            recovery_recipient=str(recovery.recipient),
            settings=Settings(retention_days=retention_days),
        )
        write_manifest(folder, manifest)
        library = cls.open(folder)
        library.recovery_secret = secret
        session = library._add_user(admin, Role.ADMIN, passphrase, by=None)
        library.key_store().write({}, library.store_recipients(), generation=1)
        library.audit_log().append(
            admin, "library.create", manifest.library_id, session.keys.require_signing_key()
        )
        library.audit_log().checkpoint(admin, session.keys.require_signing_key())
        return library, session

    # --- users ---------------------------------------------------------------------------

    def trusted_users(self) -> dict[str, UserRecord]:
        """The users of the roster, once its administrator's signature is checked against the
        administrators this computer pinned (RosterError otherwise): every key wrapped to a
        recipient, and every signature checked, takes its key from here."""
        if self.needs_upgrade:
            raise LibraryError(
                "this library was made by an older videofeedback; an administrator must "
                "unlock it once to upgrade it"
            )
        signed = roster_message(self.manifest) + repr(self.manifest.roster_signature).encode()
        if signed != self._trusted:
            local = self.local
            local.set_pins(check_roster(self.manifest, local.pins))
            self._trusted = signed
        return self.manifest.users

    def sign_roster(self, admin: UserSession) -> None:
        """Sign the roster as it is now (after an administrator changed it) and save it."""
        sign_roster(self.manifest, admin.name, admin.keys.require_signing_key())
        local = self.local
        pins = local.pins
        if pins is None or admin.name in pins["admins"]:
            local.set_pins(check_roster(self.manifest, pins))
        write_manifest(self.folder, self.manifest)
        self._trusted = None

    def take_roster(self, signed: Manifest) -> None:
        """Take a roster of this library that came from elsewhere (the team store): signed
        by an administrator this computer pinned, newer than the one it holds or removing
        the administrator who signed that one (``roster.supersedes``; RosterError otherwise,
        nothing changed). This computer's own fields stay."""
        pins = check_roster(signed, self.local.pins, held=self.manifest)
        if signed.library_id != self.manifest.library_id:
            raise RosterError("that list of users is of another library; nothing was changed")
        if not supersedes(signed, self.manifest):
            raise RosterError(
                f"that list of users (version {signed.roster_serial}) is not newer than the "
                f"one this library holds (version {self.manifest.roster_serial})"
            )
        for name in ROSTER_FIELDS:
            setattr(self.manifest, name, getattr(signed, name))
        write_manifest(self.folder, self.manifest)
        self.local.set_pins(pins)
        self._trusted = None

    def user_record(self, name: str) -> UserRecord:
        try:
            return self.trusted_users()[name]
        except KeyError:
            raise NotFoundError(f"there is no user {name!r} in this library") from None

    def identity_path(self, name: str) -> Path:
        return self.folder / "users" / f"{name}.identity"

    def recipient_of(self, name: str) -> X25519Recipient:
        record = self.user_record(name)
        if record.removed:
            raise PermissionDeniedError(
                f"{name} was removed from the library ({record.removed[:10]}); nothing is "
                "encrypted to them any more"
            )
        return X25519Recipient.parse(record.recipient)

    def is_removed(self, name: str) -> bool:
        record = self.trusted_users().get(name)
        return record is not None and bool(record.removed)

    def verify_keys(self) -> dict[str, VerifyKey]:
        return {n: VerifyKey.parse(u.verify_key) for n, u in self.trusted_users().items()}

    def recovery_recipient(self) -> X25519Recipient:
        self.trusted_users()
        return X25519Recipient.parse(self.manifest.recovery_recipient)

    def key_store(self) -> KeyStore:
        return KeyStore(self.folder)

    def store_recipients(self) -> list[Recipient]:
        """Who can read the key store: every user of the signed roster and the recovery key
        (a KEK alone opens nothing: a case's key also needs its key.age part, which only
        members have)."""
        users = [
            X25519Recipient.parse(u.recipient)
            for u in self.trusted_users().values()
            if not u.removed
        ]
        return [*users, self.recovery_recipient()]

    def _add_user(
        self, name: str, role: Role, passphrase: str, by: UserSession | None
    ) -> UserSession:
        check_user_name(name)
        if name in self.manifest.users:
            raise LibraryError(f"there is already a user {name!r}")
        check_new_passphrase(passphrase, [name, self.folder.name])
        keys = UserKeys.generate()
        private_folder(self.folder / "users")
        save_identity_file(self.identity_path(name), keys, passphrase)
        self.manifest.users[name] = UserRecord(
            role=role.value,
            recipient=str(keys.recipient),
            verify_key=str(keys.require_signing_key().verify_key),
            created=now_iso(),
        )
        session = UserSession(self, name, role, keys)
        self.sign_roster(by or session)  # the first administrator signs their own entry
        return session

    def add_user(self, by: UserSession, name: str, role: Role, passphrase: str) -> None:
        require(by.role, Action.MANAGE_USERS)
        self._add_user(name, role, passphrase, by=by)
        if self.key_store().exists():  # the new user can read every case's KEK (not its key)
            self.key_store().change(by.identities, self.store_recipients())
        by.audit("user.add", name, role=role.value)

    def remove_user(self, by: UserSession, name: str) -> None:
        """Remove a user from the roster, going forward: no key is wrapped to them again (key
        store rewrapped now; case keys at each case's next change of members, invitations
        never), they cannot unlock; their record stays so their old signatures verify."""
        require(by.role, Action.MANAGE_USERS)
        record = self.user_record(name)
        if record.removed:
            raise LibraryError(f"{name} was already removed from the library")
        if name == by.name:
            raise PermissionDeniedError("an administrator cannot remove themselves")
        record.removed = now_iso()
        self.sign_roster(by)
        if self.key_store().exists():
            self.key_store().change(by.identities, self.store_recipients())
        by.audit("user.remove", name)

    # --- unlocking -----------------------------------------------------------------------

    def unlock(
        self, name: str, passphrase: str, sleep: Callable[[float], None] = time.sleep
    ) -> UserSession:
        """Open the user's identity file; wrong passphrases are audited and slow down."""
        if self.needs_upgrade:
            return self._unlock_to_upgrade(name, passphrase)
        if name not in self.trusted_users():
            self.audit_log().append(NOBODY, "unlock.failed", "-", reason="unknown user")
            raise AuthenticationError(f"there is no user {name!r} in this library")
        if self.manifest.users[name].removed:
            self.audit_log().append(NOBODY, "unlock.failed", name, reason="removed user")
            raise AuthenticationError(
                f"{name} was removed from this library; ask your administrator"
            )
        failures = self.manifest.unlock_failures.get(name, 0)
        sleep(unlock_delay(failures))
        try:
            keys = load_identity_file(self.identity_path(name), passphrase)
        except WrongPassphraseError:
            self.manifest.unlock_failures[name] = failures + 1
            write_manifest(self.folder, self.manifest)
            self.audit_log().append(NOBODY, "unlock.failed", name, reason="wrong passphrase")
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

    def _unlock_to_upgrade(self, name: str, passphrase: str) -> UserSession:
        """An older library opens only for an administrator, who upgrades it in place."""
        record = self.manifest.users.get(name)
        if record is None or record.role != Role.ADMIN.value:
            raise LibraryError(
                "this library was made by an older videofeedback and must be upgraded first: "
                "an administrator must unlock it once"
            )
        try:
            keys = load_identity_file(self.identity_path(name), passphrase)
        except WrongPassphraseError:
            raise AuthenticationError(f"wrong passphrase for {name}") from None
        from .migrations import upgrade  # migrations use the library: imported when needed

        session = UserSession(self, name, Role.ADMIN, keys)
        upgrade(self, session)
        return session

    # --- the library-level audit trail ---------------------------------------------------

    def audit_log(self) -> AuditLog:
        users = self.manifest.users if self.needs_upgrade else self.trusted_users()
        admins = [
            X25519Recipient.parse(u.recipient)
            for u in users.values()
            if u.role == "admin" and not u.removed
        ]
        recipients: list[Recipient] = [
            *admins,
            X25519Recipient.parse(self.manifest.recovery_recipient),
        ]
        if self._log is None or [str(r) for r in recipients] != self._log_recipients:
            self._log = AuditLog(self.folder / "audit", self.manifest.library_id, recipients)
            self._log_recipients = [str(r) for r in recipients]
        return self._log

    def legacy_head(self, log_id: str) -> tuple[int, bytes] | None:
        """The head of a log's entries written before format 2, as the upgrade recorded it."""
        self.trusted_users()
        record = self.manifest.legacy_logs.get(log_id)
        return (int(record["entries"]), bytes.fromhex(record["head"])) if record else None

    def known_head(self, log_id: str) -> tuple[int, bytes] | None:
        """The head of a log this computer saw last (signed; outside the folder)."""
        head = self.local.head(log_id, self.verify_keys())
        return (head.entries, bytes.fromhex(head.log)) if head else None

    def verify_audit(self, session: UserSession) -> tuple[AuditReport, LibraryHistory]:
        """Verify the library's own trail (administrators read it)."""
        history = LibraryHistory(epochs=EpochKeys(signers=self.verify_keys()))
        log = self.audit_log()
        report = log.verify(
            session.identities,
            self.verify_keys(),
            policy=history,
            legacy=self.legacy_head(log.log_id),
            known=self.known_head(log.log_id),
        )
        return report, history

    # --- retention -----------------------------------------------------------------------

    def record_retention(self, record: RetentionRecord, case_id: str) -> None:
        self.manifest.retention[case_id] = record
        write_manifest(self.folder, self.manifest)

    def expired_cases(self, by: UserSession, today: date | None = None) -> list[str]:
        """Closed cases past their retention date whose closure checks out: signed by a user
        whose role may close a case, with the case's own key (so by a member), announced in
        the library's verified trail, and no earlier than the retention setting allows.
        ``today`` is for tests only; the command line has no way to change the date."""
        today = today or date.today()
        report, history = self.verify_audit(by)
        if not report.valid:  # a trail with problems decides no deletion
            raise LibraryError(
                "the library's audit trail has problems, so no case is purged; run "
                "'videofeedback audit verify' and ask whoever keeps the library"
            )
        keys = self.verify_keys()
        users = self.trusted_users()
        expired = []
        for case_id, record in sorted(self.manifest.retention.items()):
            if date.fromisoformat(record.until) >= today:
                continue
            if self._closure_holds(case_id, record, history, keys, users):
                expired.append(case_id)
        return expired

    def _closure_holds(
        self,
        case_id: str,
        record: RetentionRecord,
        history: LibraryHistory,
        keys: dict[str, VerifyKey],
        users: dict[str, UserRecord],
    ) -> bool:
        user = users.get(record.signed_by)
        case_key = history.case_keys.get(case_id)
        close = history.closures.get(case_id)
        if user is None or case_key is None or close is None or not record.closed:
            return False  # format 1, unknown signer, or a case never announced or closed
        closer = close.detail.get("by", close.user)  # "by": the closure came by the store
        if closer != record.signed_by or close.detail.get("until") != record.until:
            return False
        if not allowed(Role(user.role), Action.EDIT_CASE):
            return False
        retention = timedelta(days=self.manifest.settings.retention_days)
        if date.fromisoformat(record.until) < date.fromisoformat(record.closed) + retention:
            return False
        if not _holds_closing_entry(self.case_folder(case_id), case_id, record):
            return False  # the closing entry is not in the case's trail (over its ciphertexts)
        message = closure_message(
            case_id, record.closed, record.until, record.signed_by, record.entry, record.head
        )
        try:
            keys[record.signed_by].verify(message, base64.b64decode(record.signature))
            VerifyKey.parse(case_key).verify(message, base64.b64decode(record.case_signature))
        except (SignatureError, ValueError):
            return False  # a forged or altered record never leads to deletion
        return True

    def purge(self, by: UserSession, today: date | None = None) -> list[str]:
        """Crypto-shred and delete every expired case; return their ids."""
        require(by.role, Action.PURGE)
        purged = []
        for case_id in self.expired_cases(by, today):
            folder = self.case_folder(case_id)
            # the KEK first: with it gone, every copy of key.age (backups, earlier versions
            # on other inodes, bundles) opens nothing
            self.key_store().change(by.identities, self.store_recipients(), remove=[case_id])
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


def _holds_closing_entry(folder: Path, case_id: str, record: RetentionRecord) -> bool:
    """Is the record's chain value at its entry that of the case's own chain, or of a chain
    pulled from the device that closed it (docs/FORMAT.md §12.8)?"""
    for log in chain_logs(folder, case_id):
        chain = log.chain_values()
        if record.entry < len(chain) and chain[record.entry].hex() == record.head:
            return True
    return False


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
        key = self.keys.require_signing_key()
        log.append(self.name, action, obj, signing_key=key, **detail)
        head = log.head()
        log.checkpoint(self.name, key, head)
        self.library.local.record_head(log.log_id, head[0], head[1], "", self.name, key)

    def try_case_identity(self, case_id: str) -> CaseKeys | None:
        """The case's key if this user is a member, else None (nothing is audited)."""
        try:
            return self.case_identity(case_id)
        except (PermissionDeniedError, EncryptionError, KeysDestroyedError):
            return None

    def case_identity(self, case_id: str) -> CaseKeys:
        """Every key epoch of the case (an identity; its recipient is the newest epoch)."""
        folder = self.library.case_folder(case_id)
        try:
            return load_case_keys(folder, case_id, self.library.key_store(), self.identities)
        except LegacyKeyError as old:  # a library from before epochs: upgraded on first use
            return upgrade_case(self.library, case_id, old.legacy, self.identities)
        except NoIdentityMatchError:
            raise PermissionDeniedError(
                f"you ({self.name}) are not a member of case {case_id}, so its files cannot be "
                "opened with your key; ask its practitioner to add you"
            ) from None
