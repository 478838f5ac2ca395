"""A library of format 1 (unsigned roster, unsigned entries, checkpoints named SIZE-USER) is
upgraded in place by its administrator, and then verifies."""

import base64
import json
from datetime import date

import pytest

from encryption import UserKeys, X25519Identity, save_identity_file, write_encrypted
from videofeedback.library import Library, LibraryError, Purpose, SessionKind, open_case
from videofeedback.library.audit import AuditEntry, AuditLog, encrypt_bytes, sign_note
from videofeedback.library.case_db import new_database, save_database, set_meta
from videofeedback.library.manifest import VERSION
from videofeedback.library.migrations import STEPS

LIBRARY_ID = "00112233445566aa"
CASE_ID = "c-0123456789"


def v1_checkpoint(log: AuditLog, user: str, keys: UserKeys, recipients) -> None:
    """A checkpoint as format 1 wrote it: three lines, named SIZE-USER.age."""
    size, head = log.head()
    text = f"videofeedback.audit/{log.log_id}\n{size}\n{base64.b64encode(head).decode()}\n"
    note = sign_note(text.encode(), user, keys.require_signing_key())
    folder = log.folder / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    write_encrypted(folder / f"{size:012d}-{user}.age", note, recipients)


def user_record(keys: UserKeys, role: str) -> dict:
    return {
        "role": role,
        "recipient": str(keys.recipient),
        "verify_key": str(keys.require_signing_key().verify_key),
        "created": "2026-01-01T00:00:00.000000Z",
    }


def write_v1_library(folder):
    """The layout format 1 wrote, written directly (the current code writes format 2)."""
    alice, bob = UserKeys.generate(), UserKeys.generate()
    recovery = UserKeys([X25519Identity.generate()])
    (folder / "users").mkdir(parents=True)
    save_identity_file(folder / "users" / "alice.identity", alice, "pw-alice")
    save_identity_file(folder / "users" / "bob.identity", bob, "pw-bob")
    manifest = {
        "format": "videofeedback-library",
        "version": 1,
        "library_id": LIBRARY_ID,
        "created": "2026-01-01T00:00:00.000000Z",
        "recovery_recipient": str(recovery.recipient),
        "settings": {"retention_days": 730, "idle_lock_minutes": 10},
        "users": {"alice": user_record(alice, "admin"), "bob": user_record(bob, "practitioner")},
        "unlock_failures": {},
        "retention": {},
        "codebooks": {},
        "prompts": {},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
    to_admins = [alice.recipient, recovery.recipient]
    library_log = AuditLog(folder / "audit", LIBRARY_ID, to_admins)
    library_log.append("alice", "library.create", LIBRARY_ID)  # format 1: no signature
    v1_checkpoint(library_log, "alice", alice, to_admins)
    library_log.append("alice", "user.add", "bob", role="practitioner")
    library_log.append("?", "unlock.failed", "-", reason="unknown user")
    library_log.append("bob", "case.create", CASE_ID)
    v1_checkpoint(library_log, "bob", bob, to_admins)

    case_key = X25519Identity.generate()
    case_folder = folder / "cases" / CASE_ID
    case_folder.mkdir(parents=True)
    write_encrypted(
        case_folder / "key.age", str(case_key).encode(), [bob.recipient, recovery.recipient]
    )
    case_log = AuditLog(case_folder / "audit", CASE_ID, [case_key.recipient])
    db = new_database()
    for key, value in (("id", CASE_ID), ("label", "Family O"), ("programme", "VIG")):
        set_meta(db, key, value)
    set_meta(db, "start_date", "2026-01-02")
    db.execute("INSERT INTO members VALUES ('bob', 'practitioner', 'bob', 't')")
    db.execute("INSERT INTO participants VALUES ('p-1', 'Olga', 'mother', NULL, NULL, 'bob', 't')")
    db.execute(
        "INSERT INTO consent(participant_id, purpose, status, recorded_by, recorded_at) "
        "VALUES ('p-1', 'filming', 'given', 'bob', 't')"
    )
    case_log.append("bob", "case.create", CASE_ID, programme="VIG")
    case_log.append("bob", "participant.add", "p-1")
    case_log.append("bob", "consent.give", "p-1", purpose="filming")
    set_meta(db, "audit_size", "3")
    save_database(db, case_folder / "case.db.age", [case_key.recipient])
    v1_checkpoint(case_log, "bob", bob, [case_key.recipient])


@pytest.fixture(scope="module")
def upgraded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("v1") / "lib"
    write_v1_library(folder)
    library = Library.open(folder)
    assert library.needs_upgrade
    with pytest.raises(LibraryError, match="administrator must unlock it"):
        library.unlock("bob", "pw-bob")  # nobody but an administrator opens it before
    alice = library.unlock("alice", "pw-alice")
    yield library, alice, folder
    library.close()


def test_the_upgrade_signs_the_roster_and_records_the_old_history(upgraded):
    library, alice, folder = upgraded
    data = json.loads((folder / "manifest.json").read_text())
    assert data["version"] == VERSION and data["roster_signature"]["by"] == "alice"
    assert data["legacy_logs"][LIBRARY_ID]["entries"] == 4
    assert data["legacy_logs"][CASE_ID]["entries"] == 3
    report, _ = library.verify_audit(alice)
    assert report.valid, report.summary()
    assert report.legacy == 4 and report.unauthenticated == []  # legacy: not counted as such
    actions = [e.action for e in library.audit_log().entries(alice.identities)]
    assert actions[-1] == "library.upgrade"


def test_checkpoint_names_no_longer_show_who_worked_on_a_case(upgraded):
    _, _, folder = upgraded
    names = [p.name for p in folder.rglob("*.age") if "checkpoint" in str(p.parent)]
    assert names and not any("alice" in n or "bob" in n for n in names)


def test_a_member_opens_and_verifies_the_upgraded_case(upgraded):
    library, _, _ = upgraded
    bob = library.unlock("bob", "pw-bob")
    case = open_case(bob, CASE_ID)
    assert case.consent.status("p-1", Purpose.FILMING)[0] == "given"
    case.sessions.new(SessionKind.RECORDING, date(2026, 2, 1))
    case.save()
    report = case.verify_audit()
    assert report.valid and report.legacy == 3, report.summary()


def test_an_old_entry_altered_after_the_upgrade_is_reported(upgraded, tmp_path):
    library, alice, folder = upgraded
    path = folder / "audit" / "entries" / "000000000002.age"
    original = path.read_bytes()
    recipients = [alice.keys.recipient, library.recovery_recipient()]
    forged = AuditEntry(2, "t", "alice", "user.add", "mallory", "00", {"role": "admin"})
    path.write_bytes(encrypt_bytes(forged.to_bytes(), recipients))
    try:
        report, _ = library.verify_audit(alice)
    finally:
        path.write_bytes(original)
    assert any("before the upgrade were changed" in p.message for p in report.problems)


def test_every_step_is_in_order():
    assert sorted(STEPS) == list(range(1, VERSION))
