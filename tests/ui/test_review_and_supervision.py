"""Part 2 of the app: the whole path demo → reel → shared review with the parent's words stored
→ hand-over bundle → the supervisor opens it, comments and signs off; agreement between
coders; the family copy; the session report's text."""

from fractions import Fraction

from PySide6.QtCore import Qt
from PySide6.QtPdf import QPdfDocument
from PySide6.QtWidgets import QDialog, QFileDialog, QInputDialog, QMessageBox

from annotations import Annotations, Editor, builtin_codebook
from tests.ui.conftest import (
    PASSPHRASE,
    open_first_case,
    open_review,
    recording_item,
    shared_review_of,
    unlock,
)
from ui.shared_review import review_items
from ui.supervision_panel import SignOffDialog


def visible_dialogs(window):
    return [w for w in window.findChildren(QMessageBox) if w.isVisible()]


def test_review_items_use_the_familys_language_and_the_principles_prompt():
    book = builtin_codebook("vig")
    model = Annotations("m-1", Fraction(30), Fraction(60), book)
    editor = Editor(model, "pat")
    moment = editor.add_moment(Fraction(1), Fraction(3), ("encouraging.waiting",), "You waited")
    editor.translate(moment.id, "pl", "Poczekałaś")
    still = editor.add_still(Fraction(5), "Her smile")
    items = review_items(model, [still.id, moment.id, "m-gone@1"], "pl")
    assert [(i.ref, i.caption) for i in items] == [
        (still.id, "Her smile"),
        (moment.id, "Poczekałaś"),
    ]
    assert items[1].prompt == book.category_of("encouraging").prompt and items[1].prompt
    assert review_items(model, [moment.id], "de")[0].caption == "You waited"


def _reel(qtbot, window):
    review = open_review(qtbot, window)
    review.build_reel()
    view = window.reel_view
    view.available.selectAll()
    view.add_selected()
    with qtbot.waitSignal(view.rendered, timeout=120_000):
        view.draft_button.click()
    return review, view


def _finish_item(qtbot, shared):
    """Jump near the item's end: playback passes it and the item pauses on its caption."""
    qtbot.waitUntil(lambda: shared.player.playing, timeout=10_000)
    shared.player.seek(shared.item.end - Fraction(1, 5))
    qtbot.waitUntil(lambda: shared.caption.text() != "", timeout=10_000)


def test_demo_to_reel_to_shared_review_to_supervisor_sign_off(qtbot, window, tmp_path, monkeypatch):
    unlock(qtbot, window)
    open_first_case(qtbot, window)
    review, reel = _reel(qtbot, window)
    first, second = review.notes.annotations.in_time_order()
    reel.share_button.click()
    shared = shared_review_of(qtbot, window)
    assert shared.isVisible() and shared.windowState() & Qt.WindowState.WindowFullScreen
    assert shared.windowModality() == Qt.WindowModality.ApplicationModal
    qtbot.waitUntil(lambda: shared.counter.text() == "1 of 2", timeout=5_000)

    _finish_item(qtbot, shared)
    assert shared.caption.text() == first.caption
    assert shared.prompt.text().startswith("What do you notice")
    shared.buttons["larger"].click()
    assert shared.caption.font().pointSize() == 32
    shared.words.setPlainText("I saw her looking back at me")
    shared.buttons["next"].click()
    assert shared.counter.text() == "2 of 2" and shared.words.toPlainText() == ""
    _finish_item(qtbot, shared)
    assert shared.caption.text() == second.caption
    shared.words.setPlainText("Waiting was hard, but she showed me")
    shared.buttons["next"].click()  # Finish
    assert shared.caption.text() == "Thank you."

    qtbot.keyClick(shared, Qt.Key.Key_Escape)
    shared.close()
    assert shared.isVisible()  # no way out without the passphrase
    shared.try_leave("not my passphrase")
    qtbot.waitUntil(lambda: bool(visible_dialogs(shared)), timeout=15_000)
    assert shared.isVisible()
    visible_dialogs(shared)[0].close()
    shared.try_leave(PASSPHRASE)
    qtbot.waitUntil(lambda: not shared.isVisible(), timeout=15_000)
    case = window.case
    words = case.db.execute("SELECT session_id, item, text FROM parent_words").fetchall()
    assert [(w[1], w[2]) for w in words] == [
        (first.id, "I saw her looking back at me"),
        (second.id, "Waiting was hard, but she showed me"),
    ]
    assert case.sessions.get(words[0][0]).kind == "review"

    # the session report, for the case record
    reel.close_reel()
    review.close_media()
    view = window.case_view  # it reads the case anew (in the case's queue) once shown
    qtbot.waitUntil(lambda: view.sessions.topLevelItemCount() == 2, timeout=10_000)
    tops = [view.sessions.topLevelItem(i) for i in range(view.sessions.topLevelItemCount())]
    kinds = {item.data(0, Qt.ItemDataRole.UserRole)[2]: item for item in tops}
    assert set(kinds) == {"recording", "review"}
    recording_session = kinds["recording"]
    view.sessions.setCurrentItem(recording_session)
    pdf = tmp_path / "report.pdf"
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: QMessageBox.StandardButton.Ok)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(pdf), ""))
    view.buttons["report"].click()
    qtbot.waitUntil(lambda: pdf.exists() and not window.jobs.running, timeout=60_000)
    text = _pdf_text(pdf)
    for expected in (
        "Family A (demo)",
        first.caption,
        "I saw her looking back at me",
        "Being attentive",
        "Follow Lily's lead in play",
    ):
        assert expected in text, expected
    assert "private" not in text.lower()

    # the hand-over bundle for the supervisor
    bundle = tmp_path / "for-sam.vfb"
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: ("sam", True))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(bundle), ""))
    view.supervision.buttons["bundle"].click()
    qtbot.waitUntil(lambda: bundle.exists() and not window.jobs.running, timeout=60_000)

    window.lock_action.trigger()
    unlock(qtbot, window, "sam", "sam-demo-passphrase")
    assert not window.cases_view.new_button.isVisible()
    with qtbot.waitSignal(window.cases_view.bundle_opened, timeout=30_000):
        window.cases_view.open_bundle(bundle)
    facts = window.bundle_view.facts.text()
    assert "From <b>pat</b>" in facts and "✔ audit trail valid" in facts
    assert window.bundle_view.media.count() >= 2  # the recording and the reel
    window.bundle_view.close_bundle()

    open_first_case(qtbot, window)
    assert not window.case_view.buttons["record"].isVisible()
    panel = window.case_view.supervision
    qtbot.waitUntil(
        lambda: panel.audit.text().startswith("✔ The audit trail is valid"), timeout=30_000
    )
    review = open_review(qtbot, window)
    review.select(first.id)
    review.comment_text.setText("Lovely example of following her lead")
    review.comment_button.click()  # saved in the case's queue; the view hears of the change
    qtbot.waitUntil(lambda: review.comments.count() == 1, timeout=10_000)
    assert review.comments.item(0).text().endswith(" sam: Lovely example of following her lead")
    review.close_media()
    monkeypatch.setattr(SignOffDialog, "exec", lambda self: QDialog.DialogCode.Accepted)
    panel.buttons["signoff"].click()
    qtbot.waitUntil(lambda: panel.signoffs.count() == 1, timeout=10_000)
    assert "✔ signature valid" in panel.signoffs.item(0).text()
    [signoff] = window.case.supervision.signoffs()
    assert signoff.signed_by == "sam" and signoff.valid
    assert window.case.supervision.comments(first.id)[0].author == "sam"


def _pdf_text(path):
    document = QPdfDocument()
    document.load(str(path))
    text = " ".join(document.getAllText(p).text() for p in range(document.pageCount()))
    return " ".join(text.split())  # lines wrap anywhere


def test_supervisors_own_coding_is_compared_side_by_side(qtbot, window):
    unlock(qtbot, window, "sam", "sam-demo-passphrase")
    open_first_case(qtbot, window)
    review = open_review(qtbot, window)
    assert not review.compare_button.isVisible()
    review.player.seek(Fraction(8))
    qtbot.waitUntil(lambda: review.player.frame() == 240, timeout=5_000)
    qtbot.keyClick(review, Qt.Key.Key_1)  # sam agrees: attentive from 8 s
    review.player.seek(Fraction(15))
    qtbot.waitUntil(lambda: review.player.frame() == 450, timeout=5_000)
    qtbot.keyClick(review, Qt.Key.Key_Escape)
    qtbot.keyClick(review, Qt.Key.Key_5)  # and sees guiding where pat saw nothing
    assert review.compare_button.isVisible()
    review.compare_coding()
    dialog = review.agreement
    assert "<b>pat</b> and <b>sam</b>" in dialog.summary.text() and "kappa" in dialog.summary.text()
    assert review.timeline.lanes == ["pat", "sam"]
    assert dialog.differences.count() == len(review.timeline.flagged) >= 2
    pats = [m for m in review.notes.annotations.moments if m.coder == "pat"]
    review.select(pats[0].id)
    qtbot.keyClick(review, Qt.Key.Key_3)  # a supervisor may not change the practitioner's coding
    qtbot.waitUntil(lambda: bool(visible_dialogs(window)), timeout=5_000)
    assert "only" in visible_dialogs(window)[0].text() or "own" in visible_dialogs(window)[0].text()
    assert review.notes.annotations.moment(pats[0].id).codes == pats[0].codes


def test_family_copy_is_redacted_and_needs_a_warning(qtbot, window, tmp_path, monkeypatch):
    """The demo recording's redaction was reviewed (tests/ui/conftest.py); a recording
    whose redaction was not is refused: tests/ui/test_redaction.py."""
    unlock(qtbot, window)
    open_first_case(qtbot, window)
    view = window.case_view
    view.sessions.setCurrentItem(recording_item(window))
    out = tmp_path / "family.mp4"
    warnings = []
    monkeypatch.setattr(
        QMessageBox, "warning", lambda *a: warnings.append(a[2]) or QMessageBox.StandardButton.Ok
    )
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    view.buttons["family"].click()
    qtbot.waitUntil(lambda: out.exists() and not window.jobs.running, timeout=60_000)
    assert "unencrypted" in warnings[0]
    assert out.read_bytes()[4:8] == b"ftyp"
    entries = window.case.audit_log().entries([window.case.identity])
    done = [e for e in entries if e.action == "media.export"][-1]
    assert done.detail["to"] == "family-copy" and done.detail["redacted"] == "yes"
    qtbot.waitUntil(lambda: view.export_done.isVisible(), timeout=5_000)
    assert view.export_done.text().startswith("Written to family.mp4")
    view.export_done.close()

    out.unlink()


def test_reflective_prompts_are_edited_per_codebook(qtbot, window):
    unlock(qtbot, window)
    open_first_case(qtbot, window)
    review, reel = _reel(qtbot, window)
    reel.edit_prompts()
    dialog = reel.prompts
    dialog.fields["attentive"].setText("What was she telling you with her eyes?")
    dialog.save()
    assert window.state.library.manifest.prompts == {
        "vig": {"attentive": "What was she telling you with her eyes?"}
    }
    first = review.notes.annotations.in_time_order()[0]
    reel.share_button.click()
    shared = shared_review_of(qtbot, window)
    qtbot.waitUntil(lambda: shared.counter.text() == "1 of 2", timeout=5_000)
    _finish_item(qtbot, shared)
    assert first.codes[0].startswith("attentive")
    assert shared.prompt.text() == "What was she telling you with her eyes?"
    shared.try_leave(PASSPHRASE)
    qtbot.waitUntil(lambda: not shared.isVisible(), timeout=15_000)


def test_a_caption_in_the_familys_language_is_asked_for_and_shown_to_them(qtbot, window):
    unlock(qtbot, window)
    open_first_case(qtbot, window)
    window.case.db.execute("UPDATE participants SET language = 'pl' WHERE role = 'parent'")
    review = open_review(qtbot, window)
    editor = review.editor
    assert (
        editor.translation.isVisibleTo(editor) and editor.translation_label.text() == "Caption (pl)"
    )
    first = review.notes.annotations.in_time_order()[0]
    review.select(first.id)
    editor.translation.setText("Patrzyłaś na nią, a ona wiedziała, że jesteś")
    editor.translation.editingFinished.emit()
    assert review.notes.annotations.moment(first.id).caption_in("pl").startswith("Patrzyłaś")
    review.build_reel()
    reel = window.reel_view
    reel.available.setCurrentRow(0)
    reel.add_selected()
    with qtbot.waitSignal(reel.rendered, timeout=120_000):
        reel.draft_button.click()
    reel.share_button.click()
    shared = shared_review_of(qtbot, window)
    qtbot.waitUntil(lambda: shared.counter.text() == "1 of 1", timeout=5_000)
    _finish_item(qtbot, shared)
    assert shared.caption.text() == "Patrzyłaś na nią, a ona wiedziała, że jesteś"
    shared.try_leave(PASSPHRASE)
    qtbot.waitUntil(lambda: not shared.isVisible(), timeout=15_000)
