"""The path a practitioner takes: unlock → record (synthetic, a few seconds, with a marker) →
annotate by keyboard → undo/redo; the stored moments are checked from disk, and nothing the
run wrote holds plaintext media or names."""

import stat
import tempfile
import time
from fractions import Fraction
from pathlib import Path

from PySide6.QtCore import Qt

from tests import plaintext
from tests.ui.conftest import open_first_case, unlock
from ui.operations import operations
from videofeedback.library import Library
from videofeedback.library.annotating import open_annotations
from videofeedback.library.cases import list_cases, open_case

PLAINTEXT = (*plaintext.MEDIA, *plaintext.names("Amira", "Lily", "Family A"))


def press(qtbot, widget, key, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(widget, key, modifier)


def go_to_frame(qtbot, review, key, frame):
    press(qtbot, review, key)
    qtbot.waitUntil(lambda: review.player.frame() == frame, timeout=5_000)


def test_record_then_annotate_by_keyboard_with_undo_and_redo(qtbot, window, library):
    started = time.time()
    unlock(qtbot, window)
    open_first_case(qtbot, window)
    window.case_view.new_recording_session("Play with blocks 2")  # in the case's queue
    record = window.record_view
    qtbot.waitUntil(lambda: window.stack.currentWidget() is record, timeout=10_000)
    assert record.start_stop.isEnabled()

    record.start_stop.click()
    qtbot.waitUntil(lambda: record.recorder is not None, timeout=10_000)
    qtbot.waitUntil(lambda: record.timer.text() == "00:01", timeout=10_000)
    press(qtbot, record, Qt.Key.Key_M)
    assert "Marked" in record.marker_label.text()
    assert not record.video.image.isNull()  # the live preview
    qtbot.wait(1500)
    record.start_stop.click()

    review = window.review_view
    qtbot.waitUntil(lambda: window.stack.currentWidget() is review, timeout=30_000)
    qtbot.waitUntil(lambda: review.notes is not None, timeout=30_000)
    qtbot.waitUntil(lambda: review.player.duration() > 0, timeout=15_000)
    media_id = review.notes.annotations.media_id
    assert review.notes.annotations.moments == []
    assert len(review.timeline.data.markers) == 1

    for frame in range(1, 6):
        go_to_frame(qtbot, review, Qt.Key.Key_Right, frame)
    press(qtbot, review, Qt.Key.Key_I)
    press(qtbot, review, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: review.player.frame() == 35, timeout=5_000)
    press(qtbot, review, Qt.Key.Key_O)
    assert review.marks == (Fraction(5, 30), Fraction(36, 30))
    press(qtbot, review, Qt.Key.Key_1)  # "Being attentive": a moment from the marks
    model = review.notes.annotations
    assert [(m.start, m.end, m.codes) for m in model.moments] == [
        (Fraction(1, 6), Fraction(6, 5), ("attentive",))
    ]
    press(qtbot, review, Qt.Key.Key_3)  # the selected moment also gets "receiving"
    assert model.moments[0].codes == ("attentive", "receiving")

    press(qtbot, review, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert model.moments[0].codes == ("attentive",)
    press(qtbot, review, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert model.moments == []
    shift_ctrl = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    press(qtbot, review, Qt.Key.Key_Z, shift_ctrl)
    press(qtbot, review, Qt.Key.Key_Z, shift_ctrl)
    assert model.moments[0].codes == ("attentive", "receiving")

    press(qtbot, review, Qt.Key.Key_Escape)
    assert review.player.frame() == 35  # making and coding a moment leaves the playhead
    go_to_frame(qtbot, review, Qt.Key.Key_Right, 36)
    press(qtbot, review, Qt.Key.Key_S)
    assert [s.time for s in model.stills] == [Fraction(36, 30)]
    review.editor.caption.setPlainText("You looked at her")
    review.select(model.moments[0].id)
    review.editor.caption.setPlainText("You looked at her, and she smiled")
    review.editor.commit_note()
    assert model.moments[0].caption == "You looked at her, and she smiled"

    review.close_media()  # "Back to the case": saves, in the case's queue
    assert window.stack.currentWidget() is window.case_view
    qtbot.waitUntil(lambda: not operations().pending, timeout=30_000)
    _check_stored(library, media_id)
    _scan_for_plaintext(library, started)


def _check_stored(folder: Path, media_id: str) -> None:
    library = Library(folder)
    user = library.unlock("pat", "pat-demo-passphrase", sleep=lambda _: None)
    case = open_case(user, list_cases(user)[0].id)
    info = case.media.get(media_id).info
    assert info["state"] == "sealed" and len(info["markers"]) == 1
    assert 2 < float(Fraction(info["duration"])) < 10
    stored = open_annotations(case, media_id).annotations
    [moment] = stored.moments
    assert (moment.start, moment.end) == (Fraction(1, 6), Fraction(6, 5))
    assert moment.codes == ("attentive", "receiving") and moment.coder == "pat"
    assert moment.caption == "You looked at her, and she smiled"
    assert [s.time for s in stored.stills] == [Fraction(36, 30)]


def _scan_for_plaintext(library: Path, since: float) -> None:
    written = [p for p in library.rglob("*") if p.is_file()]
    written += [
        p
        for p in Path(tempfile.gettempdir()).rglob("*")
        if p.is_file() and p.stat().st_mtime >= since and library not in p.parents
    ]
    assert any(p.suffix == ".age" for p in written)
    loose = [
        path
        for path in [library, *library.rglob("*")]
        if stat.S_IMODE(path.stat().st_mode) != (0o700 if path.is_dir() else 0o600)
    ]
    assert loose == [], "only this OS account may open the library (docs/FORMAT.md, 10.3)"
    for path in written:
        data = path.read_bytes()
        for marker in PLAINTEXT:
            assert marker not in data, f"{marker!r} in plaintext in {path}"
