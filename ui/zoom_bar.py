"""The timeline's zoom bar: out, a horizontal scrollbar over the part of the recording in view,
in, the whole session, and the zoom level. It follows the timeline (``view_changed``) and
moves it; the zoom itself is the review state's (``state.zoom_by``)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QScrollBar, QWidget

from annotations.review_state import ReviewState
from ui.timeline import Timeline

MS = 1000  # the scrollbar counts milliseconds


class ZoomBar(QWidget):
    def __init__(self, timeline: Timeline, state: ReviewState, parent: QWidget | None = None):
        super().__init__(parent)
        self.timeline, self.state = timeline, state
        self.scrollbar = QScrollBar(Qt.Orientation.Horizontal)
        self.scrollbar.setToolTip("The part of the recording in view: drag to move along")
        self.level = QLabel("×1")
        self.level.setMinimumWidth(44)
        self.buttons = {
            "out": QPushButton("－"),
            "in": QPushButton("＋"),
            "fit": QPushButton("Whole session"),
        }
        self.buttons["out"].setToolTip("Zoom out (−)")
        self.buttons["in"].setToolTip("Zoom in (+)")
        self.buttons["out"].clicked.connect(lambda: state.zoom_by(0.5))
        self.buttons["in"].clicked.connect(lambda: state.zoom_by(2))
        self.buttons["fit"].clicked.connect(timeline.zoom_fit)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.buttons["out"])
        row.addWidget(self.scrollbar, 1)
        row.addWidget(self.buttons["in"])
        row.addWidget(self.level)
        row.addWidget(self.buttons["fit"])
        for button in self.buttons.values():
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the review
        for step in ("out", "in"):
            self.buttons[step].setFixedWidth(self.buttons[step].sizeHint().height() + 8)
        self.scrollbar.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.scrollbar.valueChanged.connect(self._on_scrolled)
        timeline.view_changed.connect(self._on_view_changed)
        self._on_view_changed()

    def _on_view_changed(self) -> None:
        timeline = self.timeline
        whole = int(float(timeline.data.duration) * MS)
        shown = min(int(timeline.visible_seconds() * MS), whole)
        self.scrollbar.blockSignals(True)
        self.scrollbar.setRange(0, max(0, whole - shown))
        self.scrollbar.setPageStep(max(shown, 1))
        self.scrollbar.setSingleStep(max(shown // 10, 1))
        self.scrollbar.setValue(int(timeline.offset * MS))
        self.scrollbar.blockSignals(False)
        self.scrollbar.setEnabled(whole > shown)
        self.level.setText(f"×{self.state.zoom:.3g}")

    def _on_scrolled(self, value: int) -> None:
        self.timeline.scroll_to(value / MS)
