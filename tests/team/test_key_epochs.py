"""Adopting a newer key epoch from the store (case_sync._open_head, team/epochs.py): each
rotation has a signed note (FORMAT §12.6), taken only from a member who may change the
case's members and was not removed before it; competing rotations end the same on every
laptop. Real SeaweedFS, real crypto."""

from __future__ import annotations

import pytest

from encryption import EncryptionError, read_encrypted
from tests.team.laptops import first_laptop
from tests.team.laptops import sync as _sync
from videofeedback.team.heads import CaseNames
from videofeedback.team.sync import open_for_sync


def _epoch(laptop, case_id):
    with laptop.session() as (_, session):
        return open_for_sync(session, case_id).identity.epoch


def _rotate(laptop, case_id):
    """A member's patched program: a new key epoch, wrapped to every member, then sync."""
    with laptop.session() as (_, session):
        case = open_for_sync(session, case_id)
        case.start_key_epoch()
        case.members.write_key(case.members.names())
        case.save()
    return _sync(laptop)


def test_a_supervisor_cannot_move_the_case_to_a_key_of_her_choosing(tmp_path, store):
    a, case_id = first_laptop(tmp_path, store)  # pat, and sam (a supervisor)
    b = a.copy(tmp_path / "lib-b", tmp_path / "state-b", "sam")
    for laptop in (a, b, a):
        assert _sync(laptop).ok
    assert _rotate(b, case_id).ok
    report = _sync(a)
    assert report.cases[0].error and "new key" in report.cases[0].error
    assert _epoch(a, case_id) == 1


def test_a_practitioner_member_may_rotate_and_the_others_follow(tmp_path, store):
    a, case_id = first_laptop(tmp_path, store, members=("pat", "cat"))
    b = a.copy(tmp_path / "lib-b", tmp_path / "state-b", "cat")
    for laptop in (a, b, a):
        assert _sync(laptop).ok
    assert _rotate(b, case_id).ok
    assert _sync(a).ok
    assert _epoch(a, case_id) == 2


# --- signed rotations (docs/FORMAT.md §12.6) ------------------------------------------------


def _recipient(laptop, case_id):
    with laptop.session() as (_, session):
        return str(open_for_sync(session, case_id).identity.recipient)


def _device_tag(laptop, case_id):
    with laptop.session() as (library, session):
        names = CaseNames.of(open_for_sync(session, case_id).identity)
        return names, names.head(library.local.device_id()).rsplit("/", 1)[1]


@pytest.fixture
def three(tmp_path, store):
    """pat (a), cat (b: a practitioner, she may change members too), sam (c), all synced."""
    a, case_id = first_laptop(tmp_path, store, members=("pat", "cat", "sam"))
    b = a.copy(tmp_path / "lib-b", tmp_path / "state-b", "cat")
    c = a.copy(tmp_path / "lib-c", tmp_path / "state-c", "sam")
    for laptop in (a, b, c, a):
        assert _sync(laptop).ok
    return a, b, c, case_id


def test_a_rotation_by_a_member_removed_elsewhere_loses_on_every_laptop(three):
    """pat removes cat on a (offline); cat, not knowing, rotates the key on b and syncs; sam's
    laptop c, which has not heard from a, takes cat's key. Once a syncs, a and c both end on
    pat's epoch (his rotation removes cat, so hers loses everywhere): no split brain, and
    what c writes afterwards is not for cat's key."""
    a, b, c, case_id = three
    with a.session() as (_, pat):
        case = open_for_sync(pat, case_id)
        case.members.remove("cat")
    assert _rotate(b, case_id).ok
    assert _sync(c).ok and _epoch(c, case_id) == 2
    report = _sync(a)
    assert report.ok, report.to_json()
    assert any("removed" in n for n in report.cases[0].notes), report.to_json()
    assert _sync(c).ok
    assert _recipient(c, case_id) == _recipient(a, case_id) != _recipient(b, case_id)
    with c.session() as (_, sam):
        case = open_for_sync(sam, case_id)
        case.db.execute("INSERT INTO goals(id, text) VALUES ('g-sam', 'written after')")
        case.save()
        written = case.folder / "case.db.age"
    assert _sync(c).ok
    with b.session() as (_, cat):
        with pytest.raises(EncryptionError):
            read_encrypted(written, [open_for_sync(cat, case_id).identity])
    assert _sync(a).ok


def test_a_key_file_whose_signed_note_the_store_hides_is_not_taken(three, store):
    a, b, _, case_id = three
    with a.session() as (_, pat):  # a goes to epoch 2 and syncs
        case = open_for_sync(pat, case_id)
        case.members.remove("sam")
    names, tag = _device_tag(a, case_id)
    assert _sync(a).ok
    store.delete(names.epoch_note(tag, 2))
    report = _sync(b)
    assert report.cases[0].error and "signed note" in report.cases[0].error
    assert _epoch(b, case_id) == 1
