"""A laptop that took a competing rotation announces the winner as a replacement
(docs/FORMAT.md §12.8): accepted only with the previous epoch's proof and a signed note of
the winning rotation by a user who may change members, never back to a replaced key."""

from __future__ import annotations

import base64

import pytest

from encryption import SigningKey
from videofeedback.library.audit import AuditEntry, sign_note
from videofeedback.library.epoch_notes import EpochNote
from videofeedback.library.key_announcements import EpochKeys, announcement

CASE = "c-0123456789"
USERS = {"pat": SigningKey.generate(), "sam": SigningKey.generate(), "eve": SigningKey.generate()}
ROLES = {"pat": "practitioner", "sam": "supervisor"}  # eve: no longer a library user


def _note(user: str = "pat", case: str = CASE, epoch: int = 2) -> str:
    note = EpochNote(case, epoch, "aa" * 32, "bb" * 32, "", "dev-1", 7)
    return base64.b64encode(sign_note(note.text(), user, USERS[user])).decode()


def _entry(detail: dict[str, str], seq: int = 1) -> AuditEntry:
    return AuditEntry(seq, "2026-12-01T00:00:00Z", "sam", "case.key", CASE, "", detail)


@pytest.fixture
def chain():
    """Epoch 1 and a (losing) epoch 2 announced, with the keys of both epochs 2."""
    signers = {u: k.verify_key for u, k in USERS.items() if u in ROLES}
    keys = EpochKeys(signers=signers, roles=dict(ROLES))
    first, losing, winning = SigningKey.generate(), SigningKey.generate(), SigningKey.generate()
    for epoch, key, previous in ((1, first, None), (2, losing, first)):
        entry = _entry(announcement(CASE, epoch, key, previous))
        assert keys.check(entry) is None
        keys.apply(entry)
    return keys, first, losing, winning


def _replacement(first, losing, winning, **extra: str) -> AuditEntry:
    detail = announcement(CASE, 2, winning, first)
    detail |= {"replaces": str(losing.verify_key), "note": _note()} | extra
    return _entry(detail)


def test_a_replacement_with_the_winning_note_becomes_the_newest_key(chain):
    keys, first, losing, winning = chain
    entry = _replacement(first, losing, winning)
    assert keys.check(entry) is None
    keys.apply(entry)
    assert keys.newest(CASE) == str(winning.verify_key)
    nxt = SigningKey.generate()  # the next rotation is proven by the winner
    assert keys.check(_entry(announcement(CASE, 3, nxt, winning))) is None


def test_a_replacement_never_goes_back_to_the_key_it_replaced(chain):
    keys, first, losing, winning = chain
    keys.apply(_replacement(first, losing, winning))
    back = announcement(CASE, 2, losing, first)
    back |= {"replaces": str(winning.verify_key), "note": _note()}
    assert "replaced before" in (keys.check(_entry(back)) or "")


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ({"note": ""}, "without a signed note"),
        ({"note": _note("eve")}, "without a signed note"),  # not a roster user's signature
        ({"note": _note("sam")}, "may not change members"),  # a supervisor's rotation
        ({"note": _note(case="c-9999999999")}, "another case or epoch"),
        ({"note": _note(epoch=3)}, "another case or epoch"),
        ({"replaces": "vfsign1-not-the-announced-key"}, "a key it did not have"),
    ],
)
def test_a_replacement_without_a_valid_note_is_refused(chain, extra, why):
    keys, first, losing, winning = chain
    assert why in (keys.check(_replacement(first, losing, winning, **extra)) or "")


def test_a_replacement_without_the_previous_epochs_proof_is_refused(chain):
    keys, first, losing, winning = chain
    outsider = SigningKey.generate()  # not epoch 1's key: a removed member's guess
    detail = announcement(CASE, 2, winning, outsider)
    detail |= {"replaces": str(losing.verify_key), "note": _note()}
    assert "without the proof" in (keys.check(_entry(detail)) or "")
