"""Adopting a newer key epoch from the store (case_sync._open_head): the key file is not
signed, so it is taken only with a head that opens with it, signed by a member who may
change the case's members. Real SeaweedFS, real crypto."""

from __future__ import annotations

from tests.team.laptops import first_laptop
from tests.team.laptops import sync as _sync
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
