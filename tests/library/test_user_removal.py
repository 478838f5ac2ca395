"""Removing a user from the library roster (FORMAT §12.9): going forward only, signed, and
their old signatures still verify."""

from __future__ import annotations

import json
from datetime import date

import pytest

from videofeedback.library import Library, Role
from videofeedback.library.cases import Programme, create_case
from videofeedback.library.errors import AuthenticationError, PermissionDeniedError
from videofeedback.library.roster import RosterError

ALICE, BOB = "alice-quiet-harbour-lantern", "bob-quiet-harbour-lantern"


@pytest.fixture
def library(tmp_path):
    made, alice = Library.create(tmp_path / "lib", "alice", ALICE, tmp_path / "r.age", 30)
    made.add_user(alice, "bob", Role.PRACTITIONER, BOB)
    made.add_user(alice, "cat", Role.PRACTITIONER, "cat-quiet-harbour-lantern")
    bob = made.unlock("bob", BOB, sleep=lambda _: None)
    create_case(bob, "Family", Programme.VIG, date(2026, 11, 1), ["cat"])
    manifest = json.loads((tmp_path / "lib" / "manifest.json").read_text())
    assert all("removed" not in u for u in manifest["users"].values())  # as before
    yield made, alice, bob
    made.close()


def test_a_removed_user_cannot_unlock_and_nothing_new_is_wrapped_to_them(library):
    made, alice, _ = library
    gone = made.manifest.users["bob"].recipient
    made.remove_user(alice, "bob")
    made.close()
    again = Library.open(made.folder)  # the roster with the removal verifies
    try:
        assert again.manifest.users["bob"].removed
        assert gone not in [str(r) for r in again.store_recipients()]
        with pytest.raises(PermissionDeniedError, match="removed"):
            again.recipient_of("bob")
        with pytest.raises(AuthenticationError, match="removed"):
            again.unlock("bob", BOB, sleep=lambda _: None)
        admin = again.unlock("alice", ALICE, sleep=lambda _: None)
        report, history = again.verify_audit(admin)
        assert report.valid, report.problems
        assert "bob" not in history.roles
    finally:
        again.close()


def test_a_removal_undone_by_hand_is_refused(library, tmp_path):
    made, alice, _ = library
    made.remove_user(alice, "bob")
    made.close()
    path = tmp_path / "lib" / "manifest.json"
    data = json.loads(path.read_text())
    del data["users"]["bob"]["removed"]
    path.write_text(json.dumps(data))
    with pytest.raises(RosterError, match="changed"):
        Library.open(tmp_path / "lib")


def test_entries_a_removed_user_signs_afterwards_are_reported(library):
    made, alice, bob = library
    made.remove_user(alice, "bob")
    made.audit_log().append("bob", "case.create", "c-0123456789", bob.keys.require_signing_key())
    report, _ = made.verify_audit(alice)
    assert any("bob was not a user" in p.message for p in report.problems), report.problems


def test_a_case_member_removed_from_the_library_gets_no_new_epoch(library):
    """cat stays a member of bob's case after her removal from the library; when bob starts
    a new epoch (removing sue), the new key goes to the remaining members but not to her."""
    made, alice, bob = library
    made.add_user(alice, "sue", Role.SOCIAL_WORKER, "sue-quiet-harbour-lantern")
    case = create_case(bob, "Family 2", Programme.VIG, date(2026, 11, 1), ["cat", "sue"])
    cat = made.unlock("cat", "cat-quiet-harbour-lantern", sleep=lambda _: None)
    assert cat.case_identity(case.id).epoch == 1
    made.remove_user(alice, "cat")
    case.members.remove("sue")  # works although cat (removed) is still a member
    assert bob.case_identity(case.id).epoch == 2
    with pytest.raises(PermissionDeniedError):
        cat.case_identity(case.id)
