"""Screenshots of every view for docs/screenshots, at 1280×720 (a small laptop), as a person
sees them. One command, from a fresh demo library that it builds (in a temporary folder,
removed at the end):

    .venv/bin/python scripts/take_screenshots.py              # all views → docs/screenshots
    .venv/bin/python scripts/take_screenshots.py --scale 1.5 --size 1366x768 --out /tmp/shots
    .venv/bin/python scripts/take_screenshots.py --only review,reel-builder

Without a display it runs itself under ``xvfb-run`` with a screen of ``--size``. It drives the
app as a person would (and as tests/ui do): the first run's progress, pat recording (the red
REC indicator in the toolbar), reviewing, building a reel and sharing it (the parent's words
typed into the focused words box), a hand-over bundle, then sam comparing her coding and
reading the audit trail. Each view is taken in its own step: a step that fails (another
session changed the UI) is reported and the others are still taken. VIEWS names them all.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
VIEWS = (
    "first-run",  # the demo library being built behind the window, progress shown
    "unlock",
    "cases",
    "case",  # consent, sessions, goals chart
    "record",  # recording, REC indicator in the toolbar, a marker set
    "review",  # a moment selected: editor, moment list, timeline
    "review-zoomed",
    "redaction",  # people found in the film, boxes on the player, the review stepped through
    "reel-builder",
    "shared-review",  # full screen, the parent's words box focused
    "bundle",  # the supervisor opening a hand-over bundle
    "agreement",  # the supervisor's coding against the practitioner's
    "supervision",  # the audit trail and sign-offs tab
)
PASSPHRASES = {"pat": "pat-demo-passphrase", "sam": "sam-demo-passphrase"}


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--size", default="1280x720", help="the screen, WIDTHxHEIGHT")
    parser.add_argument("--scale", default="1", help="QT_SCALE_FACTOR (1.25, 1.5)")
    parser.add_argument("--only", default="", help="comma-separated names of VIEWS")
    parser.add_argument("--library", type=Path, help="a demo library to copy (skips first-run)")
    return parser.parse_args()


def under_xvfb(args: argparse.Namespace) -> None:
    """No display: run this script again under xvfb-run with a screen of the asked size."""
    if os.environ.get("DISPLAY") or os.environ.get("SCREENSHOTS_UNDER_XVFB"):
        return
    if not shutil.which("xvfb-run"):
        sys.exit("take_screenshots: no display and no xvfb-run (apt-get install xvfb)")
    env = {**os.environ, "SCREENSHOTS_UNDER_XVFB": "1"}
    command = ["xvfb-run", "-a", "-s", f"-screen 0 {args.size}x24", sys.executable, *sys.argv]
    sys.exit(subprocess.run(command, env=env).returncode)  # noqa: S603 - our own argv


def main() -> int:
    args = arguments()
    under_xvfb(args)
    os.environ["QT_SCALE_FACTOR"] = args.scale
    os.environ.pop("QT_QPA_PLATFORM", None)  # the X server, not offscreen
    work = Path(tempfile.mkdtemp(prefix="videofeedback-shots-"))
    os.environ["VIDEOFEEDBACK_STATE_DIR"] = str(work / "state")  # not this computer's state
    wanted = [name for name in args.only.split(",") if name] or list(VIEWS)
    if args.library is not None and "first-run" in wanted:
        wanted.remove("first-run")  # a library that exists has no first run to show
    unknown = set(wanted) - set(VIEWS)
    if unknown:
        sys.exit(f"take_screenshots: no view named {', '.join(sorted(unknown))}; see VIEWS")
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        return Shots(args, work, wanted).run()
    finally:
        shutil.rmtree(work, ignore_errors=True)


class Shots:
    def __init__(self, args: argparse.Namespace, work: Path, wanted: list[str]) -> None:
        from PySide6.QtWidgets import QApplication

        from ui.main_window import MainWindow

        self.app = QApplication([sys.argv[0]])
        self.window = MainWindow()
        self.args, self.work, self.wanted = args, work, wanted
        self.library = work / "demo"
        self.bundle = work / "for-sam.vfb"
        self.taken: list[str] = []
        self.failed: list[str] = []

    # --- waiting and taking ----------------------------------------------------------------

    def until(self, condition: Callable[[], object], seconds: float = 60.0) -> None:
        end = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > end:
                raise TimeoutError(f"the app did not get there in {seconds:.0f} s{self.said()}")
            self.app.processEvents()
            time.sleep(0.02)

    def said(self) -> str:
        """What the app shows that may say why it did not get there: open message boxes and
        the status bar."""
        from PySide6.QtWidgets import QApplication, QMessageBox

        texts = [
            f"{type(w).__name__}: {w.text()}"
            for w in QApplication.topLevelWidgets()
            if isinstance(w, QMessageBox) and w.isVisible()
        ]
        texts.append(f"status bar: {self.window.statusBar().currentMessage()}")
        return "; " + "; ".join(texts)

    def wait(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        self.until(lambda: time.monotonic() > end)

    def shot(self, name: str) -> None:
        assert name in VIEWS, name
        if name not in self.wanted:
            return
        self.wait(0.6)  # layouts settle, the player paints its frame
        screen = self.app.primaryScreen()
        screen.grabWindow(0).save(str(self.args.out / f"{name}.png"))
        self.taken.append(name)
        print("shot", name, flush=True)

    # --- the steps --------------------------------------------------------------------------

    def run(self) -> int:
        window = self.window
        window.setGeometry(self.app.primaryScreen().availableGeometry())  # no window manager
        window.show()
        steps: list[tuple[str, Callable[[], None]]] = [
            ("first-run", self.first_run),
            ("cases", self.cases),
            ("record", self.record),
            ("review", self.review),
            ("redaction", self.redaction),
            ("reel-builder", self.reel_and_shared_review),
            ("bundle", self.bundle_for_the_supervisor),
            ("agreement", self.agreement),
            ("supervision", self.supervision),
        ]
        for name, step in steps:
            try:
                step()
            except Exception:  # noqa: BLE001 - one view's failure must not cost the others
                self.failed.append(name)
                print(f"FAILED {name}:\n{traceback.format_exc()}", file=sys.stderr, flush=True)
                self.recover()
        self.close()
        missing = [name for name in self.wanted if name not in self.taken]
        print(f"taken {len(self.taken)} of {len(self.wanted)} in {self.args.out}", flush=True)
        if missing:
            print(f"NOT TAKEN: {', '.join(missing)}", file=sys.stderr, flush=True)
        return 1 if missing else 0

    def recover(self) -> None:
        """Back to a known state after a failed step: dialogs closed, media let go."""
        from PySide6.QtWidgets import QApplication, QDialog

        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QDialog) and widget.isVisible():
                widget.reject()
        shared = self.window.shared_review
        if shared is not None and shared.isVisible():
            shared.try_leave(PASSPHRASES["pat"])
        for view in (self.window.review_view, self.window.reel_view):
            try:
                if view is self.window.review_view and view.notes is not None:
                    view.close_media()
                elif view is self.window.reel_view:
                    view.close_reel()
            except Exception:  # noqa: BLE001, S110 - best effort, the next step checks
                pass
        self.app.processEvents()

    def first_run(self) -> None:
        window = self.window
        if self.args.library is not None:
            shutil.copytree(self.args.library, self.library)
            window.open_library(self.library)
        else:
            window.build_demo(self.library)  # as `videofeedback demo` on a first run
            self.wait(4)
            self.shot("first-run")
            self.until(lambda: window.state.library is not None, 900)
        self.until(lambda: window.unlock_view.unlock_button.isEnabled(), 60)
        self.shot("unlock")

    def as_user(self, user: str) -> None:
        window = self.window
        if window.state.user is not None and window.state.user.name == user:
            return
        if window.state.user is not None:
            window.state.lock()
        window.unlock_view.user.setCurrentText(user)
        window.unlock_view.passphrase.setText(PASSPHRASES[user])
        window.unlock_view.unlock()  # a job: scrypt off the GUI thread
        self.until(lambda: window.state.user is not None and window.state.user.name == user, 60)
        self.until(lambda: window.cases_view.cases.count() > 0, 60)

    def open_case(self) -> None:
        from PySide6.QtCore import Qt

        from ui.operations import wait_for_operations

        wait_for_operations()  # the last step's saves (see the report: opening meanwhile fails)
        window = self.window
        window.open_case(window.cases_view.cases.item(0).data(Qt.ItemDataRole.UserRole))
        self.until(lambda: window.stack.currentWidget() is window.case_view, 30)
        self.until(lambda: window.case_view.sessions.topLevelItemCount() > 0, 30)

    def open_recording(self):  # -> ReviewView
        """The demo's own recording, found by its session's title in what the case view read
        (the view fills itself asynchronously; open_case waited for it)."""
        self.open_case()
        window = self.window
        for shown in window.case_view.sessions_shown:
            if shown.session.title != "Play with blocks":
                continue
            film = next((r for r in shown.media if r.kind == "recording"), None)
            if film is None:
                break
            window.show_review(film.id)
            review = window.review_view
            self.until(lambda v=review: v.notes is not None and v.player.duration() > 0)
            return review
        raise LookupError("the demo's recording is not in the case view")

    def cases(self) -> None:
        self.as_user("pat")
        self.shot("cases")
        self.open_case()
        self.shot("case")

    def record(self) -> None:
        self.as_user("pat")
        self.open_case()
        window = self.window
        window.case_view.new_recording_session("Reading a story")
        self.until(lambda: window.stack.currentWidget() is window.record_view, 30)
        window.record_view.start()
        self.wait(3)
        window.record_view.mark()
        self.wait(2)
        self.shot("record")
        window.record_view.stop()
        self.until(lambda: window.review_view.notes is not None, 120)
        window.review_view.close_media()

    def review(self) -> None:
        self.as_user("pat")
        review = self.open_recording()
        review.select(review.notes.annotations.moments[1].id)
        self.shot("review")
        for _ in range(4):
            review.timeline.zoom(2)
        self.shot("review-zoomed")
        review.timeline.zoom_fit()

    def scroll_to(self, widget: Any) -> None:
        """Scroll the panel that holds ``widget`` so that it is in view."""
        from PySide6.QtWidgets import QScrollArea

        holder = widget.parentWidget()
        while holder is not None and not isinstance(holder, QScrollArea):
            holder = holder.parentWidget()
        if holder is not None:
            holder.ensureWidgetVisible(widget)
            self.app.processEvents()

    def redaction(self) -> None:
        """Find people, name each one found, look at every stop and approve: the shared
        review plays nothing whose redaction nobody reviewed."""
        self.as_user("pat")
        review = self.open_recording()
        panel, window = review.redaction, self.window
        if panel.review.plan is None:
            panel.find_button.click()
            self.until(lambda: panel.review.plan is not None and not window.jobs.running, 900)
        plan = panel.review.plan
        people = [p.id for p in window.case.participants.all()]
        for track, who in zip(plan.tracks, people, strict=False):
            if plan.mark_of(track.id) is None:
                panel.mark(track.id, who)
                self.until(lambda t=track.id: panel.review.plan.mark_of(t) is not None)
        panel.mode_button.click()
        review.player.seek(Fraction(9))
        self.scroll_to(panel)  # the side panel scrolls: show the people found, not the moments
        self.shot("redaction")
        while not panel.review.all_seen:
            panel.next_button.click()
            self.app.processEvents()
        if panel.review.pending:
            panel.approve_button.click()
            self.until(lambda: not panel.review.pending)
        review.close_media()

    def reel_and_shared_review(self) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest
        from PySide6.QtWidgets import QApplication

        self.as_user("pat")
        review = self.open_recording()
        review.build_reel()
        reel = self.window.reel_view
        reel.available.selectAll()
        reel.add_selected()
        reel.title.setText("Amira and Lily")
        reel.draft_button.click()
        self.until(lambda: reel.share_button.isEnabled(), 300)
        reel.player.seek(Fraction(9))
        self.shot("reel-builder")
        reel.share_button.click()
        self.until(lambda: self.window.shared_review is not None)
        shared = self.window.shared_review
        shared.setGeometry(self.app.primaryScreen().geometry())  # no window manager
        self.until(lambda: shared.counter.text().startswith("1 of"))
        self.until(lambda: shared.player.playing)
        shared.player.seek(shared.item.end - Fraction(1, 5))
        self.until(lambda: shared.caption.text() != "")
        shared.activateWindow()
        QTest.mouseClick(shared.words.viewport(), Qt.MouseButton.LeftButton)
        QTest.keyClicks(QApplication.focusWidget(), "She looked at me like she wanted me to play")
        if QApplication.focusWidget() is not shared.words:
            raise AssertionError("the words box does not have the focus")
        self.shot("shared-review")
        shared.try_leave(PASSPHRASES["pat"])
        self.until(lambda: not shared.isVisible())
        reel.close_reel()
        review.close_media()

    def bundle_for_the_supervisor(self) -> None:
        from PySide6.QtWidgets import QFileDialog, QInputDialog

        self.as_user("pat")
        self.open_case()
        window = self.window
        asks = (QInputDialog.getItem, QFileDialog.getSaveFileName)
        QInputDialog.getItem = staticmethod(lambda *a, **k: ("sam", True))  # type: ignore
        QFileDialog.getSaveFileName = staticmethod(lambda *a, **k: (str(self.bundle), ""))  # type: ignore
        try:
            window.case_view.supervision.buttons["bundle"].click()
            self.until(lambda: self.bundle.exists() and not window.jobs.running, 120)
        finally:
            QInputDialog.getItem, QFileDialog.getSaveFileName = asks  # type: ignore
        self.as_user("sam")
        window.cases_view.open_bundle(self.bundle)
        self.until(lambda: window.stack.currentWidget() is window.bundle_view, 60)
        bundle = window.bundle_view
        bundle.media.setCurrentRow(0)
        bundle.media.itemActivated.emit(bundle.media.item(0))  # as a double-click: it plays
        self.until(lambda: bundle.player.duration() > 0, 60)
        bundle.player.seek(Fraction(9))
        self.wait(1)
        bundle.player.pause()
        self.shot("bundle")
        window.bundle_view.close_bundle()

    def agreement(self) -> None:
        self.as_user("sam")
        review = self.open_recording()
        review.player.seek(Fraction(9))
        self.until(lambda: review.player.frame() == 270)
        review.code_key("1")
        review.select(None)
        review.player.seek(Fraction(50))
        self.until(lambda: review.player.frame() == 1500)
        review.code_key("5")
        review.compare_coding()
        self.shot("agreement")
        review.agreement.close()
        review.close_media()

    def supervision(self) -> None:
        self.as_user("sam")
        self.open_case()
        view = self.window.case_view
        view.tabs.setCurrentIndex(1)
        self.until(lambda: view.supervision.audit.text() != "", 60)
        self.shot("supervision")

    def close(self) -> None:
        self.recover()
        self.window.close()
        self.app.processEvents()


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
