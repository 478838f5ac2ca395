"""Record a session: live preview, timer, audio level, dropped-frame warning, big Start/Stop and
a "mark moment" key (M). Import files by a button or by dropping them here.

A recording never runs unseen: while its job runs, ``recording_changed``/``elapsed`` feed the
window's REC indicator, leaving asks first (the window does it) and a second Start is refused.
Unfinished recordings (a crash, a kill) are sealed by ``recover_unfinished`` when their case
is next opened."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager, nullcontext
from fractions import Fraction
from pathlib import Path

import numpy as np
from PySide6.QtCore import QDeadlineTimer, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QHideEvent, QImage, QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from annotations.timebase import format_clock
from clips.camera import CameraSource, find_cameras
from clips.record import Recorder, RecordingStatus, Source
from clips.synthetic import SyntheticSource
from ui.camera_preview import CameraPreview
from ui.errors import show_error
from ui.gui_thread import to_gui
from ui.jobs import Job, JobContext, Jobs
from ui.player import VideoView
from videofeedback import media
from videofeedback.library.cases import Case, Purpose
from videofeedback.library.errors import ConsentError
from videofeedback.operations import Changes

MEDIA_FILTER = "Video (*.mp4 *.mov *.m4v *.mkv *.avi *.webm *.3gp *.mts *.mpg);;All files (*)"
LOW_LEVEL_DB = -60.0
PREVIEW_ONLY = "Preview only, to frame the shot: nothing is recorded until you press Start."


def to_qimage(frame: np.ndarray) -> QImage:
    """A BGR frame as a QImage that owns its pixels (safe to pass between threads)."""
    height, width = frame.shape[:2]
    rgb = np.ascontiguousarray(frame[:, :, ::-1])
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


SYNTHETIC = "synthetic"


def cameras() -> list[int]:
    """The cameras OpenCV can open (looked for each time the record view opens)."""
    return find_cameras()


def open_source(choice: int | str) -> AbstractContextManager[Source]:
    """The chosen camera (with the default microphone), or the synthetic source."""
    if choice == SYNTHETIC:
        return nullcontext(SyntheticSource())
    return CameraSource(choice)


class RecordView(QWidget):
    recorded = Signal(str)  # media id
    imported = Signal(str)
    closed = Signal()
    status = Signal(str)
    recording_changed = Signal(bool)  # a recording job started (True) or ended (False)
    elapsed = Signal(str)  # the running recording's clock, "00:27"
    _preview = Signal(QImage)
    _progress = Signal(object)  # RecordingStatus
    _warning = Signal(str)

    def __init__(self, jobs: Jobs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.case: Case | None = None
        self.session_id = ""
        self.recorder: Recorder | None = None
        self.job: Job | None = None  # the recording's job, from Start until it is sealed
        self._stopping = False
        jobs.ended.connect(self._on_job_ended)
        self.markers: list[Fraction] = []
        self.video = VideoView()
        self.source = QComboBox()  # long camera names never widen the view (issue 14.4)
        self.source.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.source.setMinimumContentsLength(24)
        self.timer = QLabel("00:00")
        self.timer.setObjectName("timer")
        self.timer.setStyleSheet("font-size: 28pt; font-weight: bold")
        self.level = QProgressBar()
        self.level.setRange(0, 60)
        self.level.setTextVisible(False)
        self.level.setOrientation(Qt.Orientation.Vertical)
        self.dropped = QLabel("")
        self.dropped.setStyleSheet("color: #c62828; font-weight: bold")
        self.consent = QLabel("")
        self.consent.setWordWrap(True)
        self.consent.setStyleSheet("color: #c62828; font-size: 13pt")
        self.start_stop = QPushButton("● Start recording")
        self.start_stop.setMinimumHeight(64)
        self.start_stop.setStyleSheet("font-size: 18pt")
        self.start_stop.clicked.connect(self.toggle)
        self.mark_button = QPushButton("Mark moment (M)")
        self.mark_button.setMinimumHeight(64)
        self.mark_button.clicked.connect(self.mark)
        self.import_button = QPushButton("Import a video file…")
        self.import_button.setMinimumHeight(48)
        self.import_button.clicked.connect(self.choose_import)
        self.marker_label = QLabel("")
        self.back_button = back = QPushButton("Back to the case")
        back.clicked.connect(self.closed.emit)  # the window asks first while recording
        self._preview.connect(self.video.show_image)
        # before Start, the source's picture, to frame the shot (ui/camera_preview.py)
        # worker threads hand results over through ui.gui_thread, never by emitting a signal
        # of this view from their thread (the view may be deleted meanwhile)
        self._show_frame = to_gui(self, self._preview.emit)
        self.framing = CameraPreview(
            lambda frame: self._show_frame(to_qimage(frame)), to_gui(self, self.status.emit)
        )
        self.source.currentIndexChanged.connect(self._on_source_changed)
        self._progress.connect(self._on_status)
        self._warning.connect(lambda text: show_error(self, text))
        self._build(back)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def _build(self, back: QPushButton) -> None:
        top = QHBoxLayout()
        top.addWidget(QLabel("Source:"))
        top.addWidget(self.source, 1)
        top.addWidget(self.timer)
        top.addWidget(back)
        picture = QHBoxLayout()
        picture.addWidget(self.video, 1)
        picture.addWidget(self.level)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_stop, 2)
        buttons.addWidget(self.mark_button, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.consent)
        layout.addLayout(picture, 1)
        layout.addWidget(self.dropped)
        layout.addWidget(self.marker_label)
        layout.addLayout(buttons)
        layout.addWidget(self.import_button)
        layout.addWidget(QLabel("…or drop video files here to import them into this session."))

    # --- the session ---------------------------------------------------------------------

    @property
    def recording(self) -> bool:
        """A recording runs (or is being sealed): from Start until its job ends."""
        return self.job is not None

    def open_session(self, case: Case, session_id: str) -> None:
        if self.recording:
            self.setFocus()  # back to the running recording: nothing is reset
            return
        self.case, self.session_id = case, session_id
        self.source.clear()
        self.source.addItem("Synthetic test picture and tone (looking for cameras…)", SYNTHETIC)
        self._search = search = object()  # a later opening's search replaces this one
        self.jobs.start(
            "Looking for cameras",
            lambda _: cameras(),
            lambda found: self._show_cameras(found) if self._search is search else None,
        )
        self._set_recording(False)
        self.video.clear()
        self.timer.setText("00:00")
        self.dropped.setText("")
        self.marker_label.setText("")
        refusal = consent_refusal(case)
        self.consent.setText(refusal)
        self.start_stop.setEnabled(not refusal)
        self.import_button.setEnabled(not refusal)
        if not refusal:  # no filming consent: no picture either
            self.framing.start(self.source.currentData())
            self.marker_label.setText(PREVIEW_ONLY)
        self.setFocus()

    def _on_source_changed(self, _index: int) -> None:
        """Another camera chosen: its picture, before Start."""
        if self.case is not None and not self.recording and self.framing.running:
            self.framing.start(self.source.currentData())

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 - Qt's name
        self.framing.stop()  # leaving the page (or locking) closes the camera
        super().hideEvent(event)

    def _show_cameras(self, found: list[int | str]) -> None:
        """Opening each camera to see if it works takes a while: done in a job."""
        if self.recorder is not None:
            return  # already recording from the synthetic source
        for position, camera in enumerate(found):
            self.source.insertItem(position, f"Camera {camera} with the microphone", camera)
        synthetic = self.source.findData(SYNTHETIC)
        self.source.setItemText(
            synthetic, "Synthetic test picture and tone" + ("" if found else " (no camera found)")
        )
        self.source.setCurrentIndex(0)

    # --- recording -----------------------------------------------------------------------

    def toggle(self) -> None:
        if self.recorder is not None:
            self.stop()
        else:
            self.start()

    def start(self, duration: Fraction | None = None) -> None:
        if self.case is None or self.recording:
            return  # one recorder at a time
        case, session_id = self.case, self.session_id
        self.markers = []
        self._stopping = False
        self.marker_label.setText("")
        hooks = media.RecordHooks(
            on_preview=lambda frame: self._show_frame(to_qimage(frame)),
            on_status=to_gui(self, self._progress.emit),
            on_start=self._on_started,
        )

        choice = self.source.currentData()
        warn = to_gui(self, self._warning.emit)
        self.framing.stop()
        framing = self.framing

        def work(context: JobContext) -> str:
            framing.stop_and_wait()  # the camera is free before the recorder opens it
            with open_source(choice) as source:
                media_id, _ = media.record(case, session_id, source, duration, hooks)
                problem = source.microphone_error() if isinstance(source, CameraSource) else ""
            if problem:
                warn(problem)
            return media_id

        self._set_recording(True)
        self.job = job = self.jobs.start(
            "Recording",
            work,
            self._on_recorded,
            self._on_failed,
            on_cancel=self.stop,
            case=case,
            changes=Changes(media=True),
        )
        job.cancelled.connect(lambda: self._set_recording(False))
        self.recording_changed.emit(True)

    def _on_job_ended(self, job: Job) -> None:
        """Jobs.ended comes in the GUI thread before the job is deleted."""
        if self.job is job:
            self.job = None
            self._set_recording(False)
            self.recording_changed.emit(False)

    def stop_and_wait(self, seconds: float) -> bool:
        """Stop and wait (bounded) until the recording is sealed; True when it is."""
        job = self.job
        self.stop()
        if job is None:
            return True
        sealed = job.wait(QDeadlineTimer(int(seconds * 1000)))
        return bool(sealed)

    def _on_started(self, recorder: Recorder) -> None:
        self.recorder = recorder  # the worker thread sets it; stop() and mark() are thread-safe
        if self._stopping:
            recorder.stop()  # a Stop (or Lock) came before the recorder was there

    def stop(self) -> None:
        if self.job is not None:
            self._stopping = True
        if self.recorder is not None:
            self.recorder.stop()
            self.start_stop.setEnabled(False)
            self.start_stop.setText("Sealing…")
            self.elapsed.emit("sealing…")

    def mark(self) -> None:
        if self.recorder is None:
            return
        at = self.recorder.mark()
        self.markers.append(at)
        self.marker_label.setText("Marked: " + ", ".join(format_clock(m) for m in self.markers))

    def _on_status(self, status: RecordingStatus) -> None:
        self.timer.setText(format_clock(status.elapsed)[:5])
        if self.recorder is not None and not self._stopping:
            self.elapsed.emit(self.timer.text())
        self.level.setValue(int(max(status.audio_level_db, LOW_LEVEL_DB) - LOW_LEVEL_DB))
        if status.dropped:
            self.dropped.setText(
                f"⚠ {status.dropped} frame{'s were' if status.dropped > 1 else ' was'} late and "
                "repeated (the recording keeps time): close other programs"
            )

    def _on_recorded(self, media_id: str) -> None:
        self._set_recording(False)
        self.status.emit(f"Recording saved and sealed ({len(self.markers)} markers)")
        self.recorded.emit(media_id)

    def _on_failed(self, message: str) -> None:
        self._set_recording(False)
        show_error(self, message)

    def _set_recording(self, recording: bool) -> None:
        if not recording:
            self.recorder = None
        self.start_stop.setEnabled(recording or self.job is None)
        self.start_stop.setText("■ Stop" if recording else "● Start recording")
        self.mark_button.setEnabled(recording)
        self.import_button.setEnabled(not recording)
        self.source.setEnabled(not recording)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        if event.key() == Qt.Key.Key_M and self.recorder is not None:
            self.mark()
        else:
            super().keyPressEvent(event)

    # --- import --------------------------------------------------------------------------

    def choose_import(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Import video files", "", MEDIA_FILTER)
        for file in files:
            self.import_file(Path(file))

    def import_file(self, path: Path) -> None:
        if self.case is None:
            return
        case, session_id = self.case, self.session_id

        def work(context: JobContext) -> str:
            media_id = media.import_file(case, session_id, path, context.report, context.cancel)
            case.save()
            return media_id

        self.jobs.start(
            f"Importing {path.name}",
            work,
            self._on_imported,
            lambda message: show_error(self, f"{path.name} was not imported: {message}"),
            case=case,  # one at a time in the case's queue, however many files are dropped
            changes=Changes(media=True),
        )

    def _on_imported(self, media_id: str) -> None:
        self.status.emit("Import finished")
        self.imported.emit(media_id)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt's name
        if event.mimeData().hasUrls() and self.import_button.isEnabled():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt's name
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.import_file(Path(url.toLocalFile()))
        event.acceptProposedAction()


def consent_refusal(case: Case) -> str:
    """Why recording is refused (missing or withdrawn filming consent), or ''."""
    try:
        case.consent.require(Purpose.FILMING)
    except ConsentError as exc:
        return f"Recording is not possible: {exc}."
    return ""


def unfinished_recordings(case: Case) -> list[str]:
    """The case's recordings that were never sealed (the app was killed or crashed)."""
    rows = case.db.execute("SELECT id, info FROM media WHERE kind = 'recording'").fetchall()
    return [row[0] for row in rows if json.loads(row[1]).get("state") == "recording"]


def recover_unfinished(case: Case) -> list[dict[str, object]]:
    """Seal every unfinished recording of the case (what was recorded is kept); saves."""
    results = [media.recover_media(case, media_id) for media_id in unfinished_recordings(case)]
    if results:
        case.save()
    return results


def describe_recovery(results: list[dict[str, object]]) -> str:
    seconds = sum(float(str(r["duration"])) for r in results)
    count = len(results)
    return (
        f"{count} unfinished recording{'s were' if count > 1 else ' was'} found and sealed: "
        f"{int(seconds // 60)} min {seconds % 60:.0f} s kept"
    )
