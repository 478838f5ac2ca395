"""Attacks on the authenticity of history and roster (issue 16, findings 2, 4, 5, 6; FORMAT.md
section 10.1). Each test plays the attacker and checks the attack now fails."""

import base64
import json
import shutil
from datetime import date

import pytest

from encryption import X25519Recipient
from videofeedback.library import (
    AuditLog,
    ConsentError,
    Library,
    Programme,
    Purpose,
    SessionKind,
    create_case,
    open_case,
)
from videofeedback.library.audit import checkpoint_text
from videofeedback.library.cases import RollbackError
from videofeedback.library.history import LibraryHistory
from videofeedback.library.manifest import RetentionRecord, closure_message, retention_message
from videofeedback.library.roster import RosterError


def manifest_of(folder):
    return json.loads((folder / "manifest.json").read_text())


def write_manifest_json(folder, data):
    (folder / "manifest.json").write_text(json.dumps(data))


def copy_of(world, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(world.library.folder, copy)
    return copy


# --- finding 2: the roster is signed by an administrator -------------------------------------


@pytest.mark.parametrize(
    "tamper",
    [
        lambda m, dave: m.update(recovery_recipient=dave["recipient"]),
        lambda m, dave: m["users"]["dave"].update(role="admin"),
        lambda m, dave: m["users"].update(mallory={**dave, "role": "practitioner"}),
    ],
    ids=["recovery-recipient", "role-to-admin", "new-user"],
)
def test_a_roster_changed_by_hand_is_refused(world, tmp_path, tamper):
    """dave, a practitioner, edits manifest.json: the library no longer opens at all."""
    copy = copy_of(world, tmp_path)
    data = manifest_of(copy)
    tamper(data, data["users"]["dave"])
    write_manifest_json(copy, data)
    with pytest.raises(RosterError, match="changed"):
        Library.open(copy)


def test_no_case_key_is_wrapped_to_a_recipient_the_roster_does_not_vouch_for(world, family):
    """Even a library already open refuses: case new and member add wrap nothing."""
    case, _ = family
    library = world.library
    genuine = library.manifest.recovery_recipient
    cases_before = library.case_ids()
    key_before = (case.folder / "key.age").read_bytes()
    library.manifest.recovery_recipient = library.manifest.users["dave"].recipient
    try:
        with pytest.raises(RosterError, match="no key was given"):
            create_case(world.bob, "Family X", Programme.VIG, date(2026, 2, 1), ["sue"])
        with pytest.raises(RosterError):
            case.members.add("dave")
    finally:
        library.manifest.recovery_recipient = genuine
    assert library.case_ids() == cases_before
    assert (case.folder / "key.age").read_bytes() == key_before
    assert world.dave.try_case_identity(case.id) is None  # she reads nothing


def test_a_library_made_to_look_older_is_not_upgraded_here(world, tmp_path):
    """dave edits the roster and sets the format back to 1, hoping the administrator's next
    unlock upgrades (and so signs) it: this computer has seen the library in format 2."""
    copy = copy_of(world, tmp_path)
    data = manifest_of(copy)
    data["users"]["dave"]["role"] = "admin"
    data["version"] = 1
    write_manifest_json(copy, data)
    with pytest.raises(RosterError, match="older format than this computer has seen"):
        Library.open(copy)


def test_a_roster_signed_by_an_unpinned_administrator_is_refused(world, tmp_path):
    """dave makes himself admin and signs the roster with his own key: this computer pinned
    alice as the administrator on first use, so it refuses."""
    from videofeedback.library.manifest import Manifest
    from videofeedback.library.roster import sign_roster

    copy = copy_of(world, tmp_path)
    manifest = Manifest.from_json((copy / "manifest.json").read_text())
    manifest.users["dave"].role = "admin"
    sign_roster(manifest, "dave", world.dave.keys.require_signing_key())
    (copy / "manifest.json").write_text(manifest.to_json())
    with pytest.raises(RosterError, match="never known as an administrator"):
        Library.open(copy)


def test_a_rolled_back_roster_is_refused(world, tmp_path, monkeypatch):
    monkeypatch.setenv("VIDEOFEEDBACK_STATE_DIR", str(tmp_path / "this-computer"))
    copy = copy_of(world, tmp_path)
    data = manifest_of(copy)
    older = tmp_path / "older"
    shutil.copytree(copy, older)
    (copy / "manifest.json").write_text(json.dumps(data))
    with Library.open(copy) as library:  # a newer roster, signed by alice
        library.sign_roster(world.alice)
    with pytest.raises(RosterError, match="rolled back"):
        Library.open(older)


# --- finding 5: every entry signed, checked against what its signer was allowed -----------


def test_a_supervisor_rewriting_the_trail_is_caught(world, family):
    """sue (supervisor, holds the case key) deletes bob's last entries, appends a forged
    consent.withdraw 'by bob', rebuilds the chain and deletes every checkpoint."""
    case, mother = family
    case.goals.add("g")
    case.save()
    folder = case.folder / "audit"
    for path in (folder / "checkpoints").iterdir():
        path.unlink()
    size = case.audit_log().head()[0]
    (folder / "entries" / f"{size:012d}.age").unlink()
    forger = AuditLog(folder, case.id, case.recipients)
    sue_key = world.sue.keys.require_signing_key()
    forger.append("bob", "consent.withdraw", mother, sue_key, purpose="filming")
    forger.checkpoint("sue", sue_key)
    report = case.verify_audit()
    assert not report.valid
    text = report.summary()
    assert "claims to be by bob, but bob did not sign it" in text
    assert case.consent.status(mother, Purpose.FILMING)[0] == "given"  # the forgery counts not


def test_a_supervisor_cannot_withdraw_consent_in_her_own_name(world, family):
    case, mother = family
    sue_key = world.sue.keys.require_signing_key()
    case.audit_log().append("sue", "consent.withdraw", mother, sue_key, purpose="filming")
    report = case.verify_audit()
    assert any("sue (supervisor) may not change case details" in p.message for p in report.problems)


def test_a_removed_member_s_later_entries_are_reported(world, family):
    case, _ = family
    case.members.remove("carol")
    case.save()
    carol_key = world.carol.keys.require_signing_key()
    case.audit_log().append("carol", "goal.add", "g-1", carol_key)  # she kept the case key
    report = case.verify_audit()
    assert any("carol was not a member" in p.message for p in report.problems)


def test_a_non_member_forging_library_entries_is_caught(world, tmp_path):
    """dave appends 'alice user.add mallory' (and the same in his own name) to the library log:
    he can encrypt to its recipients, but cannot sign as alice nor add users."""
    copy = copy_of(world, tmp_path)
    library = world.library
    recipients = [X25519Recipient.parse(library.manifest.users["alice"].recipient)]
    recipients.append(library.recovery_recipient())
    forger = AuditLog(copy / "audit", library.manifest.library_id, recipients)
    dave_key = world.dave.keys.require_signing_key()
    forger.append("alice", "user.add", "mallory", dave_key, role="admin")
    forger.append("dave", "user.add", "mallory", dave_key, role="admin")
    report = AuditLog(copy / "audit", library.manifest.library_id, recipients).verify(
        world.alice.identities, library.verify_keys(), policy=LibraryHistory()
    )
    messages = " | ".join(p.message for p in report.problems)
    assert "claims to be by alice, but alice did not sign it" in messages
    assert "dave (practitioner) may not manage users" in messages


def test_a_removed_checkpoint_is_reported(world, family):
    case, _ = family
    case.goals.add("g")
    case.save()
    checkpoints = sorted((case.folder / "audit" / "checkpoints").iterdir())
    checkpoints[1].unlink()
    report = case.verify_audit()
    assert any("checkpoint 2 was removed" in p.message for p in report.problems)


def test_failed_unlocks_are_never_reported_as_by_someone(world):
    from videofeedback.library import AuthenticationError

    with pytest.raises(AuthenticationError):
        world.library.unlock("sue", "wrong", sleep=lambda s: None)
    world.library.unlock("sue", "sue-quiet-harbour-lantern")
    entries = world.library.audit_log().entries(world.alice.identities)
    failed = [e for e in entries if e.action == "unlock.failed"]
    assert failed and all(e.user == "?" and not e.signature for e in failed)
    report = world.library.verify_audit(world.alice)[0]
    assert report.valid and "without a signature" in report.summary()


# --- finding 4: rollback and truncation -------------------------------------------------------


def test_deleting_the_last_entries_and_their_checkpoints_is_detected(world, family):
    case, _ = family
    case.goals.add("g")
    case.save()
    size = case.audit_log().head()[0]
    for seq in (size, size - 1):
        (case.folder / "audit" / "entries" / f"{seq:012d}.age").unlink()
    sorted((case.folder / "audit" / "checkpoints").iterdir())[-1].unlink()
    with pytest.raises(RollbackError, match=f"this computer has seen {size} entries"):
        open_case(world.sue, case.id)
    assert any("rolled back" in p.message for p in case.verify_audit().problems)


def test_an_older_copy_of_the_case_folder_is_detected(world, family, tmp_path):
    case, _ = family
    shutil.copytree(case.folder, tmp_path / "old")
    case.goals.add("g")
    case.save()
    shutil.rmtree(case.folder)
    shutil.copytree(tmp_path / "old", case.folder)
    with pytest.raises(RollbackError, match="rolled back: this computer has seen"):
        open_case(world.bob, case.id)


def test_an_older_database_after_a_withdrawal_is_refused(world, family, monkeypatch, tmp_path):
    """The old case.db.age still says 'given': this computer refuses to open the case, and a
    computer that never saw the case reads consent from the signed trail: withdrawn."""
    case, mother = family
    filming = case.sessions.new(SessionKind.RECORDING, date(2026, 2, 1))
    case.save()
    old_db = (case.folder / "case.db.age").read_bytes()
    case.consent.set(mother, Purpose.FILMING, False)
    case.save()
    (case.folder / "case.db.age").write_bytes(old_db)
    with pytest.raises(RollbackError, match="older copy"):
        open_case(world.bob, case.id)

    monkeypatch.setenv("VIDEOFEEDBACK_STATE_DIR", str(tmp_path / "another-computer"))
    reopened = open_case(world.bob, case.id)
    assert reopened.consent.status(mother, Purpose.FILMING)[0] == "withdrawn"
    with pytest.raises(ConsentError, match="withdrew consent"):
        reopened.sessions.new(SessionKind.RECORDING, date(2026, 3, 1))
    with pytest.raises(ConsentError):
        reopened.consent.require(Purpose.FILMING)
    from clips.synthetic import SyntheticSource
    from videofeedback.media import record

    with pytest.raises(ConsentError, match="withdrew consent to filming"):
        record(reopened, filming, SyntheticSource(64, 36))  # refused before any frame
    assert not (case.folder / "media").exists()


# --- finding 6: purge acts only on a closure made inside the case -----------------------------


def test_a_non_member_cannot_get_an_open_case_purged(world, family):
    """dave writes a back-dated retention record for an open case, signed with his key,
    both in the old form and in the new one (he has no case key: he signs with his own)."""
    case, _ = family
    dave_key = world.dave.keys.require_signing_key()
    until, closed = "2020-01-01", "2019-01-01"

    def b64(data):
        return base64.b64encode(data).decode()

    head = case.audit_log().head()
    message = closure_message(case.id, closed, until, "dave", head[0], head[1].hex())
    signature = b64(dave_key.sign(message))
    forged = RetentionRecord(until, "dave", signature, closed, signature, head[0], head[1].hex())
    old_style = RetentionRecord(
        until, "dave", b64(dave_key.sign(retention_message(case.id, until)))
    )
    for record in (forged, old_style):
        world.library.manifest.retention[case.id] = record
        try:
            assert case.id not in world.library.expired_cases(world.alice, date(2026, 6, 1))
            assert case.id not in world.library.purge(world.alice, date(2026, 6, 1))
        finally:
            del world.library.manifest.retention[case.id]
    assert (case.folder / "key.age").exists()


def test_a_forged_closure_record_is_reported_by_the_case_trail(world, family):
    case, _ = family
    dave_key = world.dave.keys.require_signing_key()
    message = closure_message(case.id, "2019-01-01", "2020-01-01", "dave", 3, "00")
    signature = base64.b64encode(dave_key.sign(message)).decode()
    record = RetentionRecord("2020-01-01", "dave", signature, "2019-01-01", signature, 3, "00")
    world.library.manifest.retention[case.id] = record
    try:
        report = case.verify_audit()
    finally:
        del world.library.manifest.retention[case.id]
    assert any("nobody closed the case so" in p.message for p in report.problems)


def test_a_closure_copied_from_another_case_does_not_purge(world, family):
    case, _ = family
    other = create_case(world.bob, "Family Y", Programme.VIG, date(2026, 1, 5))
    until = other.close_case(date(2026, 1, 10))
    other.save()
    world.library.manifest.retention[case.id] = world.library.manifest.retention[other.id]
    try:
        later = date.fromordinal(until.toordinal() + 1)
        assert world.library.expired_cases(world.alice, later) == [other.id]
    finally:
        del world.library.manifest.retention[case.id]
        del world.library.manifest.retention[other.id]


def test_a_closure_whose_entry_left_the_case_trail_does_not_purge(world, family):
    """The record is genuine, but the case's trail no longer holds the closing entry (its
    files were replaced): the administrator, who cannot read the case, sees it by hashing."""
    case, _ = family
    until = case.close_case(date(2026, 1, 10))
    case.save()
    record = world.library.manifest.retention[case.id]
    entry = case.folder / "audit" / "entries" / f"{record.entry:012d}.age"
    original = entry.read_bytes()
    later = date.fromordinal(until.toordinal() + 1)
    try:
        assert world.library.expired_cases(world.alice, later) == [case.id]
        entry.write_bytes(original + b"x")  # any other bytes
        assert world.library.expired_cases(world.alice, later) == []
    finally:
        entry.write_bytes(original)
        del world.library.manifest.retention[case.id]


def test_purge_has_no_date_override_on_the_command_line(tmp_path):
    from tests.cli.conftest import run_cli

    result = run_cli("--library", tmp_path, "purge", "--yes", "--today", "2099-01-01")
    assert result.code == 2 and "unrecognized arguments: --today" in result.err


# --- AuditLog.append on its own ---------------------------------------------------------------


@pytest.mark.parametrize("shared", [True, False], ids=["one-log-object", "one-per-thread"])
def test_concurrent_appends_lose_nothing(world, tmp_path, shared):
    import threading

    key = world.bob.keys.require_signing_key()
    recipient = [world.bob.keys.recipient]
    log = AuditLog(tmp_path / "log", "test-log", recipient)
    per_thread = 12

    def work(n):
        mine = log if shared else AuditLog(tmp_path / "log", "test-log", recipient)
        for i in range(per_thread):
            mine.append("bob", "goal.add", f"g-{n}-{i}", key)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log.checkpoint("bob", key)
    entries = log.entries(world.bob.identities)
    assert sorted(e.object for e in entries) == sorted(
        f"g-{n}-{i}" for n in range(8) for i in range(per_thread)
    )
    report = log.verify(world.bob.identities, world.library.verify_keys())
    assert report.valid and report.entries == 8 * per_thread, report.summary()


def test_the_cached_head_follows_other_writers(world, tmp_path):
    key = world.bob.keys.require_signing_key()
    recipient = [world.bob.keys.recipient]
    first = AuditLog(tmp_path / "log", "l", recipient)
    second = AuditLog(tmp_path / "log", "l", recipient)
    first.append("bob", "a", "-", key)
    assert second.head()[0] == 1
    second.append("bob", "b", "-", key)
    first.append("bob", "c", "-", key)  # extends the head second wrote, not its stale one
    assert first.head() == AuditLog(tmp_path / "log", "l", recipient).head()
    assert first.verify(world.bob.identities, world.library.verify_keys()).valid


def test_checkpoint_text_names_the_previous_checkpoint():
    text = checkpoint_text("log", 3, b"\x01" * 32, b"\x02" * 32).decode().splitlines()
    assert text[3] == "previous " + base64.b64encode(b"\x02" * 32).decode()


def test_a_checkpoint_is_never_overwritten(world, family):
    case, _ = family
    folder = case.folder / "audit" / "checkpoints"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    case.save()
    after = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert {k: after[k] for k in before} == before and len(after) == len(before) + 1


def test_the_command_line_reports_a_truncated_trail_on_any_computer(tmp_path):
    """The last entry and its checkpoint are deleted. A computer that saw the case refuses
    (rolled back); one that never saw it refuses too: the database recorded more entries.
    (``audit verify`` verifies before it saves, so its own save can never hide this.)"""
    import os

    from tests.cli.conftest import run_cli
    from videofeedback.library import Role

    folder = tmp_path / "lib"
    library, alice = Library.create(folder, "alice", "alice-quiet-harbour-lantern", tmp_path / "r.age", 30)
    library.add_user(alice, "bob", Role.PRACTITIONER, "bob-quiet-harbour-lantern")
    case = create_case(library.unlock("bob", "bob-quiet-harbour-lantern"), "Family V", Programme.VIG, date.today())
    case.goals.add("g")
    case.save()
    library.close()
    size = case.audit_log().head()[0]
    (case.folder / "audit" / "entries" / f"{size:012d}.age").unlink()
    sorted((case.folder / "audit" / "checkpoints").iterdir())[-1].unlink()
    args = ("--library", folder, "--user", "bob", "audit", "verify", case.id)

    elsewhere = {"VIDEOFEEDBACK_PASSPHRASE": "bob-quiet-harbour-lantern"}
    elsewhere["VIDEOFEEDBACK_STATE_DIR"] = str(tmp_path / "a-computer-that-never-saw-it")
    result = run_cli(*args, env=elsewhere)
    assert result.code != 0 and f"entries {size}-{size} of the audit trail" in result.err

    here = {**elsewhere, "VIDEOFEEDBACK_STATE_DIR": os.environ["VIDEOFEEDBACK_STATE_DIR"]}
    result = run_cli(*args, env=here)
    assert result.code != 0 and "rolled back" in result.err
