"""The merge is a pure function of the set of ops: any order, any split, same state."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from videofeedback.team.merge import Op, diff, merge, op_id, resolve

R = ("goals", "g1")


def _op(lamport, device, field, value, prev=(), index=0, record=R):
    return Op(op_id(lamport, device, index), record, field, value, tuple(prev), device)


def test_a_later_edit_that_saw_the_earlier_replaces_it_without_conflict():
    first = _op(1, "a", "text", "old")
    second = _op(2, "b", "text", "new", prev=[first.id])
    merged = merge([second, first])
    assert merged.doc[R]["text"] == "new" and not merged.conflicts


def test_concurrent_edits_keep_both_and_the_greatest_stands_until_resolved():
    base = _op(1, "a", "text", "old")
    mine = _op(2, "a", "text", "by a", prev=[base.id])
    theirs = _op(2, "b", "text", "by b", prev=[base.id])
    merged = merge([base, mine, theirs])
    (conflict,) = merged.conflicts
    assert [o.value for o in conflict.ops] == ["by b", "by a"]  # (2, "b") > (2, "a")
    assert merged.doc[R]["text"] == "by b"
    settled = resolve(merged, conflict, mine.id, "c", "sam")
    again = merge([base, mine, theirs, settled])
    assert again.doc[R]["text"] == "by a" and not again.conflicts


def test_a_prev_naming_another_fields_op_replaces_nothing():
    """An op's prev counts only within its own (record, field): a comment op (one its author
    may write) naming a goal's version cannot settle the goal's conflict (round 3, attack 6)."""
    base = _op(1, "a", "text", "old")
    mine = _op(2, "a", "text", "by a", prev=[base.id])
    theirs = _op(2, "b", "text", "by b", prev=[base.id])
    comment = _op(3, "c", "text", "fine", prev=[theirs.id], record=("comments", "c1"))
    other_field = _op(3, "c", "done", True, prev=[theirs.id, mine.id])
    merged = merge([base, mine, theirs, comment, other_field])
    (conflict,) = merged.conflicts
    assert [o.value for o in conflict.ops] == ["by b", "by a"]
    assert merged.doc[R] == {"text": "by b", "done": True}


def test_concurrent_equal_values_are_no_conflict():
    merged = merge([_op(1, "a", "text", "same"), _op(1, "b", "text", "same")])
    assert not merged.conflicts


def test_diff_makes_ops_that_take_the_base_to_the_current_state():
    base = merge([_op(1, "a", "text", "x"), _op(1, "a", "score", 1, index=1)])
    current = {R: {"text": "y", "score": 1}, ("goals", "g2"): {"text": "new"}}
    ops = diff(base, current, "b", "pat", 2)
    assert {(o.record, o.field, o.value) for o in ops} == {
        (R, "text", "y"),
        (("goals", "g2"), "text", "new"),
    }
    text = next(o for o in ops if o.field == "text" and o.record == R)
    assert text.prev == (op_id(1, "a", 0),)
    assert merge([*base_ops(base), *ops]).doc == current


def base_ops(merged):
    return [o for front in merged.frontier.values() for o in front]


def test_a_deleted_record_is_gone_and_can_come_back():
    base = merge([_op(1, "a", "text", "x")])
    gone = diff(base, {}, "a", "pat", 2)
    merged = merge([*base_ops(base), *gone])
    assert R not in merged.doc and R in merged.fields
    back = diff(merged, {R: {"text": "x"}}, "b", "sam", 3)
    assert merge([*base_ops(base), *gone, *back]).doc == {R: {"text": "x"}}


edits = st.lists(
    st.tuples(
        st.sampled_from("abc"),
        st.sampled_from(["g1", "g2"]),
        st.sampled_from(["text", "score"]),
        st.integers(0, 3),
        st.booleans(),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(edits, st.randoms(use_true_random=False))
def test_every_order_of_the_same_ops_gives_the_same_state(steps, rng):
    """Devices edit their own view and sometimes merge everything seen so far: whatever
    order the ops are then merged in, the state, the conflicts and the frontier agree."""
    ops: list[Op] = []
    known: dict[str, list[Op]] = {d: [] for d in "abc"}
    for lamport, (device, key, field, value, share) in enumerate(steps, 1):
        view = merge(known[device])
        current = {k: dict(v) for k, v in view.doc.items()}
        current.setdefault(("goals", key), {})[field] = value
        new = diff(view, current, device, device, lamport)
        known[device].extend(new)
        ops.extend(new)
        if share:
            for other in known:
                known[other] = list({o.id: o for o in [*known[other], *known[device]]}.values())
    shuffled = list(ops)
    rng.shuffle(shuffled)
    one, two = merge(ops), merge(shuffled)
    assert one.doc == two.doc
    assert [c.to_json() for c in one.conflicts] == [c.to_json() for c in two.conflicts]
