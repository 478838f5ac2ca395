"""Hand-over bundles: one age file to one user, signed by the exporter, opened read-only.

A bundle (docs/FORMAT.md, section 8.2) is an age file to its recipient holding a tar stream:
``bundle.note`` first (a signed note naming the bundle, case, exporter, recipient and every
other member's size and hash), then the members, each an age file to a key derived from the
case's KEK, so that purging the case makes every bundle of it unreadable too. The receiver
checks sizes, types and the signature before buffering anything, and re-verifies the audit
trail itself from the library's own files (``audit.keys`` gives the file key of each).
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from encryption import (
    AgeReader,
    EncryptionError,
    Identity,
    X25519Identity,
    atomic_encrypted_writer,
    read_encrypted,
)
from encryption.header import Stanza
from encryption.stream import AgeWriter

from .audit import AuditEntry, AuditLog, now_iso, open_note, report_json, sign_note
from .case_db import get_meta, upgrade_schema
from .cases import Case, Purpose
from .errors import LibraryError, NotFoundError, PermissionDeniedError
from .library import UserSession, new_id
from .roles import Action, Role, allowed

FORMAT = "videofeedback-bundle"
VERSION = 2
NOTE = "bundle.note"
MAX_NOTE_BYTES = 1 << 20  # the note lists names, sizes and hashes only
_PLAIN_TYPES = (tarfile.REGTYPE, tarfile.AREGTYPE)


class BundleError(LibraryError):
    """A bundle is refused: not for this user, not signed by a member, altered or malformed."""


# --- keys --------------------------------------------------------------------------------------


def bundle_identity(kek: bytes, epoch_key: X25519Identity, bundle_id: str) -> X25519Identity:
    """The key a bundle's members are encrypted to: from the case's KEK (gone at purge) and a
    key epoch's secret (only members have it: every library user can read the KEK, so a
    bundle's inner layer handed on to a non-member opens nothing)."""
    hkdf = HKDF(hashes.SHA256(), 32, salt=bundle_id.encode(), info=b"videofeedback bundle v2")
    return X25519Identity(hkdf.derive(kek + str(epoch_key).encode()))


def _stanza_id(stanzas: Sequence[Stanza]) -> str:
    digest = hashlib.sha256()
    for stanza in stanzas:
        digest.update(" ".join(stanza.args).encode() + b"\n" + stanza.body)
    return digest.hexdigest()


class _FileKeyRecorder:
    """An identity that remembers the file key of each file it opens (by its stanzas)."""

    def __init__(self, inner: Identity) -> None:
        self.inner = inner
        self.keys: dict[str, str] = {}

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None:
        file_key = self.inner.unwrap(stanzas)
        if file_key is not None:
            self.keys[_stanza_id(stanzas)] = file_key.hex()
        return file_key


class _KnownFileKeys:
    """An identity that opens exactly the files whose file keys the exporter gave."""

    def __init__(self, keys: Mapping[str, str]) -> None:
        self.keys = dict(keys)

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None:
        found = self.keys.get(_stanza_id(stanzas))
        return bytes.fromhex(found) if found else None


def _seal(data: bytes, identity: X25519Identity) -> bytes:
    sink = io.BytesIO()
    writer = AgeWriter(sink, [identity.recipient])
    writer.write(data)
    writer.close()
    return sink.getvalue()


def _open_sealed(data: bytes, identity: X25519Identity) -> bytes:
    with AgeReader(io.BytesIO(data), [identity]) as reader:
        return reader.readall()


# --- export ------------------------------------------------------------------------------------


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def export_bundle(
    case: Case, to_user: str, out: Path, media_ids: Sequence[str] = ()
) -> dict[str, Any]:
    """Write the case for ``to_user``: its database, audit trail and chosen media."""
    case.require(Action.EXPORT)
    library = case.session.library
    recipient_role = Role(library.user_record(to_user).role)
    if recipient_role == Role.SUPERVISOR:  # covered when filming consent is taken, unless withdrawn
        case.consent.refuse_if_withdrawn(Purpose.SUPERVISION)
    media_files = {m: _media_path(case, m) for m in media_ids}
    bundle_id = new_id("b")
    database = case.db.serialize()
    case.audit(
        "export",
        case.id,
        to=to_user,
        media=",".join(media_ids),
        bundle=bundle_id,
        db=hashlib.sha256(database).hexdigest(),
    )
    case.save()
    key = bundle_identity(case.identity.kek, case.identity.newest, bundle_id)
    plain = {"case.db": database, **_audit_files(case)}
    plain.update({f"media/{m}": read_encrypted(p, [case.identity]) for m, p in media_files.items()})
    sealed = {name: _seal(data, key) for name, data in plain.items()}
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "bundle_id": bundle_id,
        "epoch": case.identity.epoch,
        "case_id": case.id,
        "exporter": case.session.name,
        "to": to_user,
        "created": now_iso(),
        "media": list(media_ids),
        "members": {n: [len(d), hashlib.sha256(d).hexdigest()] for n, d in sealed.items()},
    }
    note = sign_note(
        json.dumps(manifest, sort_keys=True).encode() + b"\n",
        case.session.name,
        case.session.keys.require_signing_key(),
    )
    with atomic_encrypted_writer(out, [library.recipient_of(to_user)]) as writer:
        with tarfile.open(fileobj=writer, mode="w|") as tar:  # type: ignore[call-overload]
            _add(tar, NOTE, note)
            for name, data in sealed.items():
                _add(tar, name, data)
    case.session.audit("export", case.id, to=to_user)
    return {"bundle": str(out), "case_id": case.id, "to": to_user, "media": list(media_ids)}


def _audit_files(case: Case) -> dict[str, bytes]:
    """Every file of the case's audit folder as stored (ciphertext), and their file keys."""
    recorder = _FileKeyRecorder(case.identity)
    files = {}
    root = case.folder / "audit"
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")):
        data = path.read_bytes()
        read_encrypted(path, [recorder])
        files[f"audit/{path.relative_to(root).as_posix()}"] = data
    files["audit.keys"] = json.dumps(recorder.keys, sort_keys=True).encode()
    return files


def _media_path(case: Case, media_id: str) -> Path:
    row = case.db.execute("SELECT file FROM media WHERE id = ?", (media_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"there is no media {media_id} in case {case.id}")
    return case.folder / str(row[0])


# --- opening -------------------------------------------------------------------------------------


@dataclass
class OpenedBundle:
    """A bundle opened in memory, read-only: nothing of it is written to disk."""

    manifest: dict[str, Any]
    signed_by: str
    db: sqlite3.Connection
    audit: dict[str, Any]
    media: dict[str, bytes]

    def summary(self) -> dict[str, Any]:
        def count(table: str) -> int:
            return int(self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608

        return {
            "case_id": self.manifest["case_id"],
            "label": get_meta(self.db, "label"),
            "programme": get_meta(self.db, "programme"),
            "exporter": self.manifest["exporter"],
            "signed_by": self.signed_by,
            "signature_valid": True,
            "created": self.manifest["created"],
            "participants": count("participants"),
            "sessions": count("sessions"),
            "goals": count("goals"),
            "media": sorted(self.media),
            "audit_valid": bool(self.audit["report"]["valid"]),
            "audit_entries": len(self.audit["entries"]),
        }


def open_bundle(session: UserSession, path: Path) -> OpenedBundle:
    """Decrypt with the user's key; check that it is for this user, signed by a practitioner
    member of the case at the point of export, unaltered, and that its audit trail is the
    library's own; then open its members (still only in memory)."""
    try:
        with AgeReader(path, session.identities) as reader:
            manifest, signer, sealed = _read_members(reader, session, path)
    except tarfile.TarError as exc:
        raise BundleError(f"{path} is not a videofeedback bundle ({exc})") from None
    except EncryptionError as exc:
        raise BundleError(f"{path} cannot be opened: {exc}") from None
    case_id = str(manifest["case_id"])
    session.library.key_store().kek(case_id, session.identities)  # gone after a purge
    case_keys = session.case_identity(case_id)  # members only: a non-member is refused here
    epoch = int(manifest.get("epoch", 0))
    if not 1 <= epoch <= case_keys.epoch:
        raise BundleError(f"{path} names a key epoch this case does not have; not opened")
    epoch_key = case_keys.epoch_identity(epoch)
    key = bundle_identity(case_keys.kek, epoch_key, str(manifest["bundle_id"]))
    try:
        plain = {name: _open_sealed(data, key) for name, data in sealed.items()}
    except EncryptionError as exc:
        raise BundleError(f"{path}: a member of the bundle does not open ({exc})") from None
    audit = _verify_trail(session, manifest, signer, plain, path)
    db = sqlite3.connect(":memory:", check_same_thread=False)  # opened in an app job
    db.deserialize(plain["case.db"])
    upgrade_schema(db)  # in memory only: a bundle from an older version shows titles too
    media = {str(m): plain[f"media/{m}"] for m in manifest["media"]}
    session.audit("bundle.open", case_id, exporter=signer)
    return OpenedBundle(manifest, signer, db, audit, media)


def _read_members(
    reader: AgeReader, session: UserSession, path: Path
) -> tuple[dict[str, Any], str, dict[str, bytes]]:
    """The signed manifest, its signer and the members' bytes; every size and type is checked
    against the signed note before a member is read."""
    with tarfile.open(fileobj=reader, mode="r|") as tar:
        first = tar.next()
        note = _read_member(tar, first, NOTE, MAX_NOTE_BYTES, path, at_most=True)
        text, signer = open_note(note, session.library.verify_keys())
        manifest = json.loads(text)
        _check_manifest(manifest, signer, session.name, path)
        declared: dict[str, list[Any]] = manifest["members"]
        members: dict[str, bytes] = {}
        while (info := tar.next()) is not None:
            size, digest = declared.get(info.name, (-1, ""))
            if info.name in members:
                raise BundleError(f"{path}: {info.name} appears twice in the bundle")
            data = _read_member(tar, info, info.name, int(size), path)
            if hashlib.sha256(data).hexdigest() != digest:
                raise BundleError(f"{path}: {info.name} in the bundle was altered after signing")
            members[info.name] = data
    if missing := sorted(set(declared) - set(members)):
        raise BundleError(f"{path}: the bundle lacks {', '.join(missing)}; it was cut short")
    return manifest, signer, members


def _read_member(
    tar: tarfile.TarFile,
    info: tarfile.TarInfo | None,
    name: str,
    size: int,
    path: Path,
    at_most: bool = False,
) -> bytes:
    """Read a member that is ``name``, a plain file, and ``size`` bytes (or at most that)."""
    if info is None or info.name != name:
        raise BundleError(f"{path}: expected {name} in the bundle; it is not a bundle")
    if info.type not in _PLAIN_TYPES or info.sparse is not None:
        raise BundleError(f"{path}: {info.name} is a special or sparse member; refused")
    if size < 0 or (info.size > size if at_most else info.size != size):
        raise BundleError(
            f"{path}: {info.name} is not the size the exporter signed ({info.size} bytes); refused"
        )
    member = tar.extractfile(info)
    data = member.read() if member else b""
    if len(data) != info.size:
        raise BundleError(f"{path}: {info.name} is cut short; the bundle is damaged")
    return data


def _check_manifest(manifest: Any, signer: str, user: str, path: Path) -> None:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError(f"{path} is not a videofeedback bundle")
    if manifest.get("version") != VERSION:
        raise BundleError(f"{path} is a bundle of another version; ask for a new export")
    if manifest.get("exporter") != signer:
        raise BundleError(f"{path}: the bundle's signature does not belong to its exporter")
    if manifest.get("to") != user:
        raise BundleError(
            f"{path} was made for {manifest.get('to')}, not for you ({user}); "
            "ask the practitioner to export it to you"
        )


# --- the receiver's own check of the audit trail -----------------------------------------


def _verify_trail(
    session: UserSession,
    manifest: dict[str, Any],
    signer: str,
    plain: Mapping[str, bytes],
    path: Path,
) -> dict[str, Any]:
    """Re-verify the case's audit trail from the bundle's copies of the library's own files."""
    library = session.library
    case_folder = library.case_folder(str(manifest["case_id"]))
    keys = _KnownFileKeys(json.loads(plain.get("audit.keys", b"{}")))
    files = {n.removeprefix("audit/"): d for n, d in plain.items() if n.startswith("audit/")}
    for name, data in files.items():
        stored = case_folder / "audit" / name
        if "entries" in Path(name).parts and (not stored.is_file() or stored.read_bytes() != data):
            raise BundleError(
                f"{path}: the bundle's audit trail is not this library's trail of case "
                f"{manifest['case_id']}; refused"
            )
    with tempfile.TemporaryDirectory(prefix="vf-bundle-") as scratch:  # ciphertext only
        for name, data in files.items():
            target = Path(scratch, "audit", name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        log = AuditLog(Path(scratch, "audit"), str(manifest["case_id"]), [])
        report = log.verify([keys], library.verify_keys())
        try:
            entries = log.entries([keys])
        except EncryptionError as exc:
            raise BundleError(f"{path}: the bundle's audit trail cannot be read ({exc})") from None
    export = _export_entry(entries, manifest, plain["case.db"], path)
    if export.seq > report.signed_up_to:
        raise BundleError(f"{path}: the export is not signed in the case's audit trail; refused")
    _require_exporter(session, entries[: export.seq], signer, path)
    return {"entries": [e.__dict__ for e in entries], "report": report_json(report)}


def _export_entry(
    entries: Sequence[AuditEntry], manifest: Mapping[str, Any], database: bytes, path: Path
) -> AuditEntry:
    for entry in entries:
        if entry.action == "export" and entry.detail.get("bundle") == manifest["bundle_id"]:
            if (
                entry.user != manifest["exporter"]
                or entry.detail.get("to") != manifest["to"]
                or entry.detail.get("db") != hashlib.sha256(database).hexdigest()
            ):
                break
            return entry
    raise BundleError(
        f"{path}: the case's audit trail does not record this export of this database; refused"
    )


def _require_exporter(
    session: UserSession, history: Sequence[AuditEntry], exporter: str, path: Path
) -> None:
    """The exporter was a member allowed to export, at that point of the trail."""
    members: set[str] = set()
    for entry in history:
        if entry.action == "case.create":
            listed = entry.detail.get("members")
            members = set(listed.split(",")) if listed else {entry.user}
        elif entry.action == "member.add":
            members.add(entry.object)
        elif entry.action == "member.remove":
            members.discard(entry.object)
    record = session.library.manifest.users.get(exporter)
    if exporter not in members or record is None or not allowed(Role(record.role), Action.EXPORT):
        raise PermissionDeniedError(
            f"{path} was made by {exporter}, who was not a practitioner on case "
            f"{history[0].object if history else '?'} when it was exported; refused"
        )
