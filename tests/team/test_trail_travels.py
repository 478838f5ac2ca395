"""The library-level trail across laptops (FORMAT §12.8): a case that reached a library
through the store gets its key epochs announced there from the case's signed, merged trail,
so a removed member's old key never gets it purged; a genuine closure travels with the case
and purges it there as on the laptop that closed it. Real SeaweedFS server."""

from __future__ import annotations

import base64
import os
from datetime import date

import pytest

from tests.team.laptops import PASSPHRASES, Laptop, remote_of
from videofeedback.library import Library
from videofeedback.library.audit import AuditLog
from videofeedback.library.cases import Programme, case_signing_key, create_case
from videofeedback.library.errors import LibraryError
from videofeedback.library.key_announcements import announcement
from videofeedback.library.local_state import STATE_ENV
from videofeedback.library.manifest import RetentionRecord, closure_message
from videofeedback.library.roles import Role
from videofeedback.team.joining import join, publish
from videofeedback.team.remotes import save_remote
from videofeedback.team.sync import open_for_sync, sync_library


def _office(tmp_path, store, members=("sam", "cat"), sam_syncs=True):
    """alice's office library (pat, sam, cat) published; pat's laptop joined and made a case
    with ``members``; sam and cat keep working on the office computer, where the case comes
    only through the store (sam's sync takes his invitation)."""
    os.environ[STATE_ENV] = str(tmp_path / "office-state")
    library, alice = Library.create(
        tmp_path / "office", "alice", PASSPHRASES["alice"], tmp_path / "recovery.age", 30
    )
    for user, role in (("pat", Role.PRACTITIONER), ("sam", Role.SUPERVISOR)):
        library.add_user(alice, user, role, PASSPHRASES[user])
    library.add_user(alice, "cat", Role.PRACTITIONER, PASSPHRASES["cat"])
    remote = remote_of(store)
    save_remote(alice, remote)
    code = publish(alice, remote).code
    library.close()
    os.environ[STATE_ENV] = str(tmp_path / "pat-state")
    _, library, pat = join(tmp_path / "pat", remote, "pat", PASSPHRASES["pat"], code)
    try:
        case = create_case(pat, "Family X", Programme.VIG, date(2020, 1, 1), list(members))
        assert sync_library(library, pat, "office").ok
    finally:
        library.close()
    office = Laptop(tmp_path / "office", tmp_path / "office-state", "sam")
    laptop = Laptop(tmp_path / "pat", tmp_path / "pat-state", "pat")
    for user in ("sam", "cat"):
        with office.session(user) as (_, session):
            save_remote(session, remote)
    if sam_syncs:
        with office.session("sam") as (library, sam):
            report = sync_library(library, sam, "office")
            assert report.ok and report.found == [case.id], report.to_json()
    return office, laptop, case.id


@pytest.fixture
def state_restored():
    before = os.environ.get(STATE_ENV)
    yield
    if before is None:
        os.environ.pop(STATE_ENV, None)
    else:
        os.environ[STATE_ENV] = before


@pytest.fixture
def office(tmp_path, store, state_restored):
    return _office(tmp_path, store)


def _remove_cat(laptop: Laptop, office: Laptop, case_id: str) -> None:
    with laptop.session() as (library, pat):
        open_for_sync(pat, case_id).members.remove("cat")
        assert sync_library(library, pat, "office").ok
    with office.session("sam") as (library, sam):
        assert sync_library(library, sam, "office").ok
        assert open_for_sync(sam, case_id).identity.epoch == 2


def _forge_closure(office: Laptop, case_id: str, old_key) -> None:
    """cat, removed, still a user of the office library: announces the epoch-1 key she kept
    in every way the library trail knows, records a back-dated closure signed with her own
    key and that old case key, over a chain value the case folder holds."""
    with office.session("cat") as (library, cat):
        for action in ("case.create", "case.rekey"):  # as before epochs were numbered
            cat.audit(action, case_id, case_key=str(old_key.verify_key))
        for epoch in (1, 2, 3):  # numbered, "proven" by the key she has
            detail = announcement(case_id, epoch, old_key, old_key if epoch > 1 else None)
            cat.audit("case.key", case_id, **detail)
        record_closure(library, cat, case_id, old_key)


def record_closure(library, session, case_id: str, case_key) -> None:
    """``session``'s user records a back-dated closure of the case in ``library``, signed
    with her own key and ``case_key``, over a chain value the case folder holds."""
    closed, until = "2020-01-02", "2020-03-01"
    chain = AuditLog(library.case_folder(case_id) / "audit", case_id, []).chain_values()
    entry, head = len(chain) - 1, chain[-1].hex()
    message = closure_message(case_id, closed, until, session.name, entry, head)
    signature = session.keys.require_signing_key().sign(message)
    record = RetentionRecord(
        until,
        session.name,
        base64.b64encode(signature).decode(),
        closed,
        base64.b64encode(case_key.sign(message)).decode(),
        entry,
        head,
    )
    library.record_retention(record, case_id)
    session.audit("case.close", case_id, until=until)


def test_a_removed_member_cannot_get_a_case_purged_where_it_came_through_the_store(office):
    office_laptop, laptop, case_id = office
    with office_laptop.session("cat") as (_, cat):
        old_key = case_signing_key(cat.case_identity(case_id).newest)  # what she keeps
    _remove_cat(laptop, office_laptop, case_id)
    _forge_closure(office_laptop, case_id, old_key)
    with office_laptop.session("alice") as (library, alice):
        try:
            purged = library.purge(alice, today=date(2026, 12, 1))
        except Exception as refused:  # a trail with problems purges nothing: also safe
            assert "no case is purged" in str(refused)
            purged = []
        assert case_id not in purged
        assert (library.case_folder(case_id) / "key.age").exists()
        report, history = library.verify_audit(alice)
    assert history.case_keys[case_id] != str(old_key.verify_key)
    problems = [p.message for p in report.problems]
    assert any("already created" in p for p in problems), problems
    assert any("cat announced a new key" in p for p in problems), problems
    assert not any("for epoch 1" in p for p in problems), problems  # it was epoch 1's key
    assert any("second, different key for epoch 2" in p for p in problems), problems
    assert any("without the proof of epoch 2" in p for p in problems), problems


def test_a_genuine_closure_travels_and_purges_where_the_case_came_through_the_store(office):
    office_laptop, laptop, case_id = office
    _remove_cat(laptop, office_laptop, case_id)
    with laptop.session() as (library, pat):
        case = open_for_sync(pat, case_id)
        until = case.close_case(date(2020, 1, 2))
        case.save()
        assert sync_library(library, pat, "office").ok
    with office_laptop.session("sam") as (library, sam):
        assert sync_library(library, sam, "office").ok
        assert library.manifest.retention[case_id].until == until.isoformat()
        report = open_for_sync(sam, case_id).verify_audit()  # the case agrees with the record
        assert report.valid, report.problems
    with office_laptop.session("alice") as (library, alice):
        report, history = library.verify_audit(alice)
        assert report.valid, report.problems
        assert history.case_keys[case_id] == str(case_signing_key(case.identity.newest).verify_key)
        assert library.purge(alice, today=date(2020, 2, 1)) == []  # not before its date
        assert library.purge(alice, today=date(2026, 12, 1)) == [case_id]
        assert not library.case_folder(case_id).exists()
    with office_laptop.session("sam") as (library, sam):
        assert case_id not in library.case_ids()


def test_a_non_member_announcing_a_key_first_blocks_purges_but_never_causes_one(
    tmp_path, store, state_restored
):
    """cat, in no case, announces a key of her own as epoch 1 of pat's case before the office
    holds it, then records a closure signed with it: the office's first sync of the case
    announces the real epoch 1, the trail has a problem, nothing is purged."""
    from encryption import SigningKey

    office_laptop, _, case_id = _office(tmp_path, store, members=("sam",), sam_syncs=False)
    hers = SigningKey(b"\x07" * 32)
    with office_laptop.session("cat") as (_, cat):
        cat.audit("case.key", case_id, **announcement(case_id, 1, hers, None))
    with office_laptop.session("sam") as (library, sam):
        assert sync_library(library, sam, "office").found == [case_id]
    _forge_closure(office_laptop, case_id, hers)
    with office_laptop.session("alice") as (library, alice):
        with pytest.raises(LibraryError, match="no case is purged"):
            library.purge(alice, today=date(2026, 12, 1))
        assert (library.case_folder(case_id) / "key.age").exists()
        report, _ = library.verify_audit(alice)
    problems = [p.message for p in report.problems]
    assert any("sam announced a second, different key for epoch 1" in p for p in problems)
