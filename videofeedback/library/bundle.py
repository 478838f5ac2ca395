"""Hand-over bundles: one age file to a supervisor, signed by the exporter, opened read-only."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from encryption import AgeReader, EncryptionError, atomic_encrypted_writer, read_encrypted

from .audit import now_iso, open_note, report_json, sign_note
from .case_db import get_meta
from .cases import Case, Purpose
from .errors import LibraryError, NotFoundError
from .library import UserSession
from .roles import Action, Role

FORMAT = "videofeedback-bundle"


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
        case.refuse_if_withdrawn(Purpose.SUPERVISION)
    case.audit("export", case.id, to=to_user, media=",".join(media_ids))
    case.save()
    entries = [e.__dict__ for e in case.audit_log().entries([case.identity])]
    files: dict[str, bytes] = {
        "case.db": case.db.serialize(),
        "audit.json": json.dumps(
            {"entries": entries, "report": report_json(case.verify_audit())}
        ).encode(),
    }
    media_files = {m: _media_path(case, m) for m in media_ids}
    manifest = {
        "format": FORMAT,
        "version": 1,
        "case_id": case.id,
        "exporter": case.session.name,
        "to": to_user,
        "created": now_iso(),
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
        "media": {m: _sha256_of(p, case) for m, p in media_files.items()},
    }
    note = sign_note(
        json.dumps(manifest, sort_keys=True).encode() + b"\n",
        case.session.name,
        case.session.keys.require_signing_key(),
    )
    with atomic_encrypted_writer(out, [library.recipient_of(to_user)]) as writer:
        with tarfile.open(fileobj=writer, mode="w|") as tar:  # type: ignore[call-overload]
            _add(tar, "bundle.note", note)
            for name, data in files.items():
                _add(tar, name, data)
            for media_id, path in media_files.items():
                _add(tar, f"media/{media_id}", read_encrypted(path, [case.identity]))
    case.session.audit("export", case.id, to=to_user)
    return {"bundle": str(out), "case_id": case.id, "to": to_user, "media": list(media_ids)}


def _media_path(case: Case, media_id: str) -> Path:
    row = case.db.execute("SELECT file FROM media WHERE id = ?", (media_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"there is no media {media_id} in case {case.id}")
    return case.folder / str(row[0])


def _sha256_of(path: Path, case: Case) -> str:
    digest = hashlib.sha256()
    with AgeReader(path, [case.identity]) as reader:
        while block := reader.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


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
    """Decrypt with the user's key, verify the exporter's signature and every hash."""
    try:
        with (
            AgeReader(path, session.identities) as reader,
            tarfile.open(fileobj=reader, mode="r:") as tar,
        ):
            members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    except tarfile.TarError as exc:
        raise LibraryError(f"{path} is not a videofeedback bundle ({exc})") from None
    except EncryptionError as exc:
        raise LibraryError(f"{path} cannot be opened: {exc}") from None
    text, signer = open_note(members.get("bundle.note", b""), session.library.verify_keys())
    manifest = json.loads(text)
    if manifest.get("format") != FORMAT or manifest.get("exporter") != signer:
        raise LibraryError(f"{path}: the bundle's signature does not belong to its exporter")
    for name, digest in manifest["files"].items():
        if hashlib.sha256(members.get(name, b"")).hexdigest() != digest:
            raise LibraryError(f"{path}: {name} in the bundle was altered after signing")
    media = {m: members.get(f"media/{m}", b"") for m in manifest["media"]}
    for media_id, digest in manifest["media"].items():
        if hashlib.sha256(media[media_id]).hexdigest() != digest:
            raise LibraryError(f"{path}: media {media_id} in the bundle was altered after signing")
    db = sqlite3.connect(":memory:", check_same_thread=False)  # opened in an app job
    db.deserialize(members["case.db"])
    session.audit("bundle.open", manifest["case_id"], exporter=signer)
    return OpenedBundle(manifest, signer, db, json.loads(members["audit.json"]), media)
