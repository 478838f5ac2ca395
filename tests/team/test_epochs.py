"""Which key epochs a laptop takes (videofeedback/team/epochs.py; pure, real keys)."""

from __future__ import annotations

from videofeedback.library.epoch_notes import EpochNote, fingerprint
from videofeedback.library.keyring import CaseKeys
from videofeedback.team.epochs import Offer, Rules, decide
from videofeedback.team.heads import decrypt, encrypt

CASE = "c-0123456789"
ROLES = {"pat": "practitioner", "cat": "practitioner", "sam": "supervisor"}
DEV = "d" * 32


def _rotation(keys, user, removes="", entries=3):
    new = keys.with_new_epoch()
    note = EpochNote(
        CASE,
        new.epoch,
        fingerprint(new, new.epoch - 1),
        fingerprint(new, new.epoch),
        removes,
        DEV,
        entries,
        user,
    )
    return new, note


def _rules(removals=None):
    return Rules(ROLES, {"pat", "cat", "sam"}, removals or {})


def test_the_rotation_that_removes_the_other_s_signer_wins_whoever_sees_it():
    base = CaseKeys.new(CASE)
    pats, pat_note = _rotation(base, "pat", removes="cat")
    cats, cat_note = _rotation(base, "cat")
    for ours, theirs in (
        (Offer(pats.parts, {2: pat_note}), Offer(cats.parts, {2: cat_note})),
        (Offer(cats.parts, {2: cat_note}), Offer(pats.parts, {2: pat_note})),
        (Offer(base.parts), Offer(cats.parts, {2: cat_note})),
    ):
        decision = decide(
            CASE, base.kek, ours, [theirs, Offer(pats.parts, {2: pat_note})], _rules()
        )
        assert decision.parts == pats.parts
        assert decision.others == ((2, cats.parts[1]),)


def test_concurrent_rotations_that_remove_nobody_tie_break_the_same_everywhere():
    base = CaseKeys.new(CASE)
    one, two = _rotation(base, "pat"), _rotation(base, "cat")
    a = decide(
        CASE,
        base.kek,
        Offer(one[0].parts, {2: one[1]}),
        [Offer(two[0].parts, {2: two[1]})],
        _rules(),
    )
    b = decide(
        CASE,
        base.kek,
        Offer(two[0].parts, {2: two[1]}),
        [Offer(one[0].parts, {2: one[1]})],
        _rules(),
    )
    assert a.parts == b.parts and a.others == b.others


def test_a_rotation_is_refused_without_a_note_from_a_supervisor_or_after_a_known_removal():
    base = CaseKeys.new(CASE)
    keys, note = _rotation(base, "cat", entries=3)
    sams, sam_note = _rotation(base, "sam")
    removed = _rules({"cat": [f"{DEV}:3:0"]})  # the removal had seen 3 entries, not the rotation
    later = _rules({"cat": [f"{DEV}:4:0"]})  # the removal came after (it had seen it)
    ours = Offer(base.parts)
    assert decide(CASE, base.kek, ours, [Offer(keys.parts)], _rules()).refused
    assert decide(CASE, base.kek, ours, [Offer(sams.parts, {2: sam_note})], _rules()).refused
    # cat's genuine note beside another key file (sam's): it names another key
    assert decide(CASE, base.kek, ours, [Offer(sams.parts, {2: note})], _rules()).refused
    assert decide(CASE, base.kek, ours, [Offer(keys.parts, {2: note})], removed).refused
    assert decide(CASE, base.kek, ours, [Offer(keys.parts, {2: note})], later).parts == keys.parts


def test_lost_parts_open_what_was_written_with_them():
    base = CaseKeys.new(CASE)
    winner, loser = base.with_new_epoch(), base.with_new_epoch()
    kept = CaseKeys(CASE, base.kek, winner.parts, ((2, loser.parts[1]),))
    sealed = encrypt(b"written at the lost epoch", [loser.recipient])
    assert decrypt(sealed, [kept]) == b"written at the lost epoch"
    assert kept.recipient == winner.recipient


def test_a_removal_made_at_a_later_epoch_still_beats_the_removed_member_s_rotation():
    """pat removes sam (epoch 2), then cat (epoch 3); cat, still at epoch 1, rotates to her
    own epoch 2: whatever the digests, pat's branch wins at epoch 2."""
    base = CaseKeys.new(CASE)
    two, note_two = _rotation(base, "pat", removes="sam")
    three, note_three = _rotation(two, "pat", removes="cat")
    cats, cat_note = _rotation(base, "cat")
    while cat_note.digest > note_two.digest:  # hers would win the tie
        cats, cat_note = _rotation(base, "cat")
    pats = Offer(three.parts, {2: note_two, 3: note_three})
    rules = Rules(ROLES, {"pat", "cat"}, {})
    for ours, other in (
        (pats, Offer(cats.parts, {2: cat_note})),
        (Offer(cats.parts, {2: cat_note}), pats),
    ):
        assert decide(CASE, base.kek, ours, [other], rules).parts == three.parts
