"""Review and annotate one recording: the player, the timeline and the moment editor, driven
by the keys of video editors (see KEYS)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QImage, QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from annotations import Codebook
from annotations.agreement import compare_coders
from annotations.model import Moment, MomentChanged
from annotations.review_state import ReviewState
from annotations.timebase import format_clock
from ui.agreement_dialog import AgreementDialog
from ui.eliding import ElidedLabel, elide_items, scrolling_panel
from ui.errors import show_error
from ui.jobs import JobContext, Jobs
from ui.moment_editor import MomentEditor
from ui.operations import CaseOp, operations
from ui.player import Player, VideoView
from ui.redaction_review import KEYS as REDACTION_KEYS
from ui.redaction_review import RedactionPanel
from ui.timeline import Timeline, TimelineData, thumbnails_of
from ui.zoom_bar import ZoomBar
from videofeedback import media
from videofeedback.errors import VideofeedbackError
from videofeedback.library.annotating import AnnotationSession, case_codebook, open_annotations
from videofeedback.library.cases import Case
from videofeedback.library.roles import Action, allowed
from videofeedback.operations import Changes, add_comment, save_annotations

KEYS = (
    "Space play/pause · J/K/L shuttle · ←/→ one frame · Shift+←/→ one second · I/O in/out · "
    "1–6 code a moment · S still · +/− zoom · Ctrl+Z / Ctrl+Shift+Z undo/redo"
)
DEFAULT_MOMENT = Fraction(3)  # a code key with no in/out marks makes a moment this long
SHUTTLE_RATES = (1.0, 2.0, 4.0)
SAVE_DELAY_MS = 400
SIDE_WIDTH = 300  # the moments and the editor: the view fits 1280×720 at 150 % (853 points)


class ReviewView(QWidget):
    closed = Signal()
    status = Signal(str)
    reel_requested = Signal(object)  # Annotations

    def __init__(self, jobs: Jobs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.case: Case | None = None
        self.notes: AnnotationSession | None = None
        self._then_reel = False
        self._unsubscribe: Any = None
        self.state = ReviewState()  # selection, marks, playhead, zoom, lanes: Qt-free
        self._reverse_rate = 0.0
        self.player = Player(self)
        self.video = VideoView()
        self.timeline = Timeline()
        self.timeline.bind(self.state)
        self.zoom_bar = ZoomBar(self.timeline, self.state)
        self.editor = MomentEditor()
        self.moment_list = QListWidget()
        elide_items(self.moment_list)
        self.moment_list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.clock = QLabel("00:00.000")
        self.clock.setObjectName("clock")
        self.comments = QListWidget()
        elide_items(self.comments)
        self.comments.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.comments.setMaximumHeight(90)
        self.comment_text = QLineEdit()
        self.comment_text.setPlaceholderText("Your comment (Enter posts it)")
        self.comment_text.returnPressed.connect(self.add_comment)
        self.comment_button = QPushButton("Comment")
        self.comment_button.clicked.connect(self.add_comment)
        self.compare_button = QPushButton("Compare coding…")
        self.compare_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.compare_button.clicked.connect(self.compare_coding)
        self._save_timer = QTimer(self, singleShot=True, interval=SAVE_DELAY_MS)
        self._reverse_timer = QTimer(self, interval=100)
        self.redaction = RedactionPanel(self)  # find people, boxes, review mode, mutes
        self._build()
        self._connect()
        operations().changes.connect(self._on_changes)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def _build(self) -> None:
        transport = QHBoxLayout()  # tool buttons: as wide as their text, so 150 % fits 853 px
        for text, slot in (
            ("◀◀ J", self.shuttle_back),
            ("▶ / ❚❚  Space", self.player.toggle),
            ("L ▶▶", self.shuttle_forward),
        ):
            button = QToolButton()
            button.setText(text)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setMinimumHeight(40)
            button.clicked.connect(slot)
            transport.addWidget(button)
        transport.addStretch(1)
        transport.addWidget(self.clock)
        actions = QHBoxLayout()  # a second row: the view fits 1280 px wide (issue 14.4)
        actions.addStretch(1)
        actions.addWidget(self.compare_button)
        reel = QPushButton("Build a reel…")
        reel.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        reel.clicked.connect(self.build_reel)
        actions.addWidget(reel)
        back = QPushButton("Back to the case")
        back.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        back.clicked.connect(self.close_media)
        actions.addWidget(back)
        left = QWidget()
        column = QVBoxLayout(left)
        column.addLayout(actions)
        column.addWidget(self.video, 1)
        column.addLayout(transport)
        column.addWidget(self.timeline)
        column.addWidget(self.redaction.lane)
        column.addWidget(self.zoom_bar)
        column.addWidget(ElidedLabel(f"{KEYS} · {REDACTION_KEYS}"))
        right = QWidget()
        side = QVBoxLayout(right)
        side.addWidget(QLabel("Moments"))
        side.addWidget(self.moment_list, 1)
        side.addWidget(self.editor, 2)
        side.addWidget(QLabel("Comments on this moment"))
        side.addWidget(self.comments)
        comment_row = QHBoxLayout()
        comment_row.addWidget(self.comment_text, 1)
        comment_row.addWidget(self.comment_button)
        side.addLayout(comment_row)
        side.addWidget(QLabel("People in the film"))
        side.addWidget(self.redaction)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(scrolling_panel(right, SIDE_WIDTH))
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        QVBoxLayout(self).addWidget(split)

    def _connect(self) -> None:
        self.player.frame_ready.connect(self._on_frame_ready)
        self.player.position_changed.connect(self._on_position_changed)
        self.player.error.connect(lambda text: show_error(self, f"playback: {text}"))
        self.timeline.seek_requested.connect(self._on_seek_requested)
        self.timeline.moment_selected.connect(self.select)
        self.moment_list.currentItemChanged.connect(self._on_list_selection_changed)
        self._save_timer.timeout.connect(self.save)
        self._reverse_timer.timeout.connect(self._on_reverse_tick)

    @property
    def selected(self) -> str | None:
        return self.state.selected

    @property
    def marks(self) -> tuple[Fraction | None, Fraction | None]:
        return self.state.marks

    # --- opening and closing -------------------------------------------------------------

    def open_media(self, case: Case, media_id: str, then_reel: bool = False) -> None:
        """Load the overview and the annotations in a job, then show them (``then_reel``:
        and go on to the reel builder, as "Edit reel…" in the case view asks)."""
        self.case = case
        self._then_reel = then_reel

        def load(context: JobContext) -> tuple[Any, Any, AnnotationSession]:
            strip, peaks = media.load_overview(case, media_id)
            return strip, peaks, open_annotations(case, media_id)

        self.jobs.start("Opening the recording", load, self._on_loaded, case=case)

    def _on_loaded(self, loaded: tuple[Any, Any, AnnotationSession]) -> None:
        strip, peaks, notes = loaded
        assert self.case is not None
        record = self.case.media.get(notes.annotations.media_id)
        info = record.info
        fps = record.fps or Fraction(30)
        self.notes = notes
        self._unsubscribe = notes.annotations.subscribe(self._on_annotations_changed)
        self.editor.set_codebook(
            notes.annotations.codebook or case_codebook(notes.case), notes.editor
        )
        self.editor.guard = notes.require_change
        self.editor.set_language(self.case.participants.family_language())
        may_comment = allowed(self.case.session.role, Action.COMMENT)
        for widget in (self.comment_text, self.comment_button):
            widget.setVisible(may_comment)
        self.state.reset()
        self.timeline.watch(notes.annotations)
        self.timeline.set_data(
            TimelineData(
                duration=Fraction(str(info.get("duration", "0"))),
                fps=fps,
                thumbnails=thumbnails_of(strip),
                interval=strip.interval,
                peaks=peaks,
                markers=[Fraction(m) for m in info.get("markers", [])],
            )
        )
        self.player.load_record(self.case, record, fps)
        self.redaction.open(self.case, notes.annotations.media_id)
        self._refresh()
        self.setFocus()
        if self._then_reel:
            self._then_reel = False
            self.build_reel()

    def close_media(self) -> None:
        self.editor.commit_note()
        self.save()
        self.player.unload()
        self.video.clear()
        self.timeline.watch(None)
        self.redaction.unload()
        if self._unsubscribe:
            self._unsubscribe()
            self._unsubscribe = None
        self.notes = None
        self.case = None
        self.closed.emit()

    def build_reel(self) -> None:
        if self.notes is not None:
            self.editor.commit_note()
            self.save()
            self.player.pause()
            self.reel_requested.emit(self.notes.annotations)

    def save(self) -> None:
        """Store the annotations as they are now, saved off the GUI thread in the case's
        queue (the snapshot is taken here, so later edits wait for the next save)."""
        self._save_timer.stop()
        if self.notes is None:
            return
        CaseOp(self, self.notes.case, save_annotations(self.notes)).failure(
            lambda message: show_error(self, f"the annotations could not be saved: {message}")
        ).run()

    # --- keys ----------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        if self.notes is None or not self._handle_key(event):
            super().keyPressEvent(event)

    def _handle_key(self, event: QKeyEvent) -> bool:
        key, mods = event.key(), event.modifiers()
        shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        K = Qt.Key
        if self.redaction.handle_key(key, mods):
            return True
        if ctrl and key == K.Key_Z:
            self.redo() if shift else self.undo()
        elif ctrl and key == K.Key_Y:
            self.redo()
        elif ctrl:
            return False
        elif key == K.Key_Space:
            self._stop_reverse()
            self.player.toggle()
        elif key == K.Key_K:
            self._stop_reverse()
            self.player.pause()
        elif key == K.Key_L:
            self.shuttle_forward()
        elif key == K.Key_J:
            self.shuttle_back()
        elif key in (K.Key_Left, K.Key_Right):
            sign = 1 if key == K.Key_Right else -1
            self._stop_reverse()
            self.player.step(sign * (int(self.player.fps) if shift else 1))
        elif key == K.Key_I:
            self.set_in()
        elif key == K.Key_O:
            self.set_out()
        elif key == K.Key_S:
            self.take_still()
        elif key in (K.Key_Plus, K.Key_Equal):
            self.state.zoom_by(2)
        elif key == K.Key_Minus:
            self.state.zoom_by(0.5)
        elif key == K.Key_Escape:
            self.select(None)
        elif key == K.Key_Delete and self.selected:
            self.editor.delete_moment()
        elif event.text() and self.code_key(event.text()):
            pass
        else:
            return False
        return True

    # --- playback ------------------------------------------------------------------------

    def shuttle_forward(self) -> None:
        self._stop_reverse()
        rate = self.player.media.playbackRate() if self.player.playing else 0.0
        faster = [r for r in SHUTTLE_RATES if r > rate]
        self.player.play(faster[0] if faster else SHUTTLE_RATES[-1])

    def shuttle_back(self) -> None:
        """Backwards by stepping (the player decodes forwards only): faster on each press."""
        self.player.pause()
        faster = [r for r in SHUTTLE_RATES if r > self._reverse_rate]
        self._reverse_rate = faster[0] if faster else SHUTTLE_RATES[-1]
        self._reverse_timer.start()

    def _stop_reverse(self) -> None:
        self._reverse_rate = 0.0
        self._reverse_timer.stop()

    def _on_reverse_tick(self) -> None:
        back = self.player.seconds() - Fraction(self._reverse_rate) / 10
        if back <= 0:
            self._stop_reverse()
        self.player.seek(max(back, Fraction(0)))

    def now(self) -> Fraction:
        """The playhead on a frame boundary."""
        return Fraction(self.player.frame()) / self.player.fps

    # --- annotating ----------------------------------------------------------------------

    def set_in(self) -> None:
        moment = self._selected_moment()
        if moment is not None and moment.end is not None and self.now() < moment.end:
            self._edit(lambda e: e.trim(moment.id, self.now(), moment.end), moment.id)
            return
        self.state.mark_in(self.now())

    def set_out(self) -> None:
        moment = self._selected_moment()
        end = self.now() + 1 / self.player.fps  # the out frame is included
        if moment is not None and end > moment.start:
            self._edit(lambda e: e.trim(moment.id, moment.start, end), moment.id)
            return
        if self.marks[0] is None:
            self.state.mark_in(self.now())
        self.state.mark_out(end)

    def code_key(self, text: str) -> bool:
        """A code's key codes the selected moment, or makes one from the in/out marks (or a
        short one at the playhead)."""
        assert self.notes is not None
        book = self.notes.annotations.codebook
        code = book.by_key(text) if book else None
        if code is None:
            return False
        if self.selected:
            self._edit(lambda e: e.toggle_code(self.selected or "", code.id), self.selected)
            return True
        start, end = self.marks
        if start is None or end is None:
            start = self.now()
            duration = self.notes.annotations.duration
            end = min(start + DEFAULT_MOMENT, duration) if duration else start + DEFAULT_MOMENT
        moment = self._edit(lambda e: e.add_moment(start, end, (code.id,)), None)
        if isinstance(moment, Moment):
            self.state.clear_marks()
            self.select(moment.id, seek=False)  # the playhead stays where the person is
        return True

    def take_still(self) -> None:
        at = self.now()
        if self._edit(lambda e: e.add_still(at), None) is not None:
            self.status.emit(f"Still taken at {format_clock(at)}")

    def undo(self) -> None:
        if self.notes:
            done = self.notes.editor.undo()
            self.status.emit(f"Undone: {done}" if done else "Nothing to undo")

    def redo(self) -> None:
        if self.notes:
            done = self.notes.editor.redo()
            self.status.emit(f"Redone: {done}" if done else "Nothing to redo")

    def _edit(self, change: Any, moment_id: str | None) -> Any:
        assert self.notes is not None
        try:
            self.notes.require_change(moment_id)
            return change(self.notes.editor)
        except VideofeedbackError as exc:
            show_error(self, str(exc))
            return None

    def select(self, moment_id: str | None, seek: bool = True) -> None:
        self.editor.commit_note()
        self.state.selected = moment_id
        self.editor.show_moment(self._selected_moment())
        self.moment_list.blockSignals(True)
        self.moment_list.clearSelection()
        for row in range(self.moment_list.count()):
            item = self.moment_list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == moment_id:
                self.moment_list.setCurrentRow(row)
        self.moment_list.blockSignals(False)
        self._show_comments()
        moment = self._selected_moment()
        if moment is not None and seek:
            self.player.seek(moment.start + Fraction(1, 2) / self.player.fps)

    # --- supervision ---------------------------------------------------------------------

    def _show_comments(self) -> None:
        self.comments.clear()
        if self.case is not None and self.selected:
            for comment in self.case.supervision.comments(self.selected):
                when = comment.created_at.replace("T", " ")[:16]
                self.comments.addItem(f"{when} {comment.author}: {comment.text}")

    def add_comment(self) -> None:
        if self.case is None or not self.selected:
            show_error(self, "choose a moment to comment on")
            return
        if not self.comment_text.text().strip():
            return  # Enter in an empty box posts nothing
        op = add_comment(self.selected, self.comment_text.text())
        CaseOp(self, self.case, op).success(lambda _: self._on_commented()).run()

    def _on_commented(self) -> None:
        self.comment_text.clear()
        self.setFocus()

    def _on_changes(self, changes: Changes, _initiator: object) -> None:
        if changes.comments:
            self._show_comments()

    def compare_coding(self) -> None:
        """Kappa between two coders, and their differing moments side by side."""
        if self.notes is None or self.case is None:
            return
        model = self.notes.annotations
        me = self.case.session.name
        coders = sorted(model.coders(), key=lambda coder: coder == me)
        if len(coders) < 2:
            show_error(self, "only one person has coded this recording; nothing to compare")
            return
        a, b = coders[0], coders[-1]
        duration = model.duration or self.player.duration()
        book = model.codebook or case_codebook(self.case)
        report = compare_coders(model, a, b, duration, book)
        self.state.show_lanes(model.coders(), {m.id for m in report.only_a + report.only_b})
        self.agreement = AgreementDialog(report, book, self)
        self.agreement.show()

    def _selected_moment(self) -> Moment | None:
        if self.notes is None or self.selected is None:
            return None
        found = [m for m in self.notes.annotations.moments if m.id == self.selected]
        return found[0] if found else None

    # --- subscriptions -------------------------------------------------------------------

    def _on_annotations_changed(self, event: object) -> None:
        """The timeline follows the model itself; the list changes one row when it can."""
        if not (isinstance(event, MomentChanged) and self._update_row(event)):
            self._refresh()
        self._save_timer.start()

    def _update_row(self, event: MomentChanged) -> bool:
        """Rewrite the changed moment's row in place (False if its place in time moved)."""
        if self.notes is None or (event.old.start, event.old.end) != (
            event.new.start,
            event.new.end,
        ):
            return False
        for row in range(self.moment_list.count()):
            item = self.moment_list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == event.new.id:
                item.setText(_row_text(event.new, self.notes.annotations.codebook))
                if event.new.id == self.selected:
                    self.editor.show_moment(event.new)
                return True
        return False

    def _refresh(self) -> None:
        if self.notes is None:
            return
        model = self.notes.annotations
        self.compare_button.setVisible(len(model.coders()) > 1)
        coders = model.coders()  # one labelled lane per coder (by name) when several coded
        self.state.show_lanes(coders if len(coders) > 1 else [], set(self.state.lanes.flagged))
        if self.selected and self._selected_moment() is None:
            self.state.selected = None
        self.editor.show_moment(self._selected_moment())
        self.moment_list.blockSignals(True)
        self.moment_list.clear()
        for moment in model.in_time_order():
            item = QListWidgetItem(_row_text(moment, model.codebook))
            item.setData(Qt.ItemDataRole.UserRole, moment.id)
            self.moment_list.addItem(item)
            if moment.id == self.selected:
                self.moment_list.setCurrentItem(item)
        self.moment_list.blockSignals(False)

    def _on_list_selection_changed(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self.select(item.data(Qt.ItemDataRole.UserRole))

    def _on_frame_ready(self, image: QImage) -> None:
        self.video.show_image(image)

    def _on_position_changed(self, millis: int) -> None:
        at = Fraction(millis, 1000)
        self.state.playhead = at
        self.clock.setText(f"{format_clock(at)}  frame {self.player.frame()}")

    def _on_seek_requested(self, seconds: Fraction) -> None:
        self.select(None)
        self.player.seek(seconds + Fraction(1, 2) / self.player.fps)


def _row_text(moment: Moment, book: Codebook | None) -> str:
    codes = ", ".join(book.code(c).label for c in moment.codes) if book else ""
    return f"{moment.label()}  {codes}\n{moment.caption}".strip()

