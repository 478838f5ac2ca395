"""The review's state, the reel draft and agreement by principle, headless (no QApplication):
each field has its own event, emitted once per real change; the draft's every change is
undoable; coders agree on principles, not on the codes under them."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction

import pytest

from annotations import Annotations, Editor, builtin_codebook
from annotations.agreement import by_principle, compare_coders
from annotations.errors import AnnotationError
from annotations.reel_draft import ItemEdits, ReelDraft, Title
from annotations.review_state import Lanes, ReviewState


def test_the_models_load_without_qt():
    code = (
        "import sys, annotations.review_state, annotations.reel_draft, annotations.agreement;"
        "sys.exit(any(m.startswith('PySide6') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def heard(state: ReviewState) -> list[tuple[str, object]]:
    events: list[tuple[str, object]] = []
    for name in ("selection", "marks", "playhead", "zoom", "lanes"):
        getattr(state.events, name).connect(lambda value, n=name: events.append((n, value)))
    return events


def test_each_field_has_its_event_and_only_real_changes_emit():
    state = ReviewState()
    events = heard(state)
    state.selected = "mo-1"
    state.selected = "mo-1"  # no change: no event
    state.mark_in(Fraction(5))
    state.mark_out(Fraction(2))  # before the in mark: the marks are put in order
    state.playhead = Fraction(3)
    state.playhead = Fraction(-1)  # clamped at the start
    state.zoom_by(2)
    state.zoom_by(0.1)  # never below "the whole recording fits"
    state.show_lanes(["pat", "sam"], {"mo-1"})
    state.show_lanes(["pat", "sam"], {"mo-1"})
    assert events == [
        ("selection", "mo-1"),
        ("marks", (Fraction(5), None)),
        ("marks", (Fraction(2), Fraction(5))),
        ("playhead", Fraction(3)),
        ("playhead", Fraction(0)),
        ("zoom", 2.0),
        ("zoom", 1.0),
        ("lanes", Lanes(("pat", "sam"), frozenset({"mo-1"}))),
    ]
    state.reset()
    assert (state.selected, state.marks, state.lanes) == (None, (None, None), Lanes())
    assert events[-1] == ("lanes", Lanes())


def test_a_disconnected_slot_hears_nothing():
    state = ReviewState()
    seen: list[object] = []
    disconnect = state.events.selection.connect(seen.append)
    state.selected = "a"
    disconnect()
    state.selected = "b"
    assert seen == ["a"] and len(state.events.selection) == 0


@pytest.fixture
def coded():
    book = builtin_codebook("vig")
    model = Annotations("m-1", Fraction(30), Fraction(60), book)
    editor = Editor(model, "pat")
    first = editor.add_moment(Fraction(0), Fraction(10), ("attentive.looking",), "You looked")
    second = editor.add_moment(Fraction(20), Fraction(30), ("encouraging.waiting",), "You waited")
    return model, book, first, second


def test_the_draft_orders_edits_and_undoes_everything(coded):
    model, _, first, second = coded
    draft = ReelDraft(model, {first.id: first.caption, second.id: second.caption})
    orders, edits, titles = [], [], []
    draft.events.order.connect(orders.append)
    draft.events.edits.connect(edits.append)
    draft.events.title.connect(titles.append)
    draft.add([first.id, second.id])
    assert draft.move(1, -1) and not draft.move(0, -1)
    draft.edit(first.id, ItemEdits("Du hast geschaut", Fraction(3, 2), Fraction(2)))
    for typed in ("A", "Am", "Amira"):
        draft.set_title(typed)
    plan = draft.plan("de")
    assert [i.ref for i in plan.items] == [second.id, first.id] and plan.language == "de"
    assert plan.items[1].caption == "Du hast geschaut" and plan.items[1].hold == Fraction(3, 2)
    assert plan.title is not None and plan.title.text == "Amira"
    assert orders == [(first.id, second.id), (second.id, first.id)] and edits == [first.id]
    assert draft.undo() == "change the title"  # the title typed letter by letter: one step
    assert draft.title == Title() and titles[-1] == Title()
    assert draft.undo() == "edit an item" and draft.edits(first.id).caption == first.caption
    assert draft.undo() == "move in the reel" and draft.order == (first.id, second.id)
    assert draft.redo() == "move in the reel" and draft.order == (second.id, first.id)
    draft.remove(0)
    assert not draft.can_redo() and draft.order == (first.id,)
    with pytest.raises(AnnotationError, match="nothing called mo-x"):
        draft.add(["mo-x"])
    with pytest.raises(AnnotationError, match="slow motion"):
        draft.edit(first.id, ItemEdits("", Fraction(0), Fraction(1, 2)))
    while draft.undo():
        pass
    assert draft.order == () and draft.title == Title() and not draft.can_undo()


def test_a_stored_draft_comes_back_as_it_was_built(coded):
    """A reel keeps the builder's state as JSON; a new draft takes it up (a gone item is
    left out, its neighbours keep their edits), and reopening is one step to undo."""
    import json

    model, _, first, second = coded
    captions = {first.id: first.caption, second.id: second.caption}
    draft = ReelDraft(model, captions)
    draft.add([second.id, first.id])
    draft.edit(first.id, ItemEdits("You looked at her", Fraction(1, 2), Fraction(3, 2)))
    draft.set_title("Lily and her mum", "Spring")
    stored = json.loads(json.dumps(draft.state()))
    assert stored["recording"] == "m-1" and set(stored["edits"]) == {first.id, second.id}

    again = ReelDraft(model, captions)
    orders = []
    again.events.order.connect(orders.append)
    stored["order"].append("mo-gone")
    again.restore(stored)
    assert again.order == (second.id, first.id) and orders == [again.order]
    assert again.edits(first.id) == ItemEdits("You looked at her", Fraction(1, 2), Fraction(3, 2))
    assert again.title == Title("Lily and her mum", "Spring")
    assert again.plan().items[1].caption == "You looked at her"
    assert again.undo() == "open the stored reel" and again.order == ()
    again.redo()
    again.clear_history()
    assert not again.can_undo() and not again.can_redo()


def test_agreement_is_on_principles(coded):
    model, book, _, _ = coded
    other = Editor(model, "sam")
    other.add_moment(Fraction(0), Fraction(10), ("attentive.time",))  # same principle
    principled = by_principle(model.by_coder("pat"), book)
    assert principled[0].codes == ("attentive",) and principled[1].codes == ("encouraging",)
    report = compare_coders(model, "pat", "sam", Fraction(60), book)
    assert [m.start for m in report.only_a] == [Fraction(20)] and report.only_b == []
