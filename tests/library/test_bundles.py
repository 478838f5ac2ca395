"""Bundles, attacked (docs/FORMAT.md, section 10.2): sizes, sparse members, the recipient, the
exporter's membership and role, the receiver's own check of the trail, purge."""

import hashlib
import io
import json
import shutil
import subprocess
import tarfile
import tracemalloc
from datetime import date

import pytest

from encryption import AgeReader, AgeWriter, write_encrypted
from videofeedback.library import (
    Library,
    LibraryError,
    PermissionDeniedError,
    Programme,
    Role,
    create_case,
    export_bundle,
    open_bundle,
    open_case,
)
from videofeedback.library.audit import sign_note
from videofeedback.library.bundle import FORMAT, VERSION, BundleError, bundle_identity
from videofeedback.library.keyring import KeysDestroyedError

GIB = 1 << 30
MEMORY_LIMIT = 64 << 20  # far below the 2 GiB a sparse member would expand to


def _encrypt_to(path, data: bytes, recipient) -> None:
    with open(path, "wb") as sink:
        writer = AgeWriter(sink, [recipient])
        writer.write(data)
        writer.close()


def _signed_note(world, signer, case_id: str, to: str, members: dict) -> bytes:
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "bundle_id": "b-0000000001",
        "case_id": case_id,
        "exporter": signer.name,
        "to": to,
        "created": "2026-01-01T00:00:00Z",
        "media": [],
        "members": members,
    }
    text = json.dumps(manifest, sort_keys=True).encode() + b"\n"
    return sign_note(text, signer.name, signer.keys.require_signing_key())


def _sparse_tar(tmp_path, note: bytes | None) -> bytes:
    """A tar made by GNU tar holding a 2 GiB sparse member (a few KB on disk)."""
    source = tmp_path / "src"
    source.mkdir()
    names = []
    if note is not None:
        (source / "bundle.note").write_bytes(note)
        names.append("bundle.note")
    with open(source / "case.db", "wb") as big:
        big.truncate(2 * GIB)
    names.append("case.db")
    tar = tmp_path / "sparse.tar"
    subprocess.run(["tar", "-C", source, "-cSf", tar, *names], check=True, timeout=60)
    return tar.read_bytes()


@pytest.mark.skipif(shutil.which("tar") is None, reason="GNU tar is not installed")
@pytest.mark.parametrize("with_note", [False, True])
def test_a_tiny_bundle_declaring_a_huge_sparse_member_is_refused_cheaply(
    world, family, tmp_path, with_note
):
    case, _ = family
    note = None
    if with_note:
        note = _signed_note(world, world.bob, case.id, "sue", {"case.db": [2 * GIB, "0" * 64]})
    data = _sparse_tar(tmp_path, note)
    assert len(data) < 64 * 1024
    bundle = tmp_path / "sparse.age"
    _encrypt_to(bundle, data, world.library.recipient_of("sue"))
    tracemalloc.start()
    try:
        with pytest.raises(BundleError, match="sparse|expected bundle.note"):
            open_bundle(world.sue, bundle)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"peak traced memory: {peak / 1e6:.2f} MB")
    assert peak < MEMORY_LIMIT, f"{peak / 1e6:.0f} MB"


def test_a_member_larger_than_signed_is_refused_before_reading(world, family, tmp_path):
    case, _ = family
    note = _signed_note(world, world.bob, case.id, "sue", {"case.db": [10, "0" * 64]})
    stream = io.BytesIO()
    with tarfile.open(fileobj=stream, mode="w") as tar:
        for name, payload in (("bundle.note", note), ("case.db", b"x" * 4096)):
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    _encrypt_to(tmp_path / "b.age", stream.getvalue(), world.library.recipient_of("sue"))
    with pytest.raises(BundleError, match="not the size the exporter signed"):
        open_bundle(world.sue, tmp_path / "b.age")


def test_a_bundle_opens_only_for_the_user_it_names(world, family, tmp_path):
    """sue decrypts her bundle and re-encrypts it to dave: it does not open for dave."""
    case, _ = family
    export_bundle(case, "sue", tmp_path / "for-sue.age")
    with AgeReader(tmp_path / "for-sue.age", world.sue.identities) as reader:
        plain = reader.readall()
    write_encrypted(tmp_path / "for-dave.age", plain, [world.library.recipient_of("dave")])
    with pytest.raises(BundleError, match="made for sue, not for you"):
        open_bundle(world.dave, tmp_path / "for-dave.age")
    assert open_bundle(world.sue, tmp_path / "for-sue.age").summary()["audit_valid"]


def _forged_bundle(world, forger, case_id: str, to: str, members: dict[str, bytes], out):
    """A bundle built by hand: every member sealed with the case's KEK (the key store is
    readable by every user) and the best epoch key the forger has (a non-member has none:
    a made-up one), the note signed by ``forger``."""
    from encryption import X25519Identity

    kek = world.library.key_store().kek(case_id, forger.identities)
    epoch_key = forger.try_case_identity(case_id)
    key = bundle_identity(
        kek, epoch_key.newest if epoch_key else X25519Identity.generate(), "b-0000000001"
    )
    sealed = {}
    for name, data in members.items():
        sink = io.BytesIO()
        writer = AgeWriter(sink, [key.recipient])
        writer.write(data)
        writer.close()
        sealed[name] = sink.getvalue()
    listing = {n: [len(d), hashlib.sha256(d).hexdigest()] for n, d in sealed.items()}
    note = _signed_note(world, forger, case_id, to, listing)
    stream = io.BytesIO()
    with tarfile.open(fileobj=stream, mode="w") as tar:
        for name, payload in (("bundle.note", note), *sealed.items()):
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    _encrypt_to(out, stream.getvalue(), world.library.recipient_of(to))


def test_a_non_members_made_up_database_is_refused(world, family, tmp_path):
    """dave (a practitioner on no case) makes up a database for bob's case; he copies the
    case's real audit files (ciphertext) but cannot give their file keys."""
    case, _ = family
    fake = open_case(world.bob, case.id).db
    fake.execute("UPDATE meta SET value = 'Made up' WHERE key = 'label'")
    members = {"case.db": fake.serialize(), "audit.keys": b"{}"}
    for path in sorted((case.folder / "audit").rglob("*.age")):
        members[f"audit/{path.relative_to(case.folder / 'audit').as_posix()}"] = path.read_bytes()
    _forged_bundle(world, world.dave, case.id, "sue", members, tmp_path / "forged.age")
    with pytest.raises(LibraryError):
        open_bundle(world.sue, tmp_path / "forged.age")

    made_up = {"case.db": fake.serialize(), "audit.keys": b"{}", "audit/entries/x.age": b"x"}
    _forged_bundle(world, world.dave, case.id, "sue", made_up, tmp_path / "forged2.age")
    with pytest.raises(BundleError, match="epoch|does not open|not this library.s trail"):
        open_bundle(world.sue, tmp_path / "forged2.age")


def test_the_exporter_must_be_allowed_to_export_at_that_point(world, family, tmp_path, monkeypatch):
    """carol, a social worker on the case, runs her own copy of the exporter (no role check):
    the receiver refuses, because the trail says a social worker exported."""
    case, _ = family
    carols = open_case(world.carol, case.id)
    monkeypatch.setattr(type(carols), "require", lambda self, action: None)
    export_bundle(carols, "sue", tmp_path / "by-carol.age")
    monkeypatch.undo()
    with pytest.raises(PermissionDeniedError, match="not a practitioner on case"):
        open_bundle(world.sue, tmp_path / "by-carol.age")


def test_the_receiver_verifies_the_trail_itself(world, family, tmp_path, monkeypatch):
    """A trail with an entry removed is reported invalid by the receiver, whatever the
    exporter's copy of the software would have said."""
    case, _ = family
    case.goals.add("Take turns")
    case.save()
    entries = sorted((case.folder / "audit" / "entries").iterdir())
    entries[1].unlink()  # history rewritten before the export
    from videofeedback.library.audit import AuditLog, AuditReport

    monkeypatch.setattr(AuditLog, "verify", lambda *a, **k: AuditReport(0, 0, []))
    export_bundle(case, "sue", tmp_path / "b.age")
    monkeypatch.undo()
    with pytest.raises(BundleError, match="export is not signed"):  # checkpoints no longer match
        open_bundle(world.sue, tmp_path / "b.age")


def test_an_old_bundle_opens_nothing_after_purge(tmp_path):
    folder = tmp_path / "lib"
    library, admin = Library.create(
        folder, "admin", "admin-quiet-harbour-lantern", tmp_path / "r.age", 0
    )
    with library:
        for name, role in (("pat", Role.PRACTITIONER), ("sam", Role.SUPERVISOR)):
            library.add_user(admin, name, role, f"{name}-quiet-harbour-lantern")
        pat = library.unlock("pat", "pat-quiet-harbour-lantern", sleep=lambda _: None)
        sam = library.unlock("sam", "sam-quiet-harbour-lantern", sleep=lambda _: None)
        case = create_case(pat, "Family B", Programme.VIG, date(2026, 1, 5), ["sam"])
        case.participants.add("Bea", "mother")
        case.save()
        export_bundle(case, "sam", tmp_path / "old.age")
        assert open_bundle(sam, tmp_path / "old.age").summary()["participants"] == 1
        case.close_case(date(2026, 1, 6))
        case.save()
        assert library.purge(admin, date(2026, 2, 1)) == [case.id]
        with pytest.raises(KeysDestroyedError):
            open_bundle(sam, tmp_path / "old.age")
        with AgeReader(tmp_path / "old.age", sam.identities) as reader:  # sam's own layer
            inside = reader.readall()
        assert b"Bea" not in inside and b"SQLite format 3" not in inside
