"""Redaction in the review view: "Find people" (a job in the case's queue, with progress and
Cancel), the tracks as boxes over the video (ui/box_overlay.py) and as a lane under the
timeline (ui/redaction_lane.py), "who is this?" on a click, the review mode (N / P step
through what needs a look, seeking the player; "Approve review" once every stop was seen)
muting, bleeping or disguising the sound between the in and out marks, and correcting the
tracks: a click on a box selects its track (outlined); "Split here" and "Extend here" act
on it at the playhead; Ctrl+click on another box (or "Merge…") merges that track into
it; a drag on the video draws a box to hide, a keyframe at the frame shown; a drag at
another frame adds a keyframe to the same box (moving linearly between); "New box" starts
another. These edits are not undone by Ctrl+Z (neither are marks and mutes): each one makes
the review pending again, so it is looked at before an export.

The state is Qt-free (videofeedback/redaction_review.py); every change is a CaseOp on the
case's queue, the same model calls as ``people mark``, ``redact mute``, ``redact approve``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
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
KEYS = (
    "Review mode: N next · P previous · click a box: its track · Ctrl+click another: merge · "
    "drag on the video: a box to hide"
)


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
        self.split_button = self._button("Split here", self.split)
        self.merge_button = self._button("Merge…", lambda: None)
        self.merge_button.setMenu(QMenu(self.merge_button))
        self.merge_button.menu().aboutToShow.connect(self._fill_merge_menu)
        self.extend_button = self._button("Extend here", self.extend)
        self.new_box_button = self._button("New box", lambda: self.review.draw(None))
        self.mute_button = self._button("Mute", lambda: self.mute("mute"))
        self.bleep_button = self._button("Bleep", lambda: self.mute("bleep"))
        self.disguise_button = self._button("Disguise", lambda: self.mute("disguise"))
        self.unmute_button = self._button("Unmute here", self.unmute)
        self.edit_buttons = (
            self.find_button, self.split_button, self.merge_button, self.extend_button,
            self.new_box_button, self.mute_button, self.bleep_button, self.disguise_button,
            self.unmute_button, self.approve_button,
        )  # fmt: skip
        self.track_label = QLabel("")
        self.track_label.setObjectName("redactionTrack")
        self.track_label.setWordWrap(True)
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
            (self.split_button, self.merge_button, self.extend_button),
            (self.track_label,),
            (QLabel("Sound in→out:"), self.unmute_button),
            (self.mute_button, self.bleep_button, self.disguise_button),
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
        events.selected.connect(self._on_selected_changed)
        events.drawing.connect(self._on_drawing_changed)
        self.overlay.box_clicked.connect(self.ask_who)
        self.overlay.merge_clicked.connect(self.merge_into_selected)
        self.overlay.drawn_clicked.connect(self.review.draw)
        self.overlay.box_drawn.connect(self.draw_box)
        self.lane.seek_requested.connect(self.view._on_seek_requested)
        self.view.player.position_changed.connect(self._on_position_changed)

    # --- opening -------------------------------------------------------------------------

    def open(self, case: Case, media_id: str) -> None:
        """The recording's stored plan, if any (decrypted in memory: a small JSON)."""
        self.case, self.media_id = case, media_id
        self.overlay.names = {p.id: p.name for p in case.participants.all()}
        may = allowed(case.session.role, Action.ANNOTATE)
        for button in self.edit_buttons:
            button.setEnabled(may)
        self.overlay.editable = may
        self.mode_button.setChecked(False)
        self.review.show(
            load_plan(case, media_id),
            model.consenting_tracks(case),
            model.review_pending(case),
        )

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
        """A click on a track's box: it is the selected track, and who is it?"""
        if self.case is None:
            return
        self.review.select(track_id)
        everyone = self.case.participants.all()
        people: list[tuple[str, str]] = [(p.id, f"{p.name} ({p.role})") for p in everyone]
        self.who = WhoDialog(track_id, people, self)
        self.who.chosen.connect(self.mark)
        self.who.open()

    def mark(self, track_id: str, who: str) -> None:
        self._run(model.mark(self.media_id or "", track_id, who))

    def mute(self, mode: str) -> None:
        """The sound between the in and out marks muted, bleeped or disguised."""
        start, end = self.view.state.marks
        if start is None or end is None or end <= start:
            show_error(self, f"set the in and out marks (I, O) around what to {mode} first")
            return
        self._run(model.mute(self.media_id or "", start, end, mode))
        self.view.state.clear_marks()

    # --- correcting the tracks -------------------------------------------------------------

    def _selected(self, doing: str) -> str | None:
        if self.review.selected is None:
            show_error(self, f"click a person's box over the video first to {doing} its track")
        return self.review.selected

    def split(self) -> None:
        """The selected track split at the playhead: the rest is a new track, unmarked."""
        track = self._selected("split")
        if track is not None:
            op = model.split(self.media_id or "", track, self.view.now())
            CaseOp(self, self._case(), op).success(self._on_split).run()

    def _on_split(self, done: tuple[RedactionPlan, str]) -> None:
        plan, new = done
        self.review.show(plan)
        self.view.status.emit(f"Split: from here on it is {new}, hidden until you say who it is")

    def extend(self) -> None:
        """The selected track continued to the playhead (held where it ends, widened)."""
        track = self._selected("extend")
        if track is not None:
            self._run(model.extend(self.media_id or "", track, self.view.now()))

    def merge_into_selected(self, other: str) -> None:
        """Ctrl+click on a box: its track merged into the selected one (or selected, if none
        is)."""
        keep = self.review.selected
        if keep is None or keep == other:
            self.review.select(other)
            return
        op = model.merge(self.media_id or "", keep, other)
        CaseOp(self, self._case(), op).success(self._on_merged).run()

    def _on_merged(self, done: tuple[RedactionPlan, bool]) -> None:
        plan, dropped = done
        self.review.show(plan)
        if dropped:
            self.view.status.emit("Merged; they were marked as different people, so it is "
                                  "hidden until you say who it is")  # fmt: skip

    def _fill_merge_menu(self) -> None:
        menu, plan, keep = self.merge_button.menu(), self.review.plan, self.review.selected
        menu.clear()
        if plan is None or keep is None:
            menu.addAction("Click a person's box first").setEnabled(False)
            return
        for track in plan.tracks:
            if track.id != keep:
                action = menu.addAction(f"{track.id} into {keep}")
                action.triggered.connect(lambda _=False, t=track.id: self.merge_into_selected(t))

    def draw_box(self, box: tuple[float, float, float, float]) -> None:
        """A box dragged over the video: a keyframe at the frame shown, of the box being
        drawn (or a new one)."""
        if self.case is None:
            return
        self.view.player.pause()
        at, drawing = self.view.now(), self.review.drawing
        before = {m.id for m in self.review.plan.manual} if self.review.plan else set()
        op = model.draw_box(self.media_id or "", drawing, at, box)

        def done(plan: RedactionPlan) -> None:
            self.review.show(plan)
            added = [m.id for m in plan.manual if m.id not in before]
            self.review.draw(added[0] if added else drawing)

        CaseOp(self, self.case, op).success(done).run()

    def _case(self) -> Case:
        assert self.case is not None
        return self.case

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

    def _on_selected_changed(self, track_id: str | None) -> None:
        self.overlay.set_selected(track_id)
        self.lane.set_selected(track_id)
        self._show_status()

    def _on_drawing_changed(self, box_id: str | None) -> None:
        self.overlay.set_drawing(box_id)
        self._show_status()

    def _on_position_changed(self, _millis: int) -> None:
        self.overlay.set_frame(self.view.player.frame())

    def _show_status(self) -> None:
        plan, review = self.review.plan, self.review
        pending = plan is not None and review.pending  # replays the signed trail: once
        if plan is None:
            self.status.setText("People not looked for yet")
        else:
            unmarked = sum(1 for t in plan.tracks if plan.mark_of(t.id) is None)
            state = "review pending" if pending else "reviewed"
            where = ""
            if review.current is not None:
                where = f" · {review.current + 1}/{len(review.stops)}: "
                where += review.stops[review.current].describe()
            self.status.setText(
                f"{len(plan.tracks)} people, {unmarked} not named · {len(review.seen)} of "
                f"{len(review.stops)} looked at · {state}{where}"
            )
        may = self.find_button.isEnabled()
        self.approve_button.setEnabled(pending and review.all_seen and may)
        for button in (self.previous_button, self.next_button):
            button.setEnabled(bool(review.stops))
        track = f"Track {review.selected}" if review.selected else "No track selected"
        box = f"drag: a keyframe of {review.drawing}" if review.drawing else "drag: a new box"
        self.track_label.setText(f"{track} · {box}")
