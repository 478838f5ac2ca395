"""Joining a team: what an administrator publishes, and how a new laptop takes it.

``team init`` publishes one object, ``PREFIX/team/join.age``: the signed roster (and the
library's other public data), every user's passphrase-protected identity file and the key
store, encrypted to an X25519 key derived from a **team code** (160 random bits, printed
to the administrator, handed to members with the store's keys). The store holds only that
ciphertext: it learns no user name, no recipient and no identity file to guess
passphrases against (docs/FORMAT.md §12.4 and §10.5 argue why).

``team join`` fetches it, verifies the roster (an administrator's signature, pinned on
first use; the fingerprint is shown so it can be compared out of band, or required with
``--admin-key``), opens the user's identity file with their passphrase and checks it
against the roster, and only then writes the new library folder.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from encryption import (
    AgeReader,
    AgeWriter,
    EncryptionError,
    NoIdentityMatchError,
    ScryptIdentity,
    UserKeys,
    WrongPassphraseError,
    X25519Identity,
    X25519Recipient,
    private_folder,
    read_encrypted,
    write_encrypted,
)
from encryption import keys as age_keys
from videofeedback.library import Library, Role, UserSession
from videofeedback.library.errors import AuthenticationError, LibraryError
from videofeedback.library.local_state import LocalState
from videofeedback.library.manifest import Manifest, write_manifest
from videofeedback.library.passphrases import new_recovery_secret, normalise_recovery_secret
from videofeedback.library.roster import RosterError, check_roster, fingerprint

from .errors import StoreError, StoreNotFoundError
from .remotes import Remote, save_remote

PACKAGE = "team/join.age"
FORMAT = "videofeedback-team-join"
VERSION = 1
KEY_SLOTS = ("a.age", "b.age")


class JoinError(StoreError):
    """The team package is missing, does not open, or does not check out."""


def code_identity(code: str) -> X25519Identity:
    """The X25519 identity the package is encrypted to, derived from the team code."""
    try:
        normal = normalise_recovery_secret(code)
    except LibraryError:
        raise JoinError(
            "that is not a team code (8 groups of 4 letters and digits, as 'videofeedback "
            "team init' printed it); ask your administrator for it"
        ) from None
    hkdf = HKDF(hashes.SHA256(), 32, salt=b"videofeedback team code", info=b"join package v1")
    return X25519Identity(hkdf.derive(normal.encode()))


# --- publishing (an administrator) ---------------------------------------------------------


def _code_path(library: Library, remote: Remote) -> Path:
    """Named by the store's location (endpoint, bucket, prefix), not the remote's local
    name: the same team under two names has one code, and no name reaches a path."""
    where = remote.location
    text = f"{where.endpoint.rstrip('/')}\n{where.bucket}\n{where.prefix.strip('/')}"
    return library.folder / "team" / f"{hashlib.sha256(text.encode()).hexdigest()[:32]}.age"


def team_code(session: UserSession, remote: Remote) -> str:
    """The team code of the store: made once, kept in the library encrypted to the
    administrators and the recovery key (another administrator can publish again)."""
    library = session.library
    path = _code_path(library, remote)
    code = new_recovery_secret()
    if path.exists():
        try:
            code = read_encrypted(path, session.identities).decode()
        except NoIdentityMatchError:
            raise JoinError(
                "this store's team code was made before you became an administrator; ask "
                "an administrator who has run 'videofeedback team init' to run it again"
            ) from None
    admins = [
        X25519Recipient.parse(u.recipient)
        for u in library.trusted_users().values()
        if u.role == Role.ADMIN.value and not u.removed
    ]
    private_folder(path.parent)  # written again each time: to today's administrators
    write_encrypted(path, code.encode(), [*admins, library.recovery_recipient()])
    return code


def package_bytes(library: Library) -> bytes:
    """The package's plaintext: roster and public data, identity files, the key store."""
    library.trusted_users()  # never publish a roster this computer does not trust
    manifest = json.loads(library.manifest.to_json())
    manifest.pop("unlock_failures", None)  # this laptop's business only
    identities = {
        name: base64.b64encode(library.identity_path(name).read_bytes()).decode()
        for name, user in library.manifest.users.items()
        if library.identity_path(name).exists() and not user.removed
    }
    keys = {
        slot: base64.b64encode((library.folder / "keys" / slot).read_bytes()).decode()
        for slot in KEY_SLOTS
        if (library.folder / "keys" / slot).exists()
    }
    body = {"format": FORMAT, "version": VERSION, "manifest": manifest}
    body |= {"identities": identities, "keys": keys}
    return json.dumps(body, sort_keys=True).encode()


def _seal(plaintext: bytes, code: str) -> bytes:
    sink = io.BytesIO()
    writer = AgeWriter(sink, [code_identity(code).recipient])
    writer.write(plaintext)
    writer.close()
    return sink.getvalue()


@dataclass(frozen=True)
class Published:
    code: str
    admin: str
    fingerprint: str
    serial: int


def publish(session: UserSession, remote: Remote) -> Published:
    """Publish (or replace) the team package; an administrator only."""
    if session.role != Role.ADMIN:
        raise RosterError("only an administrator can set up a team (team init)")
    code = team_code(session, remote)
    sealed = _seal(package_bytes(session.library), code)
    store = remote.store()
    store.ensure_bucket()
    current = store.head(PACKAGE)
    store.put_if(PACKAGE, sealed, None if current is None else current.etag)
    key = session.library.manifest.users[session.name].verify_key
    serial = session.library.manifest.roster_serial
    return Published(code, session.name, fingerprint(key), serial)


# --- joining (a new laptop) ----------------------------------------------------------------


@dataclass(frozen=True)
class Package:
    manifest: Manifest
    identities: dict[str, bytes]
    keys: dict[str, bytes]

    @property
    def admin(self) -> str:
        return self.manifest.roster_signature.get("by", "")

    @property
    def admin_fingerprint(self) -> str:
        user = self.manifest.users.get(self.admin)
        return fingerprint(user.verify_key) if user else ""


def fetch_package(remote: Remote, code: str) -> Package:
    try:
        sealed = remote.store().get(PACKAGE)
    except StoreNotFoundError:
        raise JoinError(
            f"no team is set up at {remote.location.endpoint} bucket {remote.location.bucket!r}"
            f" prefix {remote.location.prefix!r}; ask your administrator to run "
            "'videofeedback team init' (or check --bucket and --prefix)"
        ) from None
    try:
        with AgeReader(io.BytesIO(sealed), [code_identity(code)]) as reader:
            body: dict[str, Any] = json.loads(reader.readall())
    except NoIdentityMatchError:
        raise JoinError("the team code is wrong; ask your administrator for it") from None
    except (EncryptionError, ValueError):
        raise JoinError(
            "the team package in the store is damaged; ask your administrator "
            "to run 'videofeedback team init' again"
        ) from None
    if body.get("format") != FORMAT or int(body.get("version", 0)) > VERSION:
        raise JoinError("the team package is of a newer videofeedback; update this one")
    try:
        manifest = Manifest.from_json(json.dumps({**body["manifest"], "unlock_failures": {}}))
        identities = {k: base64.b64decode(v) for k, v in body["identities"].items()}
        keys = {k: base64.b64decode(v) for k, v in body["keys"].items() if k in KEY_SLOTS}
    except (KeyError, TypeError, ValueError, LibraryError):
        raise JoinError(
            "the team package in the store is damaged; ask your administrator "
            "to run 'videofeedback team init' again"
        ) from None
    return Package(manifest, identities, keys)


def check_package(package: Package, admin_key: str | None) -> dict[str, Any]:
    """Verify the roster (signed by an administrator; the pinned ones if this computer
    knows the library); with ``admin_key``, the signer's fingerprint must be that one."""
    local = LocalState(package.manifest.library_id)
    pins = check_roster(package.manifest, local.pins)  # RosterError: refused, nothing written
    if admin_key is not None:
        wanted = admin_key.strip().removeprefix("vfsign1")[:16]
        if len(wanted) < 16 or package.admin_fingerprint != wanted:
            raise RosterError(
                f"the team's list of users is signed by {package.admin} with key "
                f"{package.admin_fingerprint}, not the administrator key {admin_key} you "
                "were given. Nothing was written; ask your administrator"
            )
    return pins


def open_identity(package: Package, user: str, passphrase: str) -> UserKeys:
    """The user's keys from the package (opened in memory), checked against the roster."""
    record = package.manifest.users.get(user)
    data = package.identities.get(user)
    if record is not None and record.removed:
        raise JoinError(f"{user} was removed from this team; ask your administrator")
    if record is None or data is None:
        raise JoinError(
            f"there is no user {user!r} in this team; check the name with your administrator"
        )
    identity = ScryptIdentity(passphrase, min_work_factor=age_keys.MIN_WRITE_WORK_FACTOR)
    try:
        with AgeReader(io.BytesIO(data), [identity]) as reader:
            keys = UserKeys.from_text(reader.readall().decode("utf-8"))
    except WrongPassphraseError:
        raise AuthenticationError(f"wrong passphrase for {user}; nothing was joined") from None
    except (EncryptionError, UnicodeDecodeError):
        raise JoinError(
            f"the identity file of {user} in the team package is damaged; ask "
            "your administrator to run 'videofeedback team init' again"
        ) from None
    signing = keys.require_signing_key()
    if str(keys.recipient) != record.recipient or str(signing.verify_key) != record.verify_key:
        raise RosterError(
            f"the identity file of {user} in the team package does not hold the keys the "
            "signed list of users names for them. Nothing was written; ask your administrator"
        )
    return keys


@dataclass(frozen=True)
class Joined:
    library: Path
    library_id: str
    admin: str
    fingerprint: str
    pulled: bool
    note: str


def check_empty(folder: Path) -> None:
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise JoinError(f"{folder} is not empty; join into a new or empty folder")


def join(
    folder: Path,
    remote: Remote,
    user: str,
    passphrase: str,
    code: str,
    admin_key: str | None = None,
) -> tuple[Joined, Library, UserSession]:
    """Make ``folder`` a library of the team as ``user``; the library stays open (locked)."""
    check_empty(folder)
    package = fetch_package(remote, code)
    pins = check_package(package, admin_key)
    open_identity(package, user, passphrase)  # nothing is written before this holds
    private_folder(folder, parents=True)
    private_folder(folder / "users")
    write_encrypted_copy(folder / "users" / f"{user}.identity", package.identities[user])
    private_folder(folder / "keys")
    for slot, data in package.keys.items():
        write_encrypted_copy(folder / "keys" / slot, data)
    write_manifest(folder, package.manifest)
    LocalState(package.manifest.library_id).set_pins(pins)
    library = Library.open(folder)
    try:
        session = library.unlock(user, passphrase)
        save_remote(session, replace(remote, team_code=code))  # later rosters (roster_sync)
        session.audit("team.join", remote.name)
    except BaseException:
        library.close()
        raise
    joined = Joined(
        folder, package.manifest.library_id, package.admin, package.admin_fingerprint, False, ""
    )
    return joined, library, session


def write_encrypted_copy(path: Path, data: bytes) -> None:
    """A ciphertext file as fetched (the key store copies), private, written whole."""
    temporary = path.with_name(f".{path.name}.join.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
