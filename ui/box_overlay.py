"""The tracks' boxes over the video: each face the plan follows in the frame shown, outlined
if it will be visible for the chosen purpose, filled if it will be hidden (as the export will
hide it, with the same margin). Clicking a box asks who it is (``WhoDialog``)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QDialog, QLabel, QPushButton, QVBoxLayout, QWidget

from clips.redact.detect import Box
from clips.redact.plan import OTHER, RedactionPlan
from clips.redact.render import hidden_box

HIDDEN = QColor(40, 40, 40, 215)  # what the export covers; the reviewer still sees it fits
SHOWN = QColor("#4caf50")
MANUAL = QColor(60, 60, 90, 235)


class BoxOverlay(QWidget):
    """A transparent layer the size of the video view, above it."""

    box_clicked = Signal(str)  # track id

    def __init__(self, video: QWidget) -> None:
        super().__init__(video)
        self.plan: RedactionPlan | None = None
        self.visible: frozenset[str] = frozenset()
        self.names: dict[str, str] = {}  # participant id → name, for the labels
        self.frame = 0
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setObjectName("boxOverlay")
        self.setGeometry(video.rect())
        video.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Resize and isinstance(watched, QWidget):
            self.setGeometry(watched.rect())
        return False

    # --- what is shown -------------------------------------------------------------------

    def set_plan(self, plan: RedactionPlan | None) -> None:
        self.plan = plan
        self.update()

    def set_visible(self, visible: frozenset[str]) -> None:
        self.visible = visible
        self.update()

    def set_frame(self, frame: int) -> None:
        if frame != self.frame:
            self.frame = frame
            self.update()

    # --- geometry ------------------------------------------------------------------------

    def picture(self) -> QRectF:
        """Where the film is drawn (letterboxed as VideoView draws it)."""
        if self.plan is None:
            return QRectF(self.rect())
        size = QSize(self.plan.width, self.plan.height).scaled(
            self.size(), Qt.AspectRatioMode.KeepAspectRatio
        )
        x, y = (self.width() - size.width()) // 2, (self.height() - size.height()) // 2
        return QRectF(QRect(x, y, size.width(), size.height()))

    def to_screen(self, box: Box) -> QRectF:
        assert self.plan is not None
        pic = self.picture()
        sx, sy = pic.width() / self.plan.width, pic.height() / self.plan.height
        return QRectF(pic.x() + box.x * sx, pic.y() + box.y * sy, box.w * sx, box.h * sy)

    def boxes(self) -> list[tuple[str, QRectF, bool]]:
        """(track id, where on screen, hidden) for each track in the frame shown."""
        if self.plan is None:
            return []
        found = []
        for track in self.plan.tracks:
            if track.first <= self.frame <= track.last:
                at = track.at(self.frame)
                if at is not None:
                    shown = track.id in self.visible
                    box = at.box if shown else hidden_box(at)
                    found.append((track.id, self.to_screen(box), not shown))
        return found

    def track_at(self, point: QPointF) -> str | None:
        for track_id, rect, _ in reversed(self.boxes()):
            if rect.contains(point):
                return track_id
        return None

    # --- input and painting --------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        hit = self.track_at(event.position())
        if hit is None:
            event.ignore()
            return
        self.box_clicked.emit(hit)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        if self.plan is None:
            return
        painter = QPainter(self)
        for track_id, rect, hidden in self.boxes():
            if hidden:
                painter.fillRect(rect, HIDDEN)
            painter.setPen(QPen(QColor("white") if hidden else SHOWN, 2))
            painter.drawRect(rect)
            painter.drawText(rect.adjusted(4, 2, 0, 0), self._label(track_id))
        for manual in self.plan.manual:
            drawn = manual.at(self.frame)
            if drawn is not None:
                painter.fillRect(self.to_screen(drawn), MANUAL)

    def _label(self, track_id: str) -> str:
        assert self.plan is not None
        who = self.plan.mark_of(track_id)
        if who is None:
            return f"{track_id}: who?"
        return f"{track_id}: {'someone else' if who == OTHER else self.names.get(who, who)}"


class WhoDialog(QDialog):
    """Who is this? One button per participant of the case, and "Someone else"."""

    chosen = Signal(str, str)  # track id, participant id or "other"

    def __init__(self, track_id: str, participants: list[tuple[str, str]], parent: QWidget):
        super().__init__(parent)
        self.setWindowTitle(f"Who is {track_id}?")
        self.track_id = track_id
        layout = QVBoxLayout(self)
        text = (
            f"Who is this ({track_id})? Only participants who consented to a copy's "
            "purpose are shown in it; everyone else is hidden."
        )
        layout.addWidget(QLabel(text))
        for ident, label in [*participants, (OTHER, "Someone else (always hidden)")]:
            button = QPushButton(label)
            button.setObjectName(f"who-{ident}")
            button.clicked.connect(lambda _=False, who=ident: self._choose(who))
            layout.addWidget(button)
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.reject)
        layout.addWidget(cancel)

    def _choose(self, who: str) -> None:
        self.chosen.emit(self.track_id, who)
        self.accept()
