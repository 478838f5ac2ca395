"""The reel builder: moments into order, captions and holds edited, a title card, a draft by
smart cut and a final render, both stored on the session and previewed in the player."""

from fractions import Fraction

from PySide6.QtCore import QModelIndex

from tests.ui.conftest import open_first_case, open_review, unlock
from videofeedback.library.participants import Participants


def test_build_reorder_caption_then_render_draft_and_final(qtbot, window):
    unlock(qtbot, window)
    open_first_case(qtbot, window)
    review = open_review(qtbot, window)
    first, second = review.notes.annotations.in_time_order()
    review.build_reel()
    view = window.reel_view
    assert window.stack.currentWidget() is view
    assert view.available.count() == 2  # the demo's two moments that fit in 30 s

    view.available.selectAll()
    view.add_selected()
    assert view.refs() == [first.id, second.id]
    view.reel.setCurrentRow(1)
    view.move_selected(-1)
    assert view.refs() == [second.id, first.id]
    view.reel.setCurrentRow(1)
    view.caption.setText("Du hast sie angesehen")
    view.caption.editingFinished.emit()
    view.hold.setValue(1.5)
    view.title.setText("Amira und Lily")
    plan = view.plan()
    assert [i.ref for i in plan.items] == [second.id, first.id]
    assert plan.items[1].caption == "Du hast sie angesehen" and plan.items[1].hold == Fraction(3, 2)
    assert plan.items[0].caption == second.caption and plan.title.text == "Amira und Lily"

    with qtbot.waitSignal(view.rendered, timeout=120_000) as draft:
        view.draft_button.click()
    info = window.case.media.get(draft.args[0]).info
    assert info["draft"] is True and info["items"] == [second.id, first.id]
    assert abs(Fraction(info["duration"]) - 13) < Fraction(1, 10)  # 7 s + 6 s, as cut
    qtbot.waitUntil(lambda: view.player.duration() > 0, timeout=15_000)

    with qtbot.waitSignal(view.rendered, timeout=300_000) as final:
        view.final_button.click()
    record = window.case.media.get(final.args[0])
    assert record.kind == "reel" and record.info["draft"] is False
    recording = window.case.media.get(review.notes.annotations.media_id)
    assert record.session == recording.session
    assert (record.info["width"], record.info["height"]) == (1280, 720)
    view.close_reel()
    assert window.stack.currentWidget() is review


def test_captions_start_in_the_familys_language(qtbot, window, monkeypatch):
    """A moment's translation is the reel's caption when the family reads another language."""
    unlock(qtbot, window)
    open_first_case(qtbot, window)
    review = open_review(qtbot, window)
    first, second = review.notes.annotations.in_time_order()
    monkeypatch.setattr(Participants, "family_language", lambda self: "pl")  # a Polish family
    review.notes.editor.translate(first.id, "pl", "Poczekałaś, a ona pokazała ci książkę")
    review.build_reel()
    view = window.reel_view
    view.available.selectAll()
    view.add_selected()
    plan = view.plan()
    assert plan.language == "pl"
    assert plan.items[0].caption == "Poczekałaś, a ona pokazała ci książkę"
    assert plan.items[1].caption == second.caption  # no translation: the caption itself


def test_the_reel_view_shows_its_draft_and_undoes(qtbot, window):
    """The order and edits live in the draft model (annotations.reel_draft); the list shows
    it, and Ctrl+Z / Ctrl+Shift+Z undo and redo the last change."""
    unlock(qtbot, window)
    open_first_case(qtbot, window)
    review = open_review(qtbot, window)
    first, second = review.notes.annotations.in_time_order()
    review.build_reel()
    view = window.reel_view
    view.available.selectAll()
    view.add_selected()
    view.reel.setCurrentRow(1)
    view.move_selected(-1)
    assert view.refs() == [second.id, first.id] == list(view.draft.order)
    view.caption.setText("Du hast gewartet")
    view.caption.editingFinished.emit()
    assert view.draft.edits(second.id).caption == "Du hast gewartet"
    view.undo()
    assert view.caption.text() == second.caption  # the list's current item shows the model
    view.undo()
    assert view.refs() == [first.id, second.id]
    view.redo()
    assert view.refs() == [second.id, first.id]
    top = QModelIndex()
    assert view.reel.model().moveRow(top, 1, top, 0)  # as a drag in the list does
    assert view.refs() == [first.id, second.id]
    qtbot.waitUntil(lambda: list(view.draft.order) == [first.id, second.id], timeout=2_000)
    view.close_reel()
