"""Issue 20's walkthrough, repeated as a person does it: mouse clicks and keys on the real
widgets, with real focus (``QApplication.focusWidget()``), one test per finding."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QAbstractButton, QApplication, QLineEdit, QMessageBox, QPushButton

from tests import fast_scrypt
from tests.ui.conftest import PASSPHRASE, open_first_case, shared_review_of, unlock
from ui.main_window import MainWindow
from videofeedback.library import Library
from videofeedback.library.cases import list_cases, open_case

LEFT = Qt.MouseButton.LeftButton
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def window(qtbot, library):
    """The app's window; a test that fails mid-recording must not leave the close question
    waiting for an answer."""
    window = MainWindow()  # not qtbot.addWidget: it would close the window first
    window.show()
    window.open_library(library)
    yield window
    window.record_view.stop_and_wait(30)
    qtbot.waitUntil(lambda: not window.record_view.recording, timeout=5_000)
    window.close()


def click(qtbot, widget):
    qtbot.mouseClick(widget, LEFT)


def answer_next_dialog(qtbot, button_text, seen):
    """Click ``button_text`` in the next modal dialog, as a person would (the dialog blocks
    in its own event loop; the click comes from a timer)."""

    def try_click():
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, QMessageBox):
            seen.append(dialog.text())
            [button] = [b for b in dialog.findChildren(QAbstractButton) if b.text() == button_text]
            qtbot.mouseClick(button, LEFT)
        else:
            QTimer.singleShot(50, try_click)

    QTimer.singleShot(50, try_click)


def stored_recordings(folder):
    library = Library(folder)
    user = library.unlock("pat", PASSPHRASE, sleep=lambda _: None)
    case = open_case(user, list_cases(user)[0].id)
    import json

    return [json.loads(r[0]) for r in case.db.execute("SELECT info FROM media").fetchall()]


def start_recording(qtbot, window):
    window.case_view.new_recording_session("Play with blocks 2")
    record = window.record_view
    # the session is made by an operation on the case's queue; the record page follows it
    qtbot.waitUntil(
        lambda: window.stack.currentWidget() is record and bool(record.session_id), timeout=10_000
    )
    click(qtbot, record.start_stop)
    qtbot.waitUntil(lambda: record.recorder is not None, timeout=10_000)
    qtbot.waitUntil(lambda: record.timer.text() == "00:01", timeout=10_000)
    return record


# --- finding 1: a recording never runs unseen ---------------------------------------------


def test_walkthrough_a_recording_never_runs_unseen(qtbot, window, library):
    unlock(qtbot, window)
    open_first_case(qtbot, window)
    record = start_recording(qtbot, window)
    indicator = window.rec_indicator
    assert indicator.isVisible() and indicator.text().startswith("● REC 00:0")

    seen: list[str] = []
    answer_next_dialog(qtbot, "Keep recording", seen)
    click(qtbot, record.back_button)  # "Back to the case"
    assert seen == ["Stop and save the recording?"]
    assert window.stack.currentWidget() is record and record.recorder is not None

    click(qtbot, record.start_stop)  # a second Start is a Stop: never a second recorder
    qtbot.waitUntil(lambda: not record.recording, timeout=30_000)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.review_view, timeout=30_000)
    qtbot.waitUntil(lambda: window.review_view.notes is not None, timeout=30_000)
    qtbot.waitUntil(lambda: not indicator.isVisible(), timeout=1_000)
    window.review_view.close_media()

    record = start_recording(qtbot, window)  # again, and leave by "Back", saying yes
    record.start()  # Start once more (by code, as the old Start under the timer did)
    assert len([j for j in window.jobs.running if j.title == "Recording"]) == 1
    answer_next_dialog(qtbot, "Stop and save", seen)
    click(qtbot, record.back_button)
    assert window.stack.currentWidget() is window.case_view
    assert indicator.isVisible()  # on the case page too, until it is sealed
    qtbot.waitUntil(lambda: not record.recording, timeout=30_000)
    qtbot.waitUntil(lambda: not indicator.isVisible(), timeout=1_000)  # the toolbar's relayout
    assert window.stack.currentWidget() is window.case_view

    record = start_recording(qtbot, window)  # locking stops and seals without a question
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentWidget() is window.unlock_view
    qtbot.waitUntil(lambda: not record.recording, timeout=30_000)
    assert len(seen) == 2
    states = [info["state"] for info in stored_recordings(library) if "fps" in info]
    assert states == ["sealed"] * 4  # the demo's own recording and the three made here


def test_walkthrough_closing_while_recording_asks_then_seals(qtbot, library):
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    window.open_library(library)
    unlock(qtbot, window)
    open_first_case(qtbot, window)
    record = start_recording(qtbot, window)
    seen: list[str] = []
    answer_next_dialog(qtbot, "Keep recording", seen)
    window.close()
    assert window.isVisible() and record.recording  # "keep recording" keeps the window
    answer_next_dialog(qtbot, "Stop and save", seen)
    window.close()
    assert seen == ["Stop and save the recording?"] * 2
    assert not window.isVisible()
    states = [info["state"] for info in stored_recordings(library) if "fps" in info]
    assert states == ["sealed", "sealed"]


KILLED = textwrap.dedent("""
    import sys
    from datetime import date
    from fractions import Fraction
    from pathlib import Path
    from clips.synthetic import SyntheticSource
    from videofeedback import media
    from videofeedback.library import Library, list_cases, open_case
    from videofeedback.library.cases import SessionKind
    library = Library.open(Path(sys.argv[1]))
    user = library.unlock("pat", "pat-demo-passphrase", sleep=lambda _: None)
    case = open_case(user, list_cases(user)[0].id)
    session = case.sessions.new(SessionKind.RECORDING, date.today(), "Cut short")
    case.save()
    print("recording", flush=True)
    media.record(case, session, SyntheticSource(640, 360), Fraction(60))
""")


def _killed_recording(folder: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED, str(folder)],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": fast_scrypt.child_pythonpath(str(REPO))},
        text=True,
    )
    assert child.stdout.readline().strip() == "recording"
    time.sleep(4)  # a few fragments are on disk
    child.send_signal(signal.SIGKILL)
    child.wait()


@pytest.mark.slow
def test_walkthrough_an_unfinished_recording_is_sealed_at_next_start(qtbot, library):
    _killed_recording(library)
    assert list((library / "cases").rglob("*.partial"))
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    window.open_library(library)
    unlock(qtbot, window)
    open_first_case(qtbot, window)

    def details():
        tree = window.case_view.sessions
        return [
            tree.topLevelItem(i).child(c).text(2)
            for i in range(tree.topLevelItemCount())
            for c in range(tree.topLevelItem(i).childCount())
        ]

    qtbot.waitUntil(lambda: any("recovered" in text for text in details()), timeout=30_000)
    [recovered] = [text for text in details() if "recovered" in text]
    assert not recovered.startswith("0 min 0 s"), recovered
    assert "unfinished recording was found and sealed" in window.statusBar().currentMessage()
    assert not list((library / "cases").rglob("*.partial"))
    window.close()


# --- finding 2: typing the parent's words never presses a button ---------------------------


def _shared_review(qtbot, window):
    from tests.ui.test_review_and_supervision import _reel

    unlock(qtbot, window)
    open_first_case(qtbot, window)
    _review, reel = _reel(qtbot, window)
    click(qtbot, reel.share_button)
    shared = shared_review_of(qtbot, window)
    qtbot.waitUntil(lambda: shared.counter.text() == "1 of 2", timeout=10_000)
    return shared


def parent_words(folder):
    library = Library(folder)
    user = library.unlock("pat", PASSPHRASE, sleep=lambda _: None)
    case = open_case(user, list_cases(user)[0].id)
    return [r[0] for r in case.db.execute("SELECT text FROM parent_words").fetchall()]


def test_walkthrough_typing_the_parents_words_never_presses_a_button(qtbot, window, library):
    shared = _shared_review(qtbot, window)
    words = shared.words
    hint = shared.minimumSizeHint()  # fits a 1280×720 screen at 150 %: 853×480 points
    assert hint.width() <= 853 and hint.height() <= 480, hint
    click(qtbot, words.viewport())
    assert QApplication.focusWidget() is words
    qtbot.keyClicks(QApplication.focusWidget(), "I saw her looking back at me")
    click(qtbot, shared.buttons["next"])
    assert shared.counter.text() == "2 of 2"
    assert QApplication.focusWidget() is words  # the cursor is back in the words box
    assert shared.dots.text() == "✔ ●"  # item dots: words kept for the first, on the second

    seen: list[str] = []
    answer_next_dialog(qtbot, "Stay and write", seen)
    click(qtbot, shared.buttons["next"])  # "Finish" with nothing written: asked first
    assert seen == ["Nothing is written for this moment. Go on without the parent's words?"]
    assert shared.counter.text() == "2 of 2"
    qtbot.waitUntil(lambda: QApplication.focusWidget() is words, timeout=2_000)  # reactivated
    qtbot.keyClicks(QApplication.focusWidget(), "Waiting was hard ")  # spaces: no button
    for button in ("replay", "slower"):
        click(qtbot, shared.buttons[button])
        assert QApplication.focusWidget() is words
    qtbot.keyClicks(QApplication.focusWidget(), "but she showed me")
    assert shared.counter.text() == "2 of 2"
    assert words.toPlainText() == "Waiting was hard but she showed me"

    click(qtbot, shared.buttons["previous"])  # "◀ Previous": the first item's words are back
    assert (
        shared.counter.text() == "1 of 2" and words.toPlainText() == "I saw her looking back at me"
    )
    assert QApplication.focusWidget() is words
    click(qtbot, shared.buttons["next"])
    assert words.toPlainText() == "Waiting was hard but she showed me"
    click(qtbot, shared.buttons["next"])  # Finish
    assert shared.caption.text() == "Thank you."
    assert shared.prompt.text() == "The parent's words are saved for 2 of 2 moments."
    shared.resize(853, 480)
    hint = shared.minimumSizeHint()  # with the texts shown too
    assert hint.width() <= 853 and hint.height() <= 480, hint
    assert sorted(parent_words(library)) == [
        "I saw her looking back at me",
        "Waiting was hard but she showed me",
    ]
    shared.try_leave(PASSPHRASE)
    qtbot.waitUntil(lambda: not shared.isVisible(), timeout=15_000)


# --- finding 4: the shared review never shows footage nobody picked ------------------------


def test_walkthrough_the_shared_review_shows_only_the_chosen_moments(qtbot, window, monkeypatch):
    from tests.ui.helpers import frame_number
    from ui.player import VideoView

    shown: list[tuple[object, int]] = []
    real_show = VideoView.show_image

    def watched(view, image):
        shown.append((view, frame_number(image)))
        real_show(view, image)

    monkeypatch.setattr(VideoView, "show_image", watched)
    shared = _shared_review(qtbot, window)
    first = shared.items[0]
    qtbot.waitUntil(lambda: shared.caption.text() != "", timeout=20_000)  # played to its end
    click(qtbot, words_box := shared.words)
    qtbot.keyClicks(words_box, "She looked")
    click(qtbot, shared.buttons["next"])
    second = shared.items[1]
    qtbot.waitUntil(lambda: shared.caption.text() != "", timeout=20_000)
    frames = [frame for view, frame in shown if view is shared.video]
    allowed = set()
    for item in (first, second):
        allowed |= set(range(int(item.start * 30), int(item.end * 30) + 2))
    assert frames and set(frames) <= allowed, sorted(set(frames) - allowed)[:10]
    assert frames[0] == int(first.start * 30)  # the very first picture is the item's first frame
    shared.try_leave(PASSPHRASE)
    qtbot.waitUntil(lambda: not shared.isVisible(), timeout=15_000)


# --- finding 3: the private note and the caption are kept as you type -----------------------


def _click_moment(qtbot, review, row):
    moments = review.moment_list
    rect = moments.visualItemRect(moments.item(row))
    qtbot.mouseClick(moments.viewport(), LEFT, pos=rect.center())
    return review.notes.annotations.moment(moments.item(row).data(Qt.ItemDataRole.UserRole))


def test_walkthrough_the_private_note_is_kept_as_you_type(qtbot, window, library):
    from tests.ui.conftest import open_review

    unlock(qtbot, window)
    open_first_case(qtbot, window)
    review = open_review(qtbot, window)
    editor = review.editor
    moment = _click_moment(qtbot, review, 0)
    assert review.selected == moment.id

    click(qtbot, editor.note.viewport())
    qtbot.keyClicks(QApplication.focusWidget(), "Mum tired today")
    typing = getattr(editor, "saved", editor.title).text()  # read before the note's fate
    click(qtbot, review.video)  # back to the player's keys…
    assert QApplication.focusWidget() is review
    qtbot.keyClick(review, Qt.Key.Key_S)  # …and a still: the note is not lost
    model = review.notes.annotations
    assert len(model.stills) == 1  # the small demo has none of its own
    assert model.moment(moment.id).note == "Mum tired today"
    assert editor.note.toPlainText() == "Mum tired today"
    assert (typing, editor.saved.text()) == ("Saving…", "✔ Saved")  # it shows it is saved

    click(qtbot, editor.note.viewport())  # typing, then a pause: kept without leaving the box
    qtbot.keyClicks(QApplication.focusWidget(), ", but warm")
    qtbot.waitUntil(
        lambda: model.moment(moment.id).note == "Mum tired today, but warm", timeout=3_000
    )
    assert editor.saved.text() == "✔ Saved" and QApplication.focusWidget() is editor.note

    click(qtbot, editor.caption.viewport())  # the caption too, and a code key straight after
    editor.caption.selectAll()
    qtbot.keyClicks(QApplication.focusWidget(), "You held her gaze")
    qtbot.waitUntil(lambda: model.moment(moment.id).caption == "You held her gaze", timeout=3_000)
    click(qtbot, review.video)
    qtbot.keyClick(review, Qt.Key.Key_2)
    assert model.moment(moment.id).caption == "You held her gaze"

    ctrl = Qt.KeyboardModifier.ControlModifier  # part of undo: code, caption, note, still
    qtbot.keyClick(review, Qt.Key.Key_Z, ctrl)
    qtbot.keyClick(review, Qt.Key.Key_Z, ctrl)
    assert model.moment(moment.id).caption == moment.caption
    assert editor.caption.toPlainText() == moment.caption
    qtbot.keyClick(review, Qt.Key.Key_Z, ctrl)
    assert model.moment(moment.id).note == "Mum tired today"
    assert editor.note.toPlainText() == "Mum tired today"
    review.close_media()


# --- finding 5: a supervisor cannot change the practitioner's moments -----------------------


def test_may_edit_is_the_models_rule_for_a_supervisor(library):
    from annotations.errors import AnnotationError
    from videofeedback.library.annotating import open_annotations

    lib = Library(library)
    sam = lib.unlock("sam", "sam-demo-passphrase", sleep=lambda _: None)
    case = open_case(sam, list_cases(sam)[0].id)
    media_id = case.db.execute("SELECT id FROM media WHERE kind = 'recording'").fetchone()[0]
    notes = open_annotations(case, media_id)
    theirs = notes.annotations.moments[0]
    assert theirs.coder == "pat" and not notes.may_edit(theirs.id)
    with pytest.raises(AnnotationError, match="was coded by pat"):
        notes.require_change(theirs.id)
    mine = notes.editor.add_moment(theirs.start, theirs.end, theirs.codes)
    assert notes.may_edit(mine.id)


def test_walkthrough_a_supervisor_cannot_type_into_the_practitioners_moment(qtbot, window):
    from tests.ui.conftest import open_review

    unlock(qtbot, window, "sam", "sam-demo-passphrase")
    open_first_case(qtbot, window)
    review = open_review(qtbot, window)
    editor = review.editor
    theirs = _click_moment(qtbot, review, 0)
    assert theirs.coder == "pat"
    click(qtbot, editor.caption.viewport())
    qtbot.keyClicks(QApplication.focusWidget(), " and more")
    click(qtbot, editor.note.viewport())
    qtbot.keyClicks(QApplication.focusWidget(), "sam was here")
    assert editor.caption.toPlainText() == theirs.caption and editor.note.toPlainText() == ""
    click(qtbot, review.video)  # leaving the boxes keeps nothing and claims nothing
    assert not editor.delete.isEnabled() and editor.saved.text() == ""
    assert editor.badge.isVisible() and "coded by pat" in editor.badge.text()
    chips = editor.codes.chips  # the palette is read-only too: no ✕ on the codes
    assert [chips.item(0).text()] == ["Looking interested, friendly posture"]
    assert not [w.text() for w in review.findChildren(QMessageBox) if w.isVisible()]  # no keys leak
    assert review.notes.annotations.moment(theirs.id) == theirs

    click(qtbot, review.video)
    qtbot.keyClick(review, Qt.Key.Key_Escape)
    review.player.seek(theirs.start)
    qtbot.waitUntil(lambda: review.player.frame() == int(theirs.start * 30), timeout=5_000)
    qtbot.keyClick(review, Qt.Key.Key_1)  # sam's own moment: editable, no badge
    assert editor.moment.coder == "sam" and editor.delete.isEnabled()
    assert not editor.caption.isReadOnly() and not editor.badge.isVisible()
    review.close_media()


# --- issue 14, item 3: the first run shows the window at once -------------------------------


def test_walkthrough_first_run_shows_the_window_before_the_demo_is_built(
    qtbot, tmp_path, monkeypatch
):
    import videofeedback.demo as demo
    from ui import main as launcher

    monkeypatch.setattr(demo, "RECORDING_SECONDS", 6)  # the real one takes a minute
    folder = tmp_path / "demo"
    seen: dict[str, object] = {}

    def run_event_loop(app):
        shown = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        window = [w for w in shown if w.isVisible()][-1]  # earlier tests' windows are closed
        seen["at once"] = (
            window.isVisible(),
            [job.title for job in window.jobs.running],
            demo.is_demo(folder),
            window.job_progress.isVisible(),
            window.unlock_view.unlock_button.isEnabled(),
        )
        seen["telling"] = window.unlock_view.demo.text()
        qtbot.waitUntil(lambda: window.state.library is not None, timeout=120_000)
        seen["ready"] = window.unlock_view.demo.text()
        unlock(qtbot, window)
        window.close()
        return 0

    monkeypatch.setattr(QApplication, "exec", run_event_loop)
    assert launcher.main(["demo", "--library", str(folder)]) == 0
    assert seen["at once"] == (True, ["Building the demo library"], False, True, False)
    assert "Preparing the demo library" in seen["telling"]
    assert "pat-demo-passphrase" in seen["ready"] and demo.is_demo(folder)


# --- issue 14, item 4: every view fits a laptop's screen ------------------------------------

LAPTOP = (1280, 720)


def test_walkthrough_every_view_fits_a_laptop_screen(qtbot, window):
    from PySide6.QtWidgets import QScrollArea

    window.resize(*LAPTOP)
    assert window.minimumSizeHint().width() <= LAPTOP[0], "the window is wider than the screen"
    room = window.stack.size()  # the window less its toolbar and status bar
    too_big = {}
    for index in range(window.stack.count()):
        area = window.stack.widget(index)
        assert isinstance(area, QScrollArea)  # smaller screens and 150 % scroll, never clip
        hint = area.widget().minimumSizeHint()
        if hint.width() > room.width() or hint.height() > room.height():
            too_big[type(area.widget()).__name__] = (hint.width(), hint.height())
    assert not too_big, f"views larger than {room.width()}×{room.height()}: {too_big}"
    small = window.minimumSize()  # honest: at 150 % a 1280×720 screen has 853×480 points
    assert small.width() <= LAPTOP[0] / 1.5 and small.height() <= LAPTOP[1] / 1.5


# 1280×720 and 1366×768 at 100 %, 125 % and 150 %: in points, the screen is its pixels over
# the scale (1366×768 at 150 % is 911×512). No view may need more width than that (it would
# scroll sideways); at 125 % and 150 % a view may scroll up and down.
SCREENS = [(1280, 720), (1366, 768)]
SCALES = [1.0, 1.25, 1.5]


def test_walkthrough_no_view_scrolls_sideways_at_125_and_150_percent(qtbot, window):
    from PySide6.QtWidgets import QStyle

    from tests.ui.conftest import open_review

    unlock(qtbot, window)
    open_first_case(qtbot, window)
    supervision = window.case_view.supervision  # its audit trail's verdict, its lists
    qtbot.waitUntil(lambda: supervision.audit.text() != "", timeout=30_000)
    open_review(qtbot, window)  # the views filled: a case, a recording with its moments
    scrollbar = QApplication.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
    too_wide, too_high = {}, {}
    for width, height in SCREENS:
        for scale in SCALES:
            room = (int(width / scale), int(height / scale))
            window.resize(*room)
            chrome = window.size() - window.stack.size()  # toolbar and status bar
            view_room = (room[0] - chrome.width(), room[1] - chrome.height())
            assert window.minimumSize().width() <= room[0]
            assert window.minimumSize().height() <= room[1]
            for index in range(window.stack.count()):
                view = window.stack.widget(index).widget()
                hint, name = view.minimumSizeHint(), f"{type(view).__name__} {width}×{height} {scale:.0%}"
                fits_high = hint.height() <= view_room[1]
                if hint.width() > view_room[0] - (0 if fits_high else scrollbar):
                    too_wide[name] = (hint.width(), view_room[0])
                if scale == 1.0 and not fits_high:
                    too_high[name] = (hint.height(), view_room[1])
    assert not too_wide, f"views that would scroll sideways (needed, room): {too_wide}"
    assert not too_high, f"views that would scroll at 100 % (needed, room): {too_high}"
    _long_items_are_elided_with_their_whole_text_as_tooltip(window.review_view.moment_list)
    window.review_view.close_media()


def _long_items_are_elided_with_their_whole_text_as_tooltip(items):
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QToolTip

    assert items.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    assert items.textElideMode() == Qt.TextElideMode.ElideRight
    where = items.visualItemRect(items.item(0)).center()
    shown = items.viewport().mapToGlobal(where)
    QApplication.sendEvent(items.viewport(), QHelpEvent(QEvent.Type.ToolTip, where, shown))
    assert QToolTip.isVisible() and QToolTip.text() == items.item(0).text()
    QToolTip.hideText()


def test_walkthrough_a_long_library_path_is_elided_with_a_tooltip(qtbot, tmp_path, small_demo):
    import shutil

    folder = tmp_path / ("a-very-long-folder-name-for-the-social-work-team-" * 4) / "library"
    shutil.copytree(small_demo, folder)
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    window.open_library(folder)
    label = window.unlock_view.folder
    assert "…" in label.text() and label.toolTip() == str(folder)
    assert window.unlock_view.minimumSizeHint().width() <= LAPTOP[0]
    window.close()


# --- finding 9: the supervisor's view ------------------------------------------------------


def _audit_rows(panel):
    table = panel.trail.table
    return [
        tuple(table.item(row, column).text() for column in range(table.columnCount()))
        for row in range(table.rowCount())
    ]


def _family_copy(qtbot, window, out, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    view = window.case_view
    view.sessions.setCurrentItem(view.sessions.topLevelItem(0).child(0))
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: QMessageBox.StandardButton.Ok)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    click(qtbot, view.buttons["family"])
    qtbot.waitUntil(lambda: out.exists() and not window.jobs.running, timeout=30_000)
    qtbot.waitUntil(lambda: view.export_done.isVisible(), timeout=5_000)
    view.export_done.close()  # "Written to …": a person closes the note


def test_walkthrough_the_supervisor_sees_who_did_what_when(qtbot, window, tmp_path, monkeypatch):
    window.resize(1366, 768)  # the walkthrough's screen
    unlock(qtbot, window)
    open_first_case(qtbot, window)
    panel = window.case_view.supervision
    window.case_view.show_page(panel)
    qtbot.waitUntil(lambda: panel.trail.table.rowCount() > 0, timeout=30_000)
    window.resize(1280, 720)  # and back: laid out afresh with the table in it
    window.resize(1366, 768)
    page = window.case_view.parentWidget().parentWidget()  # its scroll area
    bar = page.verticalScrollBar()  # the table is on screen, not below the fold
    qtbot.waitUntil(lambda: bar.maximum() == 0 and not bar.isVisible(), timeout=2_000)
    assert window.case_view.height() == page.viewport().height()
    assert panel.trail.table.visibleRegion().boundingRect().height() >= 60
    before = len(panel.trail.entries)
    assert panel.audit.text().startswith(f"✔ The audit trail is valid: {before} entries")

    _family_copy(qtbot, window, tmp_path / "family.mp4", monkeypatch)  # no Verify pressed:
    qtbot.waitUntil(lambda: _audit_rows(panel)[0][2] == "media.export", timeout=30_000)
    count = len(panel.trail.entries)  # the export's entries are at the top, and counted
    assert count > before and f"valid: {count} entries" in panel.audit.text()
    when, who, _what, _on, details = _audit_rows(panel)[0]
    assert who == "pat" and when.startswith(time.strftime("%Y-%m-%d", time.gmtime()))
    assert "export" in details
    # hidden, it reads the trail when shown again
    window.case_view.show_page(window.case_view.goals)
    _family_copy(qtbot, window, tmp_path / "again.mp4", monkeypatch)
    assert len(panel.trail.entries) == count
    window.case_view.show_page(panel)
    qtbot.waitUntil(lambda: len(panel.trail.entries) > count, timeout=30_000)
    count = len(panel.trail.entries)
    assert f"valid: {count} entries" in panel.audit.text()

    window.lock_action.trigger()  # the supervisor's turn
    unlock(qtbot, window, "sam", "sam-demo-passphrase")
    open_first_case(qtbot, window)
    panel = window.case_view.supervision
    window.case_view.show_page(panel)
    qtbot.waitUntil(lambda: len(panel.trail.entries) > count, timeout=30_000)  # sam's opening
    assert _audit_rows(panel)[0][1:3] == ("sam", "case.open")

    users = panel.trail.user  # by user: chosen with the keyboard, as a person does
    click(qtbot, users)  # the list opens; typing picks, Enter chooses
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is not None, timeout=2_000)
    qtbot.keyClicks(QApplication.focusWidget(), "pat")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    assert users.currentText() == "pat"
    rows = _audit_rows(panel)
    assert rows and {row[1] for row in rows} == {"pat"}
    window.activateWindow()  # a click on the window activates it (QTest's does not)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2_000)
    click(qtbot, panel.trail.text)  # by text
    qtbot.keyClicks(QApplication.focusWidget(), "EXPORT")
    rows = _audit_rows(panel)
    assert {row[2] for row in rows} == {"export.start", "media.export"}, rows
    actions = panel.trail.action  # by action
    actions.setCurrentIndex(actions.findText("media.export"))
    actions.activated.emit(actions.currentIndex())
    assert [row[2] for row in _audit_rows(panel)] == ["media.export"] * 2  # the two copies


def _code_at(qtbot, review, seconds, key):
    from fractions import Fraction

    review.player.seek(Fraction(seconds))
    qtbot.waitUntil(lambda: review.player.frame() == seconds * 30, timeout=5_000)
    qtbot.keyClick(review, Qt.Key.Key_Escape)
    qtbot.keyClick(review, key)


def test_walkthrough_the_supervisor_codes_compares_and_comments(qtbot, window):
    from tests.ui.conftest import open_review
    from ui.timeline import HEIGHT, LANE, MOMENTS, RULER, STRIP, WAVE

    unlock(qtbot, window, "sam", "sam-demo-passphrase")
    open_first_case(qtbot, window)
    review = open_review(qtbot, window)
    timeline = review.timeline
    assert timeline.lanes == [] and timeline.minimumHeight() == HEIGHT  # one coder: one lane
    click(qtbot, review.video)
    _code_at(qtbot, review, 8, Qt.Key.Key_1)  # sam agrees: attentive from 8 s
    _code_at(qtbot, review, 15, Qt.Key.Key_4)  # and sees attuned where pat saw nothing
    # one labelled row per coder, at once (not only after "Compare coding…")
    assert timeline.lanes == ["pat", "sam"]
    assert timeline.minimumHeight() == RULER + STRIP + WAVE + max(MOMENTS, 2 * LANE + 4)
    pats = [m for m in review.notes.annotations.moments if m.coder == "pat"]
    sams = [m for m in review.notes.annotations.moments if m.coder == "sam"]
    assert timeline.moment_rect(pats[0]).bottom() <= timeline.moment_rect(sams[0]).top()
    image = timeline.grab().toImage()  # the lane's name is painted at the left, white on dark
    row = timeline.moment_rect(sams[0]).center().y()
    names = [image.pixelColor(x, int(row)) for x in range(4, 40)]
    assert any(c.lightness() > 200 for c in names) and any(c.lightness() < 60 for c in names)

    click(qtbot, review.compare_button)  # kappa rows in principle order (1–6), not A–Z
    table = review.agreement.table
    labels = [table.item(row, 0).text() for row in range(table.rowCount())]
    assert labels == [
        "Being attentive",
        "Encouraging initiatives",
        "Developing attuned interactions",
    ]
    review.agreement.close()

    review.select(pats[0].id)
    click(qtbot, review.comment_text)  # Enter posts the comment; it is dated
    qtbot.keyClicks(QApplication.focusWidget(), "Lovely example of following her lead")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: review.comments.count() == 1, timeout=10_000)
    today = time.strftime("%Y-%m-%d", time.gmtime())
    text = review.comments.item(0).text()
    assert text.startswith(today) and text.endswith("sam: Lovely example of following her lead")
    assert review.comment_text.text() == ""
    review.close_media()
    panel = window.case_view.supervision
    qtbot.waitUntil(lambda: panel.comments.count() == 1, timeout=10_000)
    assert panel.comments.item(0).text().startswith(today + " ")
    assert len(panel.comments.item(0).text().split()[1]) == 5  # the time too: "10:20"


# --- finding 10: coding comfort -------------------------------------------------------------


def _close_next_message(qtbot, seen):
    def try_close():
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, QMessageBox):
            seen.append(dialog.text())
            qtbot.mouseClick(dialog.button(QMessageBox.StandardButton.Ok), LEFT)
        else:
            QTimer.singleShot(50, try_close)

    QTimer.singleShot(50, try_close)


def test_walkthrough_the_cursor_goes_back_to_the_passphrase(qtbot, window):
    view = window.unlock_view
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is view.passphrase, timeout=2_000)
    click(qtbot, view.user)  # choosing a user puts the cursor in the passphrase
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is not None, timeout=2_000)
    qtbot.keyClicks(QApplication.focusWidget(), "sam")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    assert view.user.currentText() == "sam"
    assert QApplication.focusWidget() is view.passphrase
    qtbot.keyClicks(QApplication.focusWidget(), "sam-wrong-guess")
    seen: list[str] = []
    _close_next_message(qtbot, seen)
    click(qtbot, view.unlock_button)
    qtbot.waitUntil(lambda: bool(seen), timeout=30_000)
    window.activateWindow()  # the message closed: the window is active again (as a WM does)
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is view.passphrase, timeout=2_000)
    assert view.passphrase.selectedText() == "sam-wrong-guess"  # typing again replaces it
    qtbot.keyClicks(QApplication.focusWidget(), "sam-demo-passphrase")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.cases_view, timeout=30_000)


def test_walkthrough_coding_with_the_palette_and_a_long_caption(qtbot, window):
    from tests.ui.conftest import open_review

    unlock(qtbot, window)
    open_first_case(qtbot, window)
    review = open_review(qtbot, window)
    editor, model = review.editor, review.notes.annotations
    palette = editor.codes
    before = palette.buttons["guiding"].mapTo(window, palette.buttons["guiding"].rect().center())
    moment = _click_moment(qtbot, review, 0)  # pat's "Looking interested" (a finer code)
    after = palette.buttons["guiding"].mapTo(window, palette.buttons["guiding"].rect().center())
    assert after == before  # nothing moves under the mouse when the chips show
    assert palette.chip_codes() == ["attentive.looking"]  # the ticked code, shown as a chip
    checked = [name for name, button in palette.buttons.items() if button.isChecked()]
    assert checked == ["attentive"] and len(palette.buttons) == 6
    assert [b.text()[0] for b in palette.buttons.values()] == list("123456")
    for button in palette.buttons.values():  # all six in sight, no scrolling
        assert button.isVisible() and not button.visibleRegion().isEmpty()

    click(qtbot, review.video)
    assert QApplication.focusWidget() is review
    click(qtbot, palette.buttons["guiding"])  # 5: Guiding
    assert model.moment(moment.id).codes == ("attentive.looking", "guiding")
    assert palette.chip_codes() == ["attentive.looking", "guiding"]
    assert palette.buttons["guiding"].isChecked()
    assert QApplication.focusWidget() is review  # the review's keys still work
    chips = palette.chips
    rect = chips.visualItemRect(chips.item(0))
    qtbot.mouseClick(chips.viewport(), LEFT, pos=rect.center())  # a chip's click unticks it
    assert model.moment(moment.id).codes == ("guiding",)
    assert palette.chip_codes() == ["guiding"] and not palette.buttons["attentive"].isChecked()

    click(qtbot, editor.caption.viewport())  # a caption of two lines
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(QApplication.focusWidget(), "You waited.")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    qtbot.keyClicks(QApplication.focusWidget(), "She showed you the block.")
    two_lines = "You waited.\nShe showed you the block."
    qtbot.waitUntil(lambda: model.moment(moment.id).caption == two_lines, timeout=3_000)
    assert editor.saved.text() == "✔ Saved"
    click(qtbot, review.video)
    qtbot.keyClick(review, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undoable
    assert model.moment(moment.id).caption == moment.caption
    assert editor.caption.toPlainText() == moment.caption
    review.close_media()


def test_walkthrough_the_zoomed_timeline_scrolls_and_tells_whole_labels(qtbot, window):
    from PySide6.QtCore import QPoint

    from tests.ui.conftest import open_review

    window.resize(1366, 768)  # the walkthrough's screen
    unlock(qtbot, window)
    open_first_case(qtbot, window)
    review = open_review(qtbot, window)
    timeline, bar = review.timeline, review.zoom_bar
    assert not bar.scrollbar.isEnabled() and bar.level.text() == "×1"  # the whole session fits
    for _ in range(3):
        click(qtbot, bar.buttons["in"])
    assert bar.level.text() == "×8" and bar.scrollbar.isEnabled()
    assert bar.scrollbar.pageStep() == int(timeline.visible_seconds() * 1000)
    second = review.notes.annotations.in_time_order()[1]  # 22–29 s: not in view at ×8

    def in_view():
        return (
            0 <= timeline.x_of(second.start) and timeline.x_of(second.start) + 30 < timeline.width()
        )

    groove = QPoint(bar.scrollbar.width() - 30, bar.scrollbar.height() // 2)
    for _ in range(20):  # a page at a time, by clicks in the scrollbar's groove
        if in_view():
            break
        before = timeline.offset
        qtbot.mouseClick(bar.scrollbar, LEFT, pos=groove)
        assert timeline.offset > before and bar.scrollbar.value() == int(timeline.offset * 1000)
    assert in_view()

    rect = timeline.moment_rect(second)
    over = QPoint(int(rect.left()) + 20, int(rect.center().y()))
    qtbot.mouseMove(timeline, over)  # hovering tells the whole moment
    qtbot.waitUntil(lambda: "Encouraging" in timeline.toolTip(), timeout=2_000)
    tip = timeline.toolTip()
    assert "Waiting" in tip and "coded by pat" in tip and second.caption in tip
    qtbot.mouseMove(timeline, QPoint(int(rect.left()) - 40, 5))  # the ruler: nothing to tell
    qtbot.waitUntil(lambda: timeline.toolTip() == "", timeout=2_000)
    click(qtbot, bar.buttons["fit"])
    assert bar.level.text() == "×1" and not bar.scrollbar.isEnabled()
    review.close_media()


def test_walkthrough_the_shot_is_framed_before_start(qtbot, window):
    from tests.ui.helpers import frame_number

    unlock(qtbot, window)
    open_first_case(qtbot, window)
    click(qtbot, window.case_view.buttons["new"])  # asks for a title: the default will do
    qtbot.waitUntil(lambda: isinstance(QApplication.focusWidget(), QLineEdit), timeout=5_000)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    record = window.record_view
    qtbot.waitUntil(
        lambda: window.stack.currentWidget() is record and bool(record.session_id), timeout=10_000
    )
    assert record.start_stop.text() == "● Start recording" and not record.recording
    seen: set[int] = set()

    def live():  # the source's picture, moving, before Start
        if not record.video.image.isNull():
            seen.add(frame_number(record.video.image))
        return len(seen) >= 2

    qtbot.waitUntil(live, timeout=10_000)
    assert record.framing.running
    click(qtbot, record.back_button)  # leaving closes the camera
    assert window.stack.currentWidget() is window.case_view
    qtbot.waitUntil(lambda: not record.framing.running, timeout=5_000)


# --- finding 6: sessions are called by their titles -----------------------------------------


def _as_pat(folder):
    user = Library(folder).unlock("pat", PASSPHRASE, sleep=lambda _: None)
    return open_case(user, list_cases(user)[0].id)


def _stored_review(folder, words=(), captions=None):
    """As pat, outside the app: a reel of the demo's film (a record only: nothing plays it),
    a shared review of it with the parent's words, and a second film, "Bath time"."""
    from videofeedback.library.annotating import open_annotations
    from videofeedback.library.cases import SessionKind

    case = _as_pat(folder)
    [film] = [s for s in case.sessions.all() if s.kind == "recording"]
    recording = case.db.execute("SELECT id FROM media WHERE kind = 'recording'").fetchone()[0]
    moments = open_annotations(case, recording).annotations.in_time_order()
    refs = [m.id for m in moments]
    builder = {
        "recording": recording,
        "order": refs,
        "edits": {ref: {"caption": text} for ref, text in (captions or {}).items()},
    }
    info = {"draft": False, "duration": "9", "items": refs, "builder": builder}
    reel = case.media.add(film.id, "reel", "media/m-none.mp4.age", info)
    review = case.sessions.new(SessionKind.REVIEW, date.today(), title="Shared review", reel=reel)
    for ref, text in words:
        case.sessions.add_parent_words(review, ref, text)
    bath = case.sessions.new(SessionKind.RECORDING, date.today(), title="Bath time")
    case.save()
    return film, review, bath, moments


def tree_texts(view):
    tree = view.sessions
    texts = []
    for index in range(tree.topLevelItemCount()):
        top = tree.topLevelItem(index)
        texts.append([top.text(c) for c in range(3)])
        texts += [[top.child(i).text(c) for c in range(3)] for i in range(top.childCount())]
    return texts


def session_item(view, title):
    tree = view.sessions
    for index in range(tree.topLevelItemCount()):
        if tree.topLevelItem(index).text(0) == title:
            return tree.topLevelItem(index)
    raise AssertionError(f"no session {title!r} in {tree_texts(view)}")


def click_item(qtbot, tree, item):
    tree.scrollToItem(item)
    qtbot.mouseClick(tree.viewport(), LEFT, pos=tree.visualItemRect(item).center())
    assert tree.currentItem() is item


def test_walkthrough_sessions_are_called_by_their_titles(qtbot, window, library, monkeypatch):
    from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit

    _stored_review(library)
    unlock(qtbot, window)
    open_first_case(qtbot, window)
    view = window.case_view
    window.activateWindow()
    click(qtbot, view.buttons["new"])  # "New recording session" asks for its title
    dialog = view.title_dialog
    qtbot.waitUntil(lambda: isinstance(QApplication.focusWidget(), QLineEdit), timeout=5_000)
    assert isinstance(dialog, QInputDialog) and dialog.isVisible()
    assert QApplication.focusWidget().selectedText() == "Play with blocks 2"  # a default
    qtbot.keyClicks(QApplication.focusWidget(), "Story time")  # typing replaces it
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    record = window.record_view
    qtbot.waitUntil(lambda: window.stack.currentWidget() is record, timeout=10_000)
    assert window.case.sessions.title(record.session_id) == "Story time"
    click(qtbot, record.back_button)
    assert window.stack.currentWidget() is view

    def titles():
        return sorted(row[0] for row in tree_texts(view) if row[1] in ("recording", "review"))

    expected = ["Bath time", "Play with blocks", "Shared review", "Story time"]
    qtbot.waitUntil(lambda: titles() == expected, timeout=10_000)  # read in the case's queue
    texts = tree_texts(view)
    assert not [t for row in texts for t in row if t.startswith(("s-", "m-"))], texts

    asked = []  # exports' default names: the family, the title and the date; safe anywhere
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: QMessageBox.StandardButton.Ok)
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda _p, _t, name, _f: asked.append(name) or ("", "")
    )
    film = session_item(view, "Play with blocks")
    click_item(qtbot, view.sessions, film)
    click(qtbot, view.buttons["report"])
    click_item(qtbot, view.sessions, film.child(0))  # the recording
    click(qtbot, view.buttons["family"])
    today = date.today().isoformat()
    assert [Path(name).name for name in asked] == [
        f"Family A (demo) – Play with blocks – {today} – report.pdf",
        f"Family A (demo) – Play with blocks – {today}.mp4",
    ]


def test_export_names_are_safe_on_windows_and_macos():
    from videofeedback.exports import safe_file_name

    name = safe_file_name(['Family "B"', "Play: blocks/cars?", " 2026-12-01 "], "mp4")
    assert name == "Family B – Play blocks cars – 2026-12-01.mp4"
    assert safe_file_name(["CON"], "pdf") == "CON export.pdf"
    assert safe_file_name(["..", "<>"], "pdf") == "export.pdf"
    assert len(safe_file_name(["x" * 400], "mp4")) == 124


def test_walkthrough_sign_off_defaults_to_the_reviews_film(qtbot, window, library):
    from PySide6.QtWidgets import QDialogButtonBox

    from ui.supervision_panel import SignOffDialog
    from videofeedback.errors import VideofeedbackError

    film, review, bath, _ = _stored_review(library)
    unlock(qtbot, window, "sam", "sam-demo-passphrase")
    open_first_case(qtbot, window)
    panel = window.case_view.supervision
    window.case_view.show_page(panel)
    seen = {}

    def in_dialog():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, SignOffDialog):
            QTimer.singleShot(50, in_dialog)
            return
        ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
        seen["default"] = (dialog.review.currentText(), dialog.film.currentText(), ok.isEnabled())
        dialog.film.setFocus()
        qtbot.keyClicks(dialog.film, "Bath")  # the wrong film, chosen by keyboard
        seen["wrong"] = (dialog.film.currentText(), ok.isEnabled(), dialog.problem.text())
        qtbot.wait(QApplication.keyboardInputInterval() + 200)  # a new search, not "BathPlay"
        qtbot.keyClicks(dialog.film, "Play")
        seen["right"] = dialog.film.currentText()
        click(qtbot, ok)
        if dialog.isVisible():  # a failing test must not leave the dialog waiting
            dialog.reject()

    QTimer.singleShot(50, in_dialog)
    click(qtbot, panel.buttons["signoff"])  # the dialog opens once its choices are read
    qtbot.waitUntil(lambda: "right" in seen, timeout=10_000)
    today = date.today().isoformat()
    assert seen["default"] == (f"Shared review · {today}", f"Play with blocks · {today}", True)
    assert seen["wrong"][:2] == (f"Bath time · {today}", False)
    assert "showed a reel of 'Play with blocks', not of 'Bath time'" in seen["wrong"][2]
    qtbot.waitUntil(lambda: panel.signoffs.count() == 1, timeout=10_000)
    assert "film Play with blocks + review Shared review" in panel.signoffs.item(0).text()
    [signed] = window.case.supervision.signoffs()
    assert (signed.recording_session, signed.review_session) == (film.id, review)
    with pytest.raises(VideofeedbackError, match="showed a reel of 'Play with blocks'"):
        window.case.supervision.sign_off(bath, review)  # the core refuses a review of another film

    window.case.supervision.add_comment(film.id, "Lovely pacing")  # comments name the session too
    panel.refresh()  # read in the case's queue
    qtbot.waitUntil(lambda: panel.comments.count() == 1, timeout=10_000)
    assert "sam on Play with blocks: Lovely pacing" in panel.comments.item(0).text()


# --- finding 7: reels are kept and reachable ------------------------------------------------


def test_walkthrough_reels_are_kept_and_reachable(qtbot, window, library):
    unlock(qtbot, window)
    open_first_case(qtbot, window)
    view = window.case_view
    film = session_item(view, "Play with blocks")
    click_item(qtbot, view.sessions, film)
    click(qtbot, view.buttons["reel"])  # "Edit reel…" straight from the case view
    reel = window.reel_view
    qtbot.waitUntil(lambda: window.stack.currentWidget() is reel, timeout=30_000)
    assert reel.reel_label.text() == "Not rendered yet" and not reel.share_button.isEnabled()
    reel.available.selectAll()
    click(qtbot, next(b for b in reel.findChildren(QPushButton) if b.text() == "Add →"))
    first = reel.reel.item(0)
    qtbot.mouseClick(reel.reel.viewport(), LEFT, pos=reel.reel.visualItemRect(first).center())
    click(qtbot, reel.caption)
    reel.caption.selectAll()
    qtbot.keyClicks(QApplication.focusWidget(), "You waited for her")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    assert reel.reel.item(0).text().endswith("  You waited for her")  # the list shows it
    order = reel.refs()
    click(qtbot, reel.draft_button)
    busy = (reel.draft_button.isEnabled(), reel.final_button.isEnabled())
    assert busy == (False, False)  # one render at a time
    assert reel.draft_button.toolTip() == "A reel is being rendered"
    qtbot.waitUntil(lambda: bool(reel.reel_id) and not window.jobs.running, timeout=120_000)
    assert reel.draft_button.isEnabled() and reel.final_button.isEnabled()
    window.close()  # a restart

    again = MainWindow()
    again.show()
    try:
        again.open_library(library)
        unlock(qtbot, again)
        open_first_case(qtbot, again)
        view = again.case_view
        film = session_item(view, "Play with blocks")
        [label] = [
            film.child(i).text(2)
            for i in range(film.childCount())
            if film.child(i).text(0) == "reel"
        ]
        assert label.startswith("Draft · 2 items · ") and label.endswith(" s")
        click_item(qtbot, view.sessions, film)
        click(qtbot, view.buttons["shared"])  # "Shared review…" straight from the case view
        qtbot.waitUntil(lambda: again.shared_review is not None, timeout=30_000)
        shared = again.shared_review
        assert [item.ref for item in shared.items] == order
        assert shared.items[0].caption == "You waited for her"  # the reel's caption
        shared.try_leave(PASSPHRASE)
        qtbot.waitUntil(lambda: not shared.isVisible(), timeout=15_000)

        click_item(qtbot, view.sessions, session_item(view, "Play with blocks"))
        click(qtbot, view.buttons["reel"])
        reel = again.reel_view
        qtbot.waitUntil(lambda: again.stack.currentWidget() is reel, timeout=30_000)
        assert reel.refs() == order and reel.share_button.isEnabled()  # as it was built
        assert reel.reel_label.text().startswith("Stored: Draft · 2 items")
        reel.reel.setCurrentRow(0)
        assert reel.caption.text() == "You waited for her"
    finally:
        again.close()


# --- finding 11: the report, one entry per moment, the parent's words beside it -------------


def _pdf_pages(path):
    from PySide6.QtPdf import QPdfDocument

    document = QPdfDocument()
    document.load(str(path))
    pages = [document.getAllText(p).text() for p in range(document.pageCount())]
    return [" ".join(text.split()) for text in pages]  # lines wrap anywhere


def _three_codes_on_the_first_moment(folder):
    from videofeedback.library.annotating import open_annotations

    case = _as_pat(folder)
    recording = case.db.execute("SELECT id FROM media WHERE kind = 'recording'").fetchone()[0]
    work = open_annotations(case, recording)
    first = work.annotations.in_time_order()[0]
    for code in ("encouraging.waiting", "receiving.noticed"):
        if code not in first.codes:
            work.editor.toggle_code(first.id, code)
    work.save()
    case.save()
    return work.annotations.in_time_order()


def test_walkthrough_the_report_has_each_moment_once_with_the_parents_words(
    qtbot, window, library, tmp_path, monkeypatch
):
    from PySide6.QtWidgets import QFileDialog

    first, second = _three_codes_on_the_first_moment(library)
    assert len(first.codes) == 3
    said = "She looked back at me"
    _stored_review(
        library, words=[(first.id, said)], captions={first.id: "The reel's newer caption"}
    )

    unlock(qtbot, window)
    open_first_case(qtbot, window)
    view = window.case_view
    click_item(qtbot, view.sessions, session_item(view, "Play with blocks"))
    pdf = tmp_path / "report.pdf"
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: QMessageBox.StandardButton.Ok)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(pdf), ""))
    click(qtbot, view.buttons["report"])
    qtbot.waitUntil(lambda: pdf.exists() and not window.jobs.running, timeout=60_000)
    pages = _pdf_pages(pdf)
    text = " ".join(pages)
    assert text.count(first.label()) == 1  # one entry, however many codes
    assert "Being attentive" in text and "Encouraging" in text
    assert "The reel's newer caption" in text and first.caption not in text
    after_first = text.index(first.label())
    assert after_first < text.index(said) < text.index(second.label())  # beside its moment
    assert all("CONFIDENTIAL" in page for page in pages), pages
    assert "private" not in text.lower()


def test_every_page_of_a_long_report_is_marked_confidential(qt_gui, tmp_path):
    from videofeedback.library.records import Session, SessionId, SessionKind
    from videofeedback.report import ReportMoment, SessionReport, report_pdf

    session = Session(SessionId("s-1"), SessionKind.RECORDING, date(2026, 12, 1), "", "Play")
    report = SessionReport("Family A", "VIG", session, "pat")
    codes = [("Being attentive", "Looking"), ("Encouraging", "Waiting")]
    report.moments = [
        ReportMoment(f"00:{n:02d}.000", codes, f"caption {n}", [f"words {n}"]) for n in range(90)
    ]
    path = tmp_path / "long.pdf"
    path.write_bytes(report_pdf(report))
    pages = _pdf_pages(path)
    assert len(pages) >= 3
    for number, page in enumerate(pages, 1):
        assert page.count("CONFIDENTIAL") == 2, page[:200]  # above and below
        assert f"page {number} of {len(pages)}" in page
    assert " ".join(pages).count("words 89") == 1


# --- finding 8: buttons say what they need before the click ---------------------------------


def test_walkthrough_buttons_say_what_they_need(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtGui import QDesktopServices
    from PySide6.QtWidgets import QFileDialog

    unlock(qtbot, window)
    open_first_case(qtbot, window)
    view = window.case_view
    needs = {name: view.buttons[name] for name in ("record", "review", "reel", "shared", "report")}
    assert view.sessions.currentItem() is None
    assert {n: (b.isEnabled(), b.toolTip()) for n, b in needs.items()} == {
        "record": (False, "Select a recording session (or make one)"),
        "review": (False, "Select a session with a recording"),
        "reel": (False, "Select a session with a recording"),
        "shared": (False, "Select a session with a reel (build one first)"),
        "report": (False, "Select a session"),
    }
    click(qtbot, view.buttons["review"])  # greyed: nothing happens, no error dialog
    assert window.stack.currentWidget() is view and not visible_boxes(window)

    click_item(qtbot, view.sessions, session_item(view, "Play with blocks"))
    enabled = {n for n, b in needs.items() if b.isEnabled()}
    assert enabled == {"record", "review", "reel", "report"}
    assert view.buttons["shared"].toolTip() == "Select a session with a reel (build one first)"

    opened = []  # an export ends with "Show in folder"
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: QMessageBox.StandardButton.Ok)
    pdf = tmp_path / "out" / "report.pdf"
    pdf.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(pdf), ""))
    click(qtbot, view.buttons["report"])
    qtbot.waitUntil(lambda: pdf.exists() and not window.jobs.running, timeout=60_000)
    qtbot.waitUntil(lambda: view.export_done.isVisible(), timeout=5_000)
    [show] = [b for b in view.export_done.buttons() if b.text() == "Show in folder"]
    click(qtbot, show)
    assert [url.toLocalFile() for url in opened] == [str(pdf.parent)]
    qtbot.waitUntil(lambda: not view.export_done.isVisible(), timeout=2_000)

    click(qtbot, view.buttons["review"])  # the session's recording: no need to pick it
    review = window.review_view
    qtbot.waitUntil(lambda: review.notes is not None, timeout=30_000)
    review.close_media()


def visible_boxes(window):
    return [w for w in window.findChildren(QMessageBox) if w.isVisible()]


def test_walkthrough_back_from_the_record_page_selects_the_session_just_made(qtbot, window):
    """Finding 8, met again by hand: after Back from the record page nothing was selected,
    so every button of the case view was greyed until the new session was clicked."""
    unlock(qtbot, window)
    open_first_case(qtbot, window)
    view, record = window.case_view, window.record_view
    click(qtbot, view.buttons["new"])
    qtbot.waitUntil(lambda: isinstance(QApplication.focusWidget(), QLineEdit), timeout=5_000)
    qtbot.keyClicks(QApplication.focusWidget(), "Bath time")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is record, timeout=10_000)
    made = record.session_id
    click(qtbot, record.back_button)
    assert window.stack.currentWidget() is view
    qtbot.waitUntil(lambda: (view._selected() or ("", ""))[1] == made, timeout=10_000)
    assert view.buttons["record"].isEnabled() and view.buttons["report"].isEnabled()
