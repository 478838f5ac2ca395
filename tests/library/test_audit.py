"""The audit trail: tampering of every kind is reported with its position."""

import hashlib
import json
from datetime import date

import pytest

from encryption import SigningKey, read_encrypted, write_encrypted
from videofeedback.library import AuditEntry, AuditLog, SessionKind, open_case
from videofeedback.library.audit import checkpoint_text, sign_note


@pytest.fixture
def trail(world, family):
    """A case with a dozen audit entries, all signed."""
    case, _ = family
    for n in range(3):
        case.goals.add(f"goal {n}")
        case.sessions.new(SessionKind.RECORDING, date(2026, 1, 10 + n))
        case.save()
    report = case.verify_audit()
    assert report.valid, report.summary()
    assert report.entries == 9
    return case


def entry_file(case, seq):
    return case.folder / "audit" / "entries" / f"{seq:012d}.age"


def rewrite_entry(case, seq, **changes):
    path = entry_file(case, seq)
    data = json.loads(read_encrypted(path, [case.identity]))
    data.update(changes)
    write_encrypted(path, json.dumps(data).encode(), case.recipients)


def checkpoint_files(case):
    return sorted((case.folder / "audit" / "checkpoints").iterdir())


def positions(report):
    return [p.position for p in report.problems]


def test_every_action_is_an_entry_without_personal_data(trail):
    entries = trail.audit_log().entries([trail.identity])
    actions = [e.action for e in entries]
    assert actions[:4] == ["case.create", "participant.add", "consent.give", "goal.add"]
    raw = json.dumps([e.__dict__ for e in entries])
    assert "Kasia" not in raw and "Family K" not in raw and "goal 0" not in raw
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))


def test_edited_entry(trail):
    rewrite_entry(trail, 4, user="mallory")
    report = trail.verify_audit()
    assert not report.valid
    assert 5 in positions(report)  # entry 5 no longer links to the edited entry 4
    assert any("altered" in p.message for p in report.problems)


def test_removed_entry(trail):
    entry_file(trail, 6).unlink()
    report = trail.verify_audit()
    assert any(p.position == 6 and "missing" in p.message for p in report.problems)


def test_reordered_entries(trail):
    a, b = entry_file(trail, 3), entry_file(trail, 7)
    data_a, data_b = a.read_bytes(), b.read_bytes()
    a.write_bytes(data_b)
    b.write_bytes(data_a)
    report = trail.verify_audit()
    assert {3, 7} <= set(positions(report))
    assert any("reordered" in p.message for p in report.problems)


def test_truncated_trail(trail):
    size = trail.audit_log().head()[0]
    entry_file(trail, size).unlink()
    entry_file(trail, size - 1).unlink()
    report = trail.verify_audit()
    assert any("removed" in p.message and p.position == size - 1 for p in report.problems)


def test_truncated_trail_with_its_checkpoints_removed_is_still_caught(trail):
    """Even with the newer checkpoints deleted, the case database remembers the size."""
    size = trail.audit_log().head()[0]
    entry_file(trail, size).unlink()
    checkpoint_files(trail)[-1].unlink()  # the one signed at ``size``
    report = trail.verify_audit()
    assert any("removed" in p.message for p in report.problems)


def test_forged_signature(trail, world):
    """A checkpoint claiming to be bob's, signed with another key, is refused."""
    size, head = trail.audit_log().head()
    last = checkpoint_files(trail)[-1]
    previous = hashlib.sha256(last.read_bytes()).digest()
    text = checkpoint_text(trail.id, size, head, previous)
    note = sign_note(text, "bob", SigningKey.generate())
    number = int(last.name.removesuffix(".age")) + 1
    write_encrypted(last.parent / f"{number:012d}.age", note, trail.recipients)
    report = trail.verify_audit()
    assert any("does not verify" in p.message for p in report.problems)


def test_checkpoint_names_do_not_say_who_worked_on_the_case(trail):
    names = [p.name for p in checkpoint_files(trail)]
    assert names == [f"{n:012d}.age" for n in range(1, len(names) + 1)]


def test_entries_after_the_last_checkpoint_are_each_signed(trail):
    trail.audit("case.open", trail.id)  # appended, never checkpointed: still signed
    assert trail.verify_audit().valid


def test_an_entry_nobody_signed(trail):
    AuditLog(trail.folder / "audit", trail.id, trail.recipients).append("bob", "goal.add", "g-1")
    report = trail.verify_audit()
    size = trail.audit_log().head()[0]
    assert [(p.position, "no signature" in p.message) for p in report.problems] == [(size, True)]


def test_an_insider_who_rewrites_the_whole_chain_still_cannot_sign_as_bob(trail):
    """Rewriting an entry and recomputing every link leaves bob's checkpoints unmatched."""
    entries = trail.audit_log().entries([trail.identity])
    log = AuditLog(trail.folder / "audit", trail.id, trail.recipients)
    for path in (trail.folder / "audit" / "entries").iterdir():
        path.unlink()
    for e in entries:  # replay, with one entry altered
        log.append(e.user, "case.open" if e.seq == 2 else e.action, e.object, **e.detail)
    report = trail.verify_audit()
    assert not report.valid
    assert any("altered" in p.message for p in report.problems)


def test_library_trail_records_failed_unlocks_and_verifies(world):
    from videofeedback.library import AuthenticationError

    with pytest.raises(AuthenticationError):
        world.library.unlock("carol", "not-her-passphrase", sleep=lambda s: None)
    world.library.unlock("carol", "carol-quiet-harbour-lantern")  # the next unlock signs the head
    log = world.library.audit_log()
    report = world.library.verify_audit(world.alice)[0]
    assert report.valid, report.summary()
    assert report.unauthenticated and "failed unlock" in report.summary()
    actions = [e.action for e in log.entries(world.alice.identities)]
    assert "unlock.failed" in actions and actions[-1] == "unlock"


def test_entries_round_trip():
    entry = AuditEntry(1, "t", "bob", "x", "y", "00", {"k": "v"})
    assert AuditEntry.from_bytes(entry.to_bytes()) == entry


def test_opening_is_an_audited_access(world, trail):
    before = trail.audit_log().head()[0]
    open_case(world.sue, trail.id)
    entries = trail.audit_log().entries([trail.identity])
    assert len(entries) == before + 1
    assert (entries[-1].user, entries[-1].action) == ("sue", "case.open")
