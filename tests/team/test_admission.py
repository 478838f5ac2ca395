"""Which synced batches and ops count (videofeedback/team/admission.py; pure, no store)."""

from __future__ import annotations

from videofeedback.team.admission import Batch, Judge
from videofeedback.team.merge import Op, op_id

ROLES = {"pat": "practitioner", "cat": "practitioner", "sam": "supervisor", "kim": "supervisor"}
DEV = "d" * 32


def _op(author, record, field, value, lamport=1, index=0):
    return Op(op_id(lamport, DEV, index), record, field, value, (), author)


def _judge(members=("pat", "cat", "sam", "kim"), removals=None):
    return Judge(ROLES, set(members), removals or {})


def _admit(judge, *ops, number=1, device=DEV):
    by_author: dict[str, list[Op]] = {}
    for op in ops:
        by_author.setdefault(op.author, []).append(op)
    batches = [Batch(device, number, a, tuple(o)) for a, o in by_author.items()]
    return judge.admit(batches)


def test_a_supervisor_may_not_change_case_details_a_practitioner_may():
    goal = ("goals", "g1")
    kept = _admit(_judge(), _op("sam", goal, "text", "x"), _op("pat", goal, "text", "y", 2))
    assert [o.author for o in kept] == ["pat"]


def test_a_comment_counts_only_from_its_own_author_with_the_right_to_comment():
    own, forged, by_pat = ("comments", "k1"), ("comments", "k2"), ("comments", "k3")
    kept = _admit(
        _judge(),
        _op("sam", own, "author", "sam"),
        _op("sam", own, "text", "fine"),
        _op("sam", forged, "author", "kim"),  # in another supervisor's name
        _op("pat", by_pat, "author", "pat"),  # a practitioner has no right to comment
    )
    assert {(o.record, o.field) for o in kept} == {(own, "author"), (own, "text")}


def test_a_later_claim_on_a_comment_does_not_take_it_over():
    record = ("comments", "k1")
    kept = _admit(
        _judge(),
        _op("sam", record, "author", "sam", lamport=1),
        _op("kim", record, "author", "kim", lamport=5),
        _op("kim", record, "text", "mine now", lamport=5, index=1),
    )
    assert [o.author for o in kept] == ["sam"]


def test_a_supervisor_changes_only_her_own_moments():
    hers, pats = ("moment", "m/1"), ("moment", "m/2")
    kept = _admit(
        _judge(),
        _op("sam", hers, "coder", "sam"),
        _op("pat", pats, "coder", "pat"),
        _op("sam", pats, "caption", "rewritten", 2),
        _op("pat", hers, "caption", "a practitioner changes any coding", 2),
    )
    assert {(o.author, o.record) for o in kept} == {("sam", hers), ("pat", pats), ("pat", hers)}


def test_a_removed_members_batches_count_up_to_what_the_removal_saw():
    judge = _judge(members=("pat", "sam"), removals={"cat": [f"{DEV}:7:2"]})
    seen = [_admit(judge, _op("cat", ("goals", f"g{n}"), "text", n), number=n) for n in (1, 2, 3)]
    assert [len(k) for k in seen] == [1, 1, 0]
    assert any("cat is not a member" in r for r in judge.refused)


def test_a_never_member_counts_nowhere_and_unknown_membership_counts_everyone():
    op = _op("cat", ("goals", "g1"), "text", "x")
    assert _admit(_judge(members=("pat",)), op) == []
    assert _admit(Judge(ROLES, None), op) == [op]


def test_owner_claims_go_by_what_their_writers_had_seen_not_by_the_clock():
    """pat's claim (device P, batch 1); sam's claim with a lower clock (device S): hers comes
    after his if her batch's signed ``seen`` reaches his; if it hides it, nobody owns it."""
    record, other = ("moment", "m/1"), "e" * 32
    pats = Op(op_id(9, DEV, 0), record, "coder", "pat", (), "pat")
    sams = Op(op_id(1, other, 0), record, "coder", "sam", (), "sam")
    edit = Op(op_id(10, other, 1), record, "caption", "hers now", (), "sam")
    for seen, owner in (({DEV: (0, 1)}, {"pat"}), ({}, {"pat", "sam"})):
        judge = _judge()
        kept = judge.admit(
            [Batch(DEV, 1, "pat", (pats,), {}), Batch(other, 1, "sam", (sams, edit), seen)]
        )
        assert edit not in kept
        assert pats in kept
        assert bool([r for r in judge.refused if "nobody owns it" in r]) == (len(owner) > 1)
