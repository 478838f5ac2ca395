"""The window: one view at a time (unlock, cases, case, record, review), a Lock button, and
a status bar that shows the running job with its progress and a Cancel button. It only wires
views together; each view owns its own state.

While a recording runs, a red REC indicator with its clock shows in the toolbar on every page;
leaving the record view, switching case or closing asks "Stop and save the recording?", and
locking stops and seals it without asking."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSize, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QToolButton,
    QWidget,
)

from annotations.model import Annotations
from ui.bundle_view import BundleView
from ui.case_view import CaseView
from ui.cases_view import CasesView
from ui.errors import show_error
from ui.fitting_scroll import FittingScrollArea
from ui.jobs import Job, JobContext, Jobs
from ui.operations import CaseOp, wait_for_operations
from ui.passphrase_prompt import ask_new_passphrase, show_recovery_secret
from ui.record_view import RecordView, describe_recovery, recover_unfinished
from ui.reel_view import ReelView
from ui.review_view import ReviewView
from ui.shared_review import ReviewStart, SharedReview, start_review
from ui.state import AppState
from ui.sync_indicator import SyncIndicator
from ui.unlock_view import UnlockView
from videofeedback.demo import RECORDING_SECONDS, ensure_demo_library
from videofeedback.errors import VideofeedbackError
from videofeedback.library.annotating import open_annotations
from videofeedback.library.cases import Case
from videofeedback.library.library import Library
from videofeedback.library.roles import Action, allowed
from videofeedback.operations import audited
from videofeedback.reels import reel_recording, session_recording

ACTIVITY = {
    QEvent.Type.KeyPress,
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseMove,
    QEvent.Type.Wheel,
    QEvent.Type.TouchBegin,
}
SEAL_WAIT_SECONDS = 30.0  # closing waits at most this long for a recording to be sealed
STOP_QUESTION = "Stop and save the recording?"


def ask_stop_recording(parent: QWidget) -> bool:
    """The one question before anything that would leave a recording running unseen."""
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Recording",
        STOP_QUESTION,
        QMessageBox.StandardButton.NoButton,
        parent,
    )
    box.setObjectName("stopRecordingDialog")
    stop = box.addButton("Stop and save", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Keep recording", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(stop)
    box.exec()
    return box.clickedButton() is stop


MINIMUM_SIZE = (640, 400)  # smaller than 1280×720 at 150 % (853×480): the views scroll


def fitting_size(window: QWidget) -> QSize:
    """1280×720, or less on a smaller screen (or at 150 %, 1366×768 is 911×512 points)."""
    screen = window.screen() or QApplication.primaryScreen()
    room = screen.availableGeometry().size() if screen is not None else QSize(1280, 720)
    return QSize(min(1280, room.width()), min(720, room.height()))


class ScrollingStack(QStackedWidget):
    """One view at a time, each in a scroll area: on a small screen or at 150 % scaling a view
    scrolls instead of being cut off. ``currentWidget`` is the view, not its scroll area."""

    def add_view(self, view: QWidget) -> None:
        area = FittingScrollArea()  # fills the page; scrolls only below the view's minimum
        area.setFrameShape(QScrollArea.Shape.NoFrame)
        area.setWidget(view)
        self.addWidget(area)

    def currentWidget(self) -> QWidget | None:  # noqa: N802 - Qt's name
        area = super().currentWidget()
        return area.widget() if isinstance(area, QScrollArea) else area

    def setCurrentWidget(self, view: QWidget) -> None:  # noqa: N802 - Qt's name
        for index in range(self.count()):
            area = self.widget(index)
            if area is view or (isinstance(area, QScrollArea) and area.widget() is view):
                self.setCurrentIndex(index)
                return


class IdleLock(QObject):
    """Locks after ``minutes`` without keyboard, mouse or touch input."""

    def __init__(self, state: AppState, parent: QObject) -> None:
        super().__init__(parent)
        self.state = state
        self.timer = QTimer(self, singleShot=True)
        self.timer.timeout.connect(state.lock)
        state.unlocked.connect(self.restart)
        state.locked.connect(self.timer.stop)

    def restart(self) -> None:
        self.timer.start(self.state.idle_lock_minutes() * 60_000)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() in ACTIVITY and self.timer.isActive():
            self.timer.start()
        return False


class MainWindow(QMainWindow):
    _demo_step = Signal(str)  # a step of the demo library's first build (from its job)

    def __init__(self, state: AppState | None = None) -> None:
        super().__init__()
        self.setWindowTitle("videofeedback")
        self.setMinimumSize(*MINIMUM_SIZE)
        self.resize(fitting_size(self))
        self.state = state or AppState(self)
        self.jobs = Jobs(self)
        self.case: Case | None = None
        self.shared_review: SharedReview | None = None
        self._review_starting = False  # a shared review session is being made
        self.unlock_view = UnlockView(self.state, self.jobs)
        self.cases_view = CasesView(self.state, self.jobs)
        self.case_view = CaseView(self.jobs)
        self.record_view = RecordView(self.jobs)
        self.review_view = ReviewView(self.jobs)
        self.reel_view = ReelView(self.jobs)
        self.bundle_view = BundleView()
        self.stack = ScrollingStack()
        for view in (
            self.unlock_view,
            self.cases_view,
            self.case_view,
            self.record_view,
            self.review_view,
            self.reel_view,
            self.bundle_view,
        ):
            self.stack.add_view(view)
        self.setCentralWidget(self.stack)
        self._build_status_bar()
        self._build_toolbar()
        self._connect()
        self.idle = IdleLock(self.state, self)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.idle)

    def _build_toolbar(self) -> None:
        bar = self.addToolBar("Main")
        bar.setMovable(False)
        self.lock_action = QAction("🔒 Lock", self)
        self.lock_action.setShortcut(QKeySequence("Ctrl+L"))
        self.lock_action.triggered.connect(self.state.lock)
        bar.addAction(self.lock_action)
        self.lock_action.setEnabled(False)
        self.rec_indicator = QToolButton()
        self.rec_indicator.setObjectName("recIndicator")
        self.rec_indicator.setText("● REC 00:00")
        self.rec_indicator.setToolTip("A recording is running: click to go to it")
        self.rec_indicator.setStyleSheet(
            "QToolButton { color: white; background: #c62828; font-weight: bold;"
            " border-radius: 4px; padding: 2px 10px; }"
        )
        self.rec_indicator.clicked.connect(self._go_to_recording)
        self.rec_action = bar.addWidget(self.rec_indicator)
        self.rec_action.setVisible(False)

    def _build_status_bar(self) -> None:
        self.job_label = QLabel("")
        self.job_progress = QProgressBar()
        self.job_progress.setMaximumWidth(240)
        self.job_cancel = QPushButton("Cancel")
        self.job_cancel.clicked.connect(self.jobs.cancel_all)
        for widget in (self.job_label, self.job_progress, self.job_cancel):
            self.statusBar().addPermanentWidget(widget)
            widget.hide()
        self.sync_indicator = SyncIndicator(self.state)  # hidden until a team store is set
        self.sync_indicator.open_case = self._case_for_sync
        self.statusBar().addPermanentWidget(self.sync_indicator)

    def _connect(self) -> None:
        self.state.unlocked.connect(self._on_unlocked)
        self.state.locked.connect(self._on_locked)
        self.jobs.started.connect(self._on_job_started)
        self.jobs.ended.connect(self._on_job_ended)
        self.jobs.error.connect(lambda message: show_error(self, message))
        self.unlock_view.create_requested.connect(self.create_library)
        self.cases_view.case_chosen.connect(self.open_case)
        self.cases_view.bundle_opened.connect(self.show_bundle)
        self.bundle_view.closed.connect(self.show_cases)
        self.case_view.closed.connect(self._leave_case)
        self.case_view.record_requested.connect(self.show_record)
        self.case_view.review_requested.connect(self.show_review)
        self.case_view.reel_requested.connect(lambda media_id: self.show_review(media_id, True))
        self.case_view.shared_review_requested.connect(self.shared_review_of)
        self.record_view.closed.connect(self._leave_record_view)
        self.record_view.recorded.connect(self._on_recorded)
        self.record_view.recording_changed.connect(self._on_recording_changed)
        self.record_view.elapsed.connect(lambda text: self.rec_indicator.setText(f"● REC {text}"))
        self.record_view.imported.connect(lambda _: self.show_case())
        self.review_view.closed.connect(self.show_case)
        self.review_view.reel_requested.connect(self.show_reel)
        self.reel_view.closed.connect(lambda: self.stack.setCurrentWidget(self.review_view))
        self.reel_view.shared_review_requested.connect(self.start_shared_review)
        self.reel_view.rendered.connect(
            lambda _: self.statusBar().showMessage(
                "The reel is ready and stored on the session", 5000
            )
        )
        for view in (self.record_view, self.review_view):
            view.status.connect(lambda text: self.statusBar().showMessage(text, 5000))

    # --- navigation ----------------------------------------------------------------------

    def open_library(self, folder: Path) -> None:
        self.unlock_view.open_library(folder)

    def show_cases(self) -> None:
        self.case = None
        self.case_view.clear()
        self.stack.setCurrentWidget(self.cases_view)
        self.cases_view.refresh()

    def show_bundle(self, bundle: object) -> None:
        self.bundle_view.show_bundle(bundle)  # type: ignore[arg-type]
        self.stack.setCurrentWidget(self.bundle_view)

    def open_case(self, case_id: str) -> None:
        if self.case is not None and self.case.id != case_id and not self.may_end_recording():
            return
        # a change of a case left a moment ago is saved first: two objects of one case saving
        # in turn would each write the database without the other's change
        wait_for_operations()
        try:
            self.case = self.state.open_case(case_id)
        except VideofeedbackError as exc:
            show_error(self, str(exc))
            return
        CaseOp(self, self.case, audited).run()  # signs the audit entry of this opening
        self.show_case()
        self._recover_unfinished(self.case)

    def _case_for_sync(self, case_id: str) -> Case:
        """The open case if it is that one (one object per case saves), else a new opening."""
        if self.case is not None and self.case.id == case_id:
            return self.case
        wait_for_operations()
        return self.state.open_case(case_id)

    def show_case(self) -> None:
        if self.case is None:
            self.show_cases()
            return
        self.case_view.show_case(self.case)
        self.stack.setCurrentWidget(self.case_view)

    # --- the recording -------------------------------------------------------------------

    def may_end_recording(self) -> bool:
        """Before leaving a running recording: ask, and stop it (it is sealed in its job)."""
        if not self.record_view.recording:
            return True
        if not ask_stop_recording(self):
            return False
        self.record_view.stop()
        return True

    def _leave_record_view(self) -> None:
        if self.may_end_recording():
            # back on the case with the session just filmed selected: its buttons act on it
            self.case_view.wanted = self.record_view.session_id or None
            self.show_case()

    def _leave_case(self) -> None:
        if self.may_end_recording():
            self.show_cases()

    def _on_recorded(self, media_id: str) -> None:
        """The sealed recording opens for review, unless the person has gone elsewhere."""
        if self.stack.currentWidget() is self.record_view:
            self.show_review(media_id)
        elif self.stack.currentWidget() is self.case_view and self.case is not None:
            self.case_view.show_case(self.case)

    def _on_recording_changed(self, recording: bool) -> None:
        self.rec_indicator.setText("● REC 00:00")
        self.rec_action.setVisible(recording)

    def _go_to_recording(self) -> None:
        if self.case is not None and self.state.user is not None:
            self.stack.setCurrentWidget(self.record_view)

    def _recover_unfinished(self, case: Case | None) -> None:
        """Recordings left unsealed by a crash are sealed when their case is next opened."""
        if case is None or self.record_view.recording:
            return  # never while this app records: the running one is not "unfinished"
        if not allowed(case.session.role, Action.RECORD):
            return  # sealed by someone who records for the case, not by a supervisor
        self.jobs.start(
            "Sealing unfinished recordings",
            lambda _: recover_unfinished(case),
            lambda results: self._on_recovered(case, results),
        )

    def _on_recovered(self, case: Case, results: list[dict[str, object]]) -> None:
        if not results:
            return
        self.statusBar().showMessage(describe_recovery(results), 15_000)
        if self.case is case and self.stack.currentWidget() is self.case_view:
            self.case_view.show_case(case)

    def show_record(self, session_id: str) -> None:
        if self.case is not None:
            self.record_view.open_session(self.case, session_id)
            self.stack.setCurrentWidget(self.record_view)

    def show_review(self, media_id: str, then_reel: bool = False) -> None:
        if self.case is not None:
            self.stack.setCurrentWidget(self.review_view)
            self.review_view.open_media(self.case, media_id, then_reel)

    def show_reel(self, annotations: object) -> None:
        if self.case is not None:
            self.reel_view.open_reel(self.case, annotations)  # type: ignore[arg-type]
            self.stack.setCurrentWidget(self.reel_view)

    def shared_review_of(self, reel_id: str) -> None:
        """ "Shared review…" in the case view: the reel's recording's moments are read in a
        job, then the shared review starts on the reel."""
        case = self.case
        if case is None:
            return

        def load(_: JobContext) -> object:
            record = case.media.get(reel_id)
            recording = session_recording(case, record.session)
            media_id = reel_recording(record) or (recording.id if recording else "")
            if not media_id:
                raise VideofeedbackError("this reel's recording is not in the case any more")
            return open_annotations(case, media_id).annotations

        self.jobs.start(
            "Opening the shared review",
            load,
            lambda notes: self.start_shared_review(reel_id, notes),
            case=case,
        )

    def start_shared_review(self, reel_id: str, annotations: Annotations) -> None:
        """Full screen and modal; it ends only with the passphrase."""
        if self.case is None:
            return
        self.reel_view.player.pause()
        if self._review_starting:
            return  # one click, one session
        self._review_starting = True
        case = self.case
        op = start_review(annotations, reel_id)  # in the case's queue, never on this thread
        CaseOp(self, case, op).success(
            lambda start: self._show_shared_review(case, start)
        ).failure(self._review_refused).run()

    def _review_refused(self, message: str) -> None:
        self._review_starting = False
        show_error(self, message)

    def _show_shared_review(self, case: Case, start: ReviewStart) -> None:
        self._review_starting = False
        if case is not self.case:
            return  # locked or another case meanwhile; the session stays, empty
        review = SharedReview(case, start, self.jobs)
        self.shared_review = review
        review.finished.connect(self._on_shared_review_finished)
        review.showFullScreen()

    def _on_shared_review_finished(self) -> None:
        self.shared_review = None
        self.statusBar().showMessage("Shared review finished; the parent's words are saved", 5000)

    # --- locking -------------------------------------------------------------------------

    def _on_unlocked(self) -> None:
        self.lock_action.setEnabled(True)
        self.show_cases()

    def _on_locked(self) -> None:
        """Hide every case view; a recording in progress is stopped and sealed (no question:
        the screen must lock now)."""
        self.record_view.stop()
        if self.stack.currentWidget() is self.reel_view:
            self.reel_view.close_reel()
        if self.bundle_view.bundle is not None:
            self.bundle_view.close_bundle()
        if self.review_view.notes is not None:
            self.review_view.close_media()
        self.case = None
        self.case_view.clear()
        self.lock_action.setEnabled(False)
        self.stack.setCurrentWidget(self.unlock_view)

    # --- jobs ----------------------------------------------------------------------------

    def _on_job_started(self, job: Job) -> None:
        self.job_label.setText(job.title)
        self.job_progress.setRange(0, 0)  # busy until the first progress report
        job.progressed.connect(self._on_job_progressed)
        for widget in (self.job_label, self.job_progress, self.job_cancel):
            widget.show()

    def _on_job_progressed(self, fraction: float) -> None:
        self.job_progress.setRange(0, 1000)
        self.job_progress.setValue(int(fraction * 1000))

    def _on_job_ended(self, job: Job) -> None:
        if not self.jobs.running:
            for widget in (self.job_label, self.job_progress, self.job_cancel):
                widget.hide()

    # --- the demo library's first run ----------------------------------------------------

    def build_demo(self, folder: Path) -> None:
        """First run: the window is already up; the demo library is built in a job (its steps
        on the start screen, its progress in the status bar) and opened when it is ready."""
        self.unlock_view.show_preparing(
            f"Preparing the demo library (first run only, about a minute): a {RECORDING_SECONDS}"
            " s synthetic recording is being made…"
        )
        self._demo_step.connect(self.unlock_view.show_preparing_step)

        def work(context: JobContext) -> object:
            return ensure_demo_library(folder, self._demo_step.emit, context.report)

        self.demo_job = self.jobs.start(
            "Building the demo library",
            work,
            lambda _: self.open_library(folder),
            lambda message: show_error(self, f"the demo library was not made: {message}"),
            on_cancel=lambda: None,  # Cancel would leave it half made: it finishes, then opens
        )

    # --- a new library -------------------------------------------------------------------

    def create_library(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "An empty folder for the new library")
        if not folder:
            return
        admin, ok = QInputDialog.getText(self, "New library", "Administrator's user name:")
        if not ok:
            return
        secret = ask_new_passphrase(self, "New library: the administrator's passphrase", [admin])
        if secret is None:
            return
        key, _ = QFileDialog.getSaveFileName(
            self, "Where to keep the organisation's recovery key (not inside the library)"
        )
        if not key:
            return
        try:
            library, _session = Library.create(Path(folder), admin, secret, Path(key), 730)
            library.close()
        except VideofeedbackError as exc:
            show_error(self, str(exc))
            return
        show_recovery_secret(self, Path(key), library.recovery_secret)
        self.open_library(Path(folder))

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        if not self.may_end_recording():
            event.ignore()
            return
        if not self.record_view.stop_and_wait(SEAL_WAIT_SECONDS):
            self.statusBar().showMessage("The recording is still being sealed…")
        if self.review_view.notes is not None:
            self.review_view.close_media()
        for view in (self.review_view, self.reel_view, self.bundle_view):
            view.player.unload(wait=True)  # the players let go before the app ends
        self.jobs.wait_all()
        wait_for_operations()  # every change saved before the library closes
        self.sync_indicator.shutdown()
        self.state.close_library()
        super().closeEvent(event)
