"""The reel builder: drag moments and stills into order, edit each caption and hold time, add
a title card, render as a draft (smart cut, fast) or final (captions, stills, fades), and
preview the result. The reel is stored on the recording's session, with the builder's state:
opening the builder again (after a restart too) shows the session's newest reel as it was
built, ready for the shared review. One render at a time: the render buttons are greyed while
one runs."""

from __future__ import annotations

from fractions import Fraction

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from annotations.model import Annotations
from annotations.reel import ReelPlan
from annotations.reel_draft import ItemEdits, ReelDraft, Title
from annotations.timebase import format_clock
from ui.eliding import elide_items
from ui.errors import show_error
from ui.jobs import Job, JobContext, Jobs
from ui.player import Player, VideoView
from ui.prompts_dialog import PromptsDialog
from videofeedback import media
from videofeedback.errors import VideofeedbackError
from videofeedback.library.cases import Case, Purpose
from videofeedback.operations import Changes
from videofeedback.reels import latest_reel, reel_label, reel_recording

REF = Qt.ItemDataRole.UserRole
NEEDS_REEL = "Render the reel first (a draft is enough)"


class ReelView(QWidget):
    closed = Signal()
    rendered = Signal(str)  # the reel's media id
    shared_review_requested = Signal(str, object)  # reel id, Annotations

    def __init__(self, jobs: Jobs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.case: Case | None = None
        self.annotations: Annotations | None = None
        self.session_id = ""
        self.draft: ReelDraft | None = None  # the order and edits: an evented, undoable model
        self._texts: dict[str, str] = {}  # each item's time ("▶ 00:08.000–00:14.000")
        self._captions: dict[str, str] = {}  # each item's caption as the reel starts it
        self._syncing = False
        self.reel_id = ""
        self._render_job: Job | None = None
        self.reel_label = QLabel("")  # the stored reel: "Final · 4 items · 20 s"
        self.available = QListWidget()
        elide_items(self.available)
        self.available.setDragEnabled(True)
        self.available.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.available.itemDoubleClicked.connect(lambda _: self.add_selected())
        self.reel = QListWidget()
        elide_items(self.reel)
        self.reel.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.reel.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.reel.setAcceptDrops(True)
        for dragged in (self.reel.model().rowsInserted, self.reel.model().rowsMoved):
            dragged.connect(lambda *_: QTimer.singleShot(0, self._sync_from_list))
        self.reel.currentItemChanged.connect(self._on_current_changed)
        self.caption = QLineEdit()
        self.caption.editingFinished.connect(self._on_item_edited)
        self.hold = _seconds(0, 30)
        self.hold.valueChanged.connect(self._on_item_edited)
        self.slow = _seconds(1, 4)
        self.slow.setSingleStep(0.5)
        self.slow.valueChanged.connect(self._on_item_edited)
        self.title = QLineEdit()
        self.title.setPlaceholderText("Title card (optional), e.g. 'Lily and her mum'")
        self.subtitle = QLineEdit()
        for line in (self.title, self.subtitle):
            line.textChanged.connect(self._on_title_edited)
        for keys, slot in (
            (QKeySequence.StandardKey.Undo, self.undo),
            (QKeySequence.StandardKey.Redo, self.redo),
        ):
            QShortcut(keys, self, slot)
        self.length = QLabel("")
        self.player = Player(self)
        self.video = VideoView()
        self.player.frame_ready.connect(self.video.show_image)
        self._build()

    def _build(self) -> None:
        buttons = {
            "Add →": self.add_selected,
            "← Remove": self.remove_selected,
            "Up": lambda: self.move_selected(-1),
            "Down": lambda: self.move_selected(1),
        }
        middle = QVBoxLayout()
        middle.addStretch(1)
        for text, slot in buttons.items():
            button = QPushButton(text)
            button.setMinimumHeight(40)
            button.clicked.connect(slot)
            middle.addWidget(button)
        middle.addStretch(1)
        item_form = QFormLayout()
        item_form.addRow("Caption", self.caption)
        item_form.addRow("Hold (s)", self.hold)
        item_form.addRow("Slow motion (×)", self.slow)
        item_form.addRow("Title", self.title)
        item_form.addRow("Subtitle", self.subtitle)
        self.render_for = render_purposes()  # redaction: who the final render is for
        item_form.addRow("Render for", self.render_for)
        self.draft_button = QPushButton("Render draft (fast)")
        self.final_button = QPushButton("Render final")
        self.play_button = QPushButton("Play / pause preview")
        self.share_button = QPushButton("Shared review with the parent…")
        self.share_button.setEnabled(False)
        self.share_button.setToolTip(NEEDS_REEL)
        self.prompts_button = QPushButton("Reflective prompts…")
        self.prompts_button.clicked.connect(self.edit_prompts)
        self.share_button.clicked.connect(
            lambda: self.shared_review_requested.emit(self.reel_id, self.annotations)
        )
        back = QPushButton("Back to the recording")
        self.draft_button.clicked.connect(lambda: self.render(draft=True))
        self.final_button.clicked.connect(lambda: self.render(draft=False))
        self.play_button.clicked.connect(self.player.toggle)
        back.clicked.connect(self.close_reel)
        actions = QGridLayout()
        for index, button in enumerate(
            (
                self.draft_button,
                self.final_button,
                self.play_button,
                self.prompts_button,
                self.share_button,
                back,
            )
        ):
            button.setMinimumHeight(44)
            actions.addWidget(button, index // 3, index % 3)
        grid = QGridLayout(self)
        grid.addWidget(QLabel("<b>Moments and stills</b> (drag into the reel)"), 0, 0)
        grid.addWidget(QLabel("<b>The reel</b> (drag to reorder)"), 0, 2)
        grid.addWidget(QLabel("<b>Preview</b>"), 0, 3)
        grid.addWidget(self.available, 1, 0)
        grid.addLayout(middle, 1, 1)
        grid.addWidget(self.reel, 1, 2)
        grid.addWidget(self.video, 1, 3)
        grid.addLayout(item_form, 2, 0, 1, 3)
        info = QVBoxLayout()
        info.addWidget(self.length)
        info.addWidget(self.reel_label)
        info.addStretch(1)
        grid.addLayout(info, 2, 3)
        grid.addLayout(actions, 3, 0, 1, 4)
        grid.setColumnStretch(0, 2)
        grid.setColumnStretch(2, 2)
        grid.setColumnStretch(3, 3)

    # --- opening -------------------------------------------------------------------------

    def open_reel(self, case: Case, annotations: Annotations) -> None:
        self.case, self.annotations = case, annotations
        self.session_id = case.media.get(annotations.media_id).session
        self._texts = {}
        self.reel_id = ""
        self.share_button.setEnabled(False)
        self.share_button.setToolTip(NEEDS_REEL)
        self.reel_label.setText("Not rendered yet")
        self.reel.clear()
        self.available.clear()
        captions: dict[str, str] = {}
        self._captions = captions
        language = case.participants.family_language()  # the family reads the captions in theirs
        for moment in annotations.in_time_order():
            if moment.end is None:
                continue
            caption = moment.caption_in(language)
            self._add_available(moment.id, f"▶ {moment.label()}", caption)
        for still in annotations.stills:
            self._add_available(still.id, f"▣ {format_clock(still.time)}", still.caption)
        self.draft = ReelDraft(annotations, captions)
        self.draft.events.order.connect(self._on_order_changed)
        self.draft.events.edits.connect(self._on_edits_changed)
        self.draft.events.title.connect(self._on_title_changed)
        self._on_title_changed(self.draft.title)
        self._on_order_changed(())
        self._reopen_stored(case, annotations)

    def _reopen_stored(self, case: Case, annotations: Annotations) -> None:
        """The session's newest reel of this recording, as it was built: its order, edits and
        title in the lists, the reel itself in the preview, ready for the shared review."""
        stored = latest_reel(case, self.session_id)
        if stored is None or reel_recording(stored) not in ("", annotations.media_id):
            return
        assert self.draft is not None
        state = stored.info.get("builder") or {"order": list(stored.info.get("items", []))}
        self.draft.restore(state)
        self.draft.clear_history()  # reopening is not a change to undo
        self._show_reel(stored.id)

    def _add_available(self, ref: str, mark: str, caption: str) -> None:
        item = QListWidgetItem(f"{mark}  {caption}")
        item.setData(REF, ref)
        self.available.addItem(item)
        self._texts[ref] = mark
        self._captions[ref] = caption

    def _line(self, ref: str) -> str:
        """An item's line in the reel: its time and its caption as the reel has it now."""
        caption = self.draft.edits(ref).caption if self.draft is not None else ""
        return f"{self._texts.get(ref, ref)}  {caption}"

    def close_reel(self) -> None:
        self.player.unload()
        self.video.clear()
        self.closed.emit()

    # --- the order -----------------------------------------------------------------------

    def refs(self) -> list[str]:
        return [self.reel.item(row).data(REF) for row in range(self.reel.count())]

    def add_selected(self) -> None:
        chosen = self.available.selectedItems() or [self.available.currentItem()]
        if self.draft is not None:
            self.draft.add([item.data(REF) for item in chosen if item is not None])

    def remove_selected(self) -> None:
        if self.draft is not None:
            self.draft.remove(self.reel.currentRow())

    def move_selected(self, step: int) -> None:
        row = self.reel.currentRow()
        if self.draft is not None and self.draft.move(row, step):
            self.reel.setCurrentRow(row + step)

    def undo(self) -> None:
        if self.draft is not None:
            self.draft.undo()

    def redo(self) -> None:
        if self.draft is not None:
            self.draft.redo()

    def _sync_from_list(self) -> None:
        """An order dragged in the list (or dropped into it) becomes the draft's."""
        if self.draft is not None and not self._syncing and self.refs() != list(self.draft.order):
            self.draft.reorder(self.refs())

    # --- the draft's events --------------------------------------------------------------

    def _on_order_changed(self, order: tuple[str, ...]) -> None:
        row = self.reel.currentRow()
        self._syncing = True
        self.reel.clear()
        for ref in order:
            item = QListWidgetItem(self._line(ref))
            item.setData(REF, ref)
            self.reel.addItem(item)
        self._syncing = False
        if 0 <= row < self.reel.count():
            self.reel.setCurrentRow(row)
        self._on_reel_changed()

    def _on_edits_changed(self, ref: str) -> None:
        for row in range(self.reel.count()):
            if self.reel.item(row).data(REF) == ref:
                self.reel.item(row).setText(self._line(ref))
        current = self.reel.currentItem()
        if current is not None and current.data(REF) == ref:
            self._on_current_changed(current)
        self._on_reel_changed()

    def _on_title_changed(self, title: Title) -> None:
        for line, text in ((self.title, title.text), (self.subtitle, title.subtitle)):
            if line.text().strip() != text:
                line.blockSignals(True)
                line.setText(text)
                line.blockSignals(False)
        self._on_reel_changed()

    def _on_title_edited(self) -> None:
        if self.draft is not None:
            self.draft.set_title(self.title.text(), self.subtitle.text())

    # --- the plan ------------------------------------------------------------------------

    def plan(self) -> ReelPlan:
        """The reel as the core renders it, from the draft's order and each item's edits."""
        assert self.draft is not None
        return self.draft.plan(self.case.participants.family_language() if self.case else "")

    def _on_reel_changed(self) -> None:
        refs = self.refs()
        idle = self._render_job is None  # one render at a time
        self.draft_button.setEnabled(idle and bool(refs))
        self.final_button.setEnabled(idle and (bool(refs) or bool(self.title.text())))
        for button, needs in ((self.draft_button, "a moment"), (self.final_button, "an item")):
            button.setToolTip(
                ""
                if button.isEnabled()
                else "A reel is being rendered"
                if not idle
                else f"Add {needs} to the reel first"
            )
        try:
            seconds = sum(item.length() for item in self.plan().items) if refs else 0
        except VideofeedbackError:
            seconds = 0
        self.length.setText(f"{len(refs)} items, about {float(seconds):.0f} s")

    def _on_current_changed(self, item: QListWidgetItem | None) -> None:
        draft, ref = self.draft, item.data(REF) if item is not None else None
        edits = draft.edits(ref) if draft is not None and ref is not None else None
        for widget in (self.caption, self.hold, self.slow):
            widget.blockSignals(True)
        self.caption.setText(edits.caption if edits else "")
        self.hold.setValue(float(edits.hold) if edits else 0)
        self.slow.setValue(float(edits.slow) if edits else 1)
        for widget in (self.caption, self.hold, self.slow):
            widget.blockSignals(False)

    def _on_item_edited(self) -> None:
        item = self.reel.currentItem()
        if item is None or self.draft is None:
            return
        edits = ItemEdits(
            self.caption.text(),
            Fraction(self.hold.value()).limit_denominator(100),
            Fraction(self.slow.value()).limit_denominator(100),
        )
        self.draft.edit(item.data(REF), edits)

    def edit_prompts(self) -> None:
        if self.case is not None:
            self.prompts = PromptsDialog(self.case, self)
            self.prompts.open()

    # --- rendering -----------------------------------------------------------------------

    def render(self, draft: bool) -> None:  # type: ignore[override] # not QWidget.render
        if self.case is None:
            return
        try:
            plan = self.plan()
        except VideofeedbackError as exc:
            show_error(self, str(exc))
            return
        case, session_id = self.case, self.session_id
        purpose = self.render_for.currentData()
        if draft and purpose is not None:
            show_error(self, f"a draft is for your own review; render final for {purpose.value}")
            return
        state = self.draft.state() if self.draft is not None else None

        def work(context: JobContext) -> str:
            if draft:
                reel_id = media.draft_reel(
                    case, session_id, plan, context.report, context.cancel, state
                )
            else:
                reel_id = media.render_reel(
                    case, session_id, plan, context.report, context.cancel, purpose, state
                )
            case.save()
            return reel_id

        title = "Rendering a draft reel" if draft else "Rendering the reel"
        self._render_job = self.jobs.start(
            title, work, self._on_rendered, case=case, changes=Changes(media=True, reels=True)
        )
        self._render_job.finished.connect(self._on_render_ended)
        self._on_reel_changed()

    def _on_render_ended(self) -> None:
        self._render_job = None
        self._on_reel_changed()

    def _on_rendered(self, reel_id: str) -> None:
        self._show_reel(reel_id)
        self.rendered.emit(reel_id)

    def _show_reel(self, reel_id: str) -> None:
        assert self.case is not None
        self.reel_id = reel_id
        record = self.case.media.get(reel_id)
        fps = record.frame_rate()
        self.player.load_record(self.case, record, fps)
        self.share_button.setEnabled(True)
        self.share_button.setToolTip("")
        self.reel_label.setText(f"Stored: {reel_label(record)}")


def render_purposes() -> QComboBox:
    """Your own review (nothing hidden), or a purpose: hidden as its consents require."""
    box = QComboBox()
    box.addItem("my own review (nothing hidden)", None)
    for purpose in Purpose:
        if purpose != Purpose.FILMING:
            box.addItem(f"{purpose.value} (redacted)", purpose)
    return box


def _seconds(low: float, high: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setDecimals(1)
    return box
