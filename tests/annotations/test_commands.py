"""Any sequence of edits, then undo all, gives back the start; redo all gives the end.
Listeners see every change: a replica kept only from events matches the model."""

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotations import AnnotationError, Annotations, Editor
from annotations.model import (
    MomentAdded,
    MomentChanged,
    MomentMoved,
    MomentRemoved,
    StillAdded,
    StillChanged,
    StillRemoved,
)
from tests.annotations.strategies import CODES, DURATION, FPS, annotation_sets, captions, frames

operations = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "add",
                "move",
                "trim",
                "recode",
                "toggle",
                "caption",
                "note",
                "delete",
                "reorder",
                "still",
                "caption_still",
                "delete_still",
            ]
        ),
        st.integers(0, 50),
        frames,
        frames,
        st.sampled_from(CODES),
        captions,
    ),
    max_size=40,
)


def snapshot(model: Annotations):
    return (list(model.moments), list(model.stills))


def apply(editor: Editor, op) -> None:
    kind, pick, frame_a, frame_b, code, text = op
    model = editor.model
    ids = [m.id for m in model.moments]
    target = ids[pick % len(ids)] if ids else None
    a, b = sorted((Fraction(frame_a) / FPS, Fraction(frame_b) / FPS))
    still_ids = [s.id for s in model.stills]
    still = still_ids[pick % len(still_ids)] if still_ids else None
    actions = {
        "add": lambda: editor.add_moment(a, b if b > a else None, (code,), text),
        "move": lambda: target and editor.move(target, a),
        "trim": lambda: target and editor.trim(target, a, b),
        "recode": lambda: target and editor.recode(target, (code,)),
        "toggle": lambda: target and editor.toggle_code(target, code),
        "caption": lambda: target and editor.caption(target, text),
        "note": lambda: target and editor.note(target, text),
        "delete": lambda: target and editor.delete(target),
        "reorder": lambda: target and editor.reorder(target, pick % len(ids)),
        "still": lambda: editor.add_still(a, text),
        "caption_still": lambda: still and editor.caption_still(still, text),
        "delete_still": lambda: still and editor.delete_still(still),
    }
    try:
        actions[kind]()
    except AnnotationError:
        pass  # an invalid edit changes nothing and is not recorded


class Replica:
    """What a view would hold if it only listened to events."""

    def __init__(self, model: Annotations) -> None:
        self.moments = list(model.moments)
        self.stills = list(model.stills)
        model.subscribe(self.on_event)

    def on_event(self, event) -> None:
        match event:
            case MomentAdded(moment, index):
                self.moments.insert(index, moment)
            case MomentRemoved(moment, index):
                assert self.moments.pop(index) == moment
            case MomentChanged(old, new):
                self.moments[self.moments.index(old)] = new
            case MomentMoved(moment_id, old_index, new_index):
                moved = self.moments.pop(old_index)
                assert moved.id == moment_id
                self.moments.insert(new_index, moved)
            case StillAdded(still):
                self.stills.append(still)
            case StillRemoved(still):
                self.stills.remove(still)
            case StillChanged(old, new):
                self.stills[self.stills.index(old)] = new


@settings(max_examples=150, deadline=None)
@given(model=annotation_sets(), ops=operations)
def test_undo_all_redo_all(model, ops):
    editor = Editor(model, "bob")
    replica = Replica(model)
    start = snapshot(model)
    for op in ops:
        apply(editor, op)
    end = snapshot(model)
    assert (replica.moments, replica.stills) == end
    while editor.undo():
        pass
    assert snapshot(model) == start
    assert (replica.moments, replica.stills) == start
    while editor.redo():
        pass
    assert snapshot(model) == end
    assert (replica.moments, replica.stills) == end


def test_a_new_edit_after_undo_drops_the_redo_history():
    model = Annotations("m-1", FPS, DURATION)
    editor = Editor(model, "bob")
    first = editor.add_moment(Fraction(1), Fraction(2))
    editor.undo()
    editor.add_moment(Fraction(3), Fraction(4))
    assert not editor.stack.can_redo
    assert first not in model.moments


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (Fraction(5), Fraction(5), "end after it starts"),
        (Fraction(5), Fraction(4), "end after"),
        (Fraction(-1), None, "before the recording"),
        (Fraction(599), Fraction(601), "after the recording"),
    ],
)
def test_invalid_moments_are_refused_and_not_recorded(start, end, message):
    model = Annotations("m-1", FPS, DURATION)
    editor = Editor(model, "bob")
    with pytest.raises(AnnotationError, match=message):
        editor.add_moment(start, end)
    assert not editor.stack.can_undo and not model.moments


def test_unknown_code_is_refused():
    from annotations import CodebookError, default_codebook

    model = Annotations("m-1", FPS, DURATION, default_codebook())
    with pytest.raises(CodebookError, match="unknown codes not-a-code"):
        Editor(model, "bob").add_moment(Fraction(1), Fraction(2), ("not-a-code",))


def test_move_keeps_length_and_trim_changes_it():
    model = Annotations("m-1", FPS, DURATION)
    editor = Editor(model, "bob")
    moment = editor.add_moment(Fraction(10), Fraction(14))
    moved = editor.move(moment.id, Fraction(20))
    assert (moved.start, moved.end) == (20, 24)
    trimmed = editor.trim(moment.id, Fraction(21), Fraction(22))
    assert trimmed.duration == 1
    assert editor.undo() == "trim moment" and model.moment(moment.id).end == 24


def test_a_caption_translation_is_undoable_and_round_trips():
    from fractions import Fraction

    from annotations import Annotations, Editor
    from annotations.model import Moment

    model = Annotations("m-1", Fraction(30), Fraction(60))
    editor = Editor(model, "pat")
    moment = editor.add_moment(Fraction(1), Fraction(4), caption="You waited")
    editor.translate(moment.id, "pl", "Poczekałaś")
    editor.translate(moment.id, "ur", "آپ نے انتظار کیا")
    stored = model.moment(moment.id)
    assert stored.caption_in("pl") == "Poczekałaś" and stored.caption_in("de") == "You waited"
    assert Moment.from_dict(stored.to_dict()) == stored
    editor.translate(moment.id, "pl", "")
    assert dict(model.moment(moment.id).translations) == {"ur": "آپ نے انتظار کیا"}
    editor.undo()
    editor.undo()
    assert model.moment(moment.id).translations == (("pl", "Poczekałaś"),)
    assert "translations" not in Moment("x", Fraction(0), None).to_dict()
