"""Redaction in the review view: "Find people" (a job in the case's queue, with progress and
Cancel), the tracks as boxes over the video (ui/box_overlay.py) and as a lane under the
timeline (ui/redaction_lane.py), "who is this?" on a click, the review mode (N / P step
through what needs a look, seeking the player; "Approve review" once every stop was seen)
and muting the sound between the in and out marks.

The state is Qt-free (videofeedback/redaction_review.py); every change is a CaseOp on the
case's queue, the same model calls as ``people mark``, ``redact mute``, ``redact approve``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from clips.redact.plan import RedactionPlan
from ui.box_overlay import BoxOverlay, WhoDialog
from ui.errors import show_error
from ui.operations import CaseOp
from ui.redaction_lane import TrackLane
from videofeedback import redaction_review as model
from videofeedback.library.cases import Case, Purpose
from videofeedback.library.roles import Action, allowed
from videofeedback.operations import Changes, Operation
from videofeedback.redaction import load_plan

if TYPE_CHECKING:
    from ui.review_view import ReviewView

PURPOSES = [p for p in Purpose if p != Purpose.FILMING]
KEYS = "Review mode: N next · P previous"


class RedactionPanel(QWidget):
    """A row of buttons under the player; owns the overlay and the lane it adds."""

    def __init__(self, view: ReviewView) -> None:
        super().__init__(view)
        self.view = view
        self.case: Case | None = None
        self.media_id: str | None = None
        self.review = model.RedactionReview()
        self.overlay = BoxOverlay(view.video)
        self.lane = TrackLane(view.timeline)
        self.who: WhoDialog | None = None
        self.find_button = self._button("Find people", self.find_people)
        self.purpose = QComboBox()
        self.purpose.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.purpose.addItems([p.value for p in PURPOSES])
        self.purpose.setCurrentText(Purpose.FAMILY_COPY.value)
        self.purpose.currentTextChanged.connect(lambda t: self.review.set_purpose(Purpose(t)))
        self.mode_button = self._button("Review mode", self.toggle_mode)
        self.mode_button.setCheckable(True)
        self.previous_button = self._button("◀ P", lambda: self.step(-1))
        self.next_button = self._button("N ▶", lambda: self.step(1))
        self.approve_button = self._button("Approve review", self.approve)
        self.mute_button = self._button("Mute in→out", lambda: self.mute(False))
        self.bleep_button = self._button("Bleep in→out", lambda: self.mute(True))
        self.unmute_button = self._button("Unmute here", self.unmute)
        self.status = QLabel("")
        self.status.setObjectName("redactionStatus")
        self.status.setWordWrap(True)
        self._build()
        self._bind()

    def _button(self, text: str, slot: object) -> QPushButton:
        button = QPushButton(text)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.clicked.connect(slot)
        return button

    def _build(self) -> None:
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        # short rows in the review's side panel, so the view fits 1280×720 at 150 % (issue 14.4)
        rows: tuple[tuple[QWidget, ...], ...] = (
            (self.find_button, self.mode_button),
            (QLabel("Hidden for:"), self.purpose),
            (self.previous_button, self.next_button, self.approve_button),
            (self.mute_button, self.bleep_button, self.unmute_button),
        )
        for widgets in rows:
            row = QHBoxLayout()
            for widget in widgets:
                row.addWidget(widget)
            row.addStretch(1)
            column.addLayout(row)
        column.addWidget(self.status)

    def _bind(self) -> None:
        events = self.review.events
        events.plan.connect(self._on_plan_changed)
        events.visible.connect(self._on_visible_changed)
        events.stop.connect(self._on_stop_changed)
        self.overlay.box_clicked.connect(self.ask_who)
        self.lane.seek_requested.connect(self.view._on_seek_requested)
        self.view.player.position_changed.connect(self._on_position_changed)

    # --- opening -------------------------------------------------------------------------

    def open(self, case: Case, media_id: str) -> None:
        """The recording's stored plan, if any (decrypted in memory: a small JSON)."""
        self.case, self.media_id = case, media_id
        self.overlay.names = {p.id: p.name for p in case.participants.all()}
        may = allowed(case.session.role, Action.ANNOTATE)
        for button in (self.find_button, self.mute_button, self.bleep_button,
                       self.unmute_button, self.approve_button):  # fmt: skip
            button.setEnabled(may)
        self.mode_button.setChecked(False)
        self.review.show(load_plan(case, media_id), model.consenting_tracks(case))

    def unload(self) -> None:
        self.case = self.media_id = None
        if self.who is not None:
            self.who.reject()
        self.review.show(None)

    # --- finding and naming --------------------------------------------------------------

    def find_people(self) -> None:
        case, media_id = self.case, self.media_id
        if case is None or media_id is None:
            return
        self.view.player.pause()
        self.view.jobs.start(
            "Finding people",
            lambda context: model.find(case, media_id, context.cancel, context.report),
            self._on_found,
            lambda message: show_error(self, message),
            case=case,
            changes=Changes(media=True),
        )

    def _on_found(self, plan: RedactionPlan) -> None:
        if self.case is not None and plan.media == self.media_id:
            self.review.show(plan)
            self.view.status.emit(f"{len(plan.tracks)} people found; click a box to say who")

    def ask_who(self, track_id: str) -> None:
        if self.case is None:
            return
        everyone = self.case.participants.all()
        people: list[tuple[str, str]] = [(p.id, f"{p.name} ({p.role})") for p in everyone]
        self.who = WhoDialog(track_id, people, self)
        self.who.chosen.connect(self.mark)
        self.who.open()

    def mark(self, track_id: str, who: str) -> None:
        self._run(model.mark(self.media_id or "", track_id, who))

    def mute(self, bleep: bool) -> None:
        start, end = self.view.state.marks
        if start is None or end is None or end <= start:
            show_error(self, "set the in and out marks (I, O) around what to mute first")
            return
        self._run(model.mute(self.media_id or "", start, end, bleep))
        self.view.state.clear_marks()

    def unmute(self) -> None:
        """Take out the muted range under the playhead."""
        self._run(model.unmute(self.media_id or "", self.view.now()))

    def approve(self) -> None:
        if not self.review.all_seen:
            left = len(self.review.stops) - len(self.review.seen)
            show_error(self, f"{left} places still need a look: step through them (N) first")
            return
        self._run(model.approve(self.media_id or ""))

    def _run(self, op: Operation) -> None:
        if self.case is not None:
            CaseOp(self, self.case, op).success(self.review.show).run()

    # --- the review mode -----------------------------------------------------------------

    def toggle_mode(self) -> None:
        if self.mode_button.isChecked() and self.review.current is None:
            self.step(1)
        self._show_status()

    def step(self, direction: int) -> None:
        self.mode_button.setChecked(True)
        stop = self.review.go(direction)
        if stop is not None:
            self.view.player.pause()
            self.view.player.seek_frame(stop.frame)

    def handle_key(self, key: int, modifiers: Qt.KeyboardModifier) -> bool:
        """N / P in review mode (the review view asks first)."""
        if not self.mode_button.isChecked() or modifiers & ~Qt.KeyboardModifier.KeypadModifier:
            return False
        if key == Qt.Key.Key_N:
            self.step(1)
        elif key == Qt.Key.Key_P:
            self.step(-1)
        else:
            return False
        return True

    # --- the state's events --------------------------------------------------------------

    def _on_plan_changed(self, plan: RedactionPlan | None) -> None:
        self.overlay.set_plan(plan)
        self.lane.set_plan(plan)
        self._show_status()

    def _on_visible_changed(self, visible: frozenset[str]) -> None:
        self.overlay.set_visible(visible)
        self.lane.set_visible(visible)

    def _on_stop_changed(self, index: int | None) -> None:
        stops = self.review.stops
        self.lane.set_stop(None if index is None else stops[index].frame)
        self._show_status()

    def _on_position_changed(self, _millis: int) -> None:
        self.overlay.set_frame(self.view.player.frame())

    def _show_status(self) -> None:
        plan, review = self.review.plan, self.review
        if plan is None:
            self.status.setText("People not looked for yet")
        else:
            unmarked = sum(1 for t in plan.tracks if plan.mark_of(t.id) is None)
            state = "reviewed" if not review.pending else "review pending"
            where = ""
            if review.current is not None:
                where = f" · {review.current + 1}/{len(review.stops)}: "
                where += review.stops[review.current].describe()
            self.status.setText(
                f"{len(plan.tracks)} people, {unmarked} not named · {len(review.seen)} of "
                f"{len(review.stops)} looked at · {state}{where}"
            )
        pending = plan is not None and review.pending
        may = self.find_button.isEnabled()
        self.approve_button.setEnabled(pending and review.all_seen and may)
        for button in (self.previous_button, self.next_button):
            button.setEnabled(bool(review.stops))
