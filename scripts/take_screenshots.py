"""Screenshots of every view for docs/screenshots at 1280×720 (a small laptop), as a person
sees them.

    .venv/bin/videofeedback demo --no-app --library /tmp/shots/lib
    xvfb-run -a -s "-screen 0 1280x720x24" \
        .venv/bin/python scripts/take_screenshots.py /tmp/shots/lib

It drives the app on a demo library (which it changes: a reel, a review, a recording). The
record view is taken while recording (the red REC indicator in the toolbar), the shared review
with the parent's words being typed into its focused words box.
"""

import os
import sys
import time
from fractions import Fraction
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from ui.main_window import MainWindow

OUT = Path(
    os.environ.get("SCREENSHOTS", Path(__file__).resolve().parent.parent / "docs" / "screenshots")
)
app = QApplication(sys.argv)
window = MainWindow()


def until(condition, seconds=60.0):
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the app did not get there")
        app.processEvents()
        time.sleep(0.02)


def wait(seconds):
    end = time.monotonic() + seconds
    until(lambda: time.monotonic() > end)


def shot(name):
    wait(0.5)
    screen = app.primaryScreen()
    screen.grabWindow(0).save(str(OUT / f"{name}.png"))
    print("shot", name)


def unlock(user, secret):
    window.unlock_view.user.setCurrentText(user)
    window.unlock_view.passphrase.setText(secret)
    window.unlock_view.unlock()
    until(lambda: window.cases_view.cases.count() > 0)


def open_case_and_recording():
    window.open_case(window.cases_view.cases.item(0).data(Qt.ItemDataRole.UserRole))
    tree = window.case_view.sessions
    for index in range(tree.topLevelItemCount()):
        session = tree.topLevelItem(index)
        if session.text(2) != "Play with blocks":  # the demo's own recording
            continue
        for child in range(session.childCount()):
            data = session.child(child).data(0, Qt.ItemDataRole.UserRole)
            if data[2] == "recording":
                window.show_review(data[1])
                until(lambda: window.review_view.player.duration() > 0)
                return window.review_view


def main():
    window.setGeometry(app.primaryScreen().availableGeometry())  # bare Xvfb: no manager
    window.show()
    window.open_library(Path(sys.argv[1]))
    shot("1-unlock")
    unlock("pat", "pat-demo-passphrase")
    shot("2-cases")
    window.open_case(window.cases_view.cases.item(0).data(Qt.ItemDataRole.UserRole))
    shot("3-case")
    review = open_case_and_recording()
    review.select(review.notes.annotations.moments[1].id)
    shot("5-review")
    for _ in range(4):
        review.timeline.zoom(2)
    shot("6-review-zoomed")

    review.timeline.zoom_fit()
    review.build_reel()
    reel = window.reel_view
    reel.available.selectAll()
    reel.add_selected()
    reel.title.setText("Amira and Lily")
    reel.draft_button.click()
    until(lambda: reel.share_button.isEnabled(), 120)
    reel.player.seek(Fraction(9))
    shot("7-reel-builder")
    reel.share_button.click()
    shared = window.shared_review
    shared.setGeometry(app.primaryScreen().geometry())  # bare Xvfb has no window manager
    until(lambda: shared.counter.text().startswith("1 of"))
    until(lambda: shared.player.playing)
    shared.player.seek(shared.item.end - Fraction(1, 5))
    until(lambda: shared.caption.text() != "")
    shared.activateWindow()
    QTest.mouseClick(shared.words.viewport(), Qt.MouseButton.LeftButton)
    QTest.keyClicks(QApplication.focusWidget(), "She looked at me like she wanted me to play too")
    assert QApplication.focusWidget() is shared.words
    shot("8-shared-review")
    shared.try_leave("pat-demo-passphrase")
    until(lambda: not shared.isVisible())
    reel.close_reel()
    review.close_media()

    window.case_view.new_recording_session()  # made in the case's queue, then the page opens
    until(lambda: window.stack.currentWidget() is window.record_view)
    until(lambda: bool(window.record_view.session_id))
    window.record_view.start()
    until(lambda: window.record_view.recorder is not None)
    wait(3)
    window.record_view.mark()
    wait(2)
    shot("4-record")
    window.record_view.stop()
    until(lambda: window.review_view.notes is not None, 180)  # sealing, on a busy machine
    window.review_view.close_media()

    window.state.lock()
    unlock("sam", "sam-demo-passphrase")
    review = open_case_and_recording()
    review.player.seek(Fraction(9))
    until(lambda: review.player.frame() == 270)
    review.code_key("1")
    review.select(None)
    review.player.seek(Fraction(50))
    until(lambda: review.player.frame() == 1500)
    review.code_key("5")
    review.compare_coding()
    shot("10-agreement")
    review.agreement.close()
    review.close_media()
    window.case_view.tabs.setCurrentIndex(1)
    until(lambda: window.case_view.supervision.audit.text() != "")
    until(lambda: window.case_view.supervision.trail.table.rowCount() > 0)  # the audit table
    shot("9-supervision")
    window.close()


main()
