"""The tracks' boxes over the video: each face the plan follows in the frame shown, outlined
if it will be visible for the chosen purpose, filled if it will be hidden (as the export will
hide it, with the same margin). Clicking a box asks who it is (``WhoDialog``) and selects
its track; Ctrl+click on another track's box asks to merge it into the selected one; a drag
where no track's box is draws a box to hide (``box_drawn``, in the film's pixels); a click
on a drawn box chooses it for the next drag's keyframe."""

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
SELECTED = QColor("#ffd54f")
DRAG = 6  # a press that moves less than this (screen pixels) is a click, not a drawn box


class BoxOverlay(QWidget):
    """A transparent layer the size of the video view, above it."""

    box_clicked = Signal(str)  # track id
    merge_clicked = Signal(str)  # track id, Ctrl+clicked
    drawn_clicked = Signal(str)  # a drawn box's id
    box_drawn = Signal(object)  # (x, y, w, h) in the film's pixels

    def __init__(self, video: QWidget) -> None:
        super().__init__(video)
        self.plan: RedactionPlan | None = None
        self.visible: frozenset[str] = frozenset()
        self.names: dict[str, str] = {}  # participant id → name, for the labels
        self.frame = 0
        self.selected: str | None = None  # a track, outlined
        self.drawing: str | None = None  # the drawn box the next drag adds a keyframe to
        self.editable = False  # drags draw boxes (the person may annotate)
        self._press: QPointF | None = None
        self._drag: QRectF | None = None
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

    def set_selected(self, track_id: str | None) -> None:
        self.selected = track_id
        self.update()

    def set_drawing(self, box_id: str | None) -> None:
        self.drawing = box_id
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

    def to_film(self, rect: QRectF) -> tuple[float, float, float, float] | None:
        """A rectangle on screen in the film's pixels, cut to the picture (None: outside)."""
        assert self.plan is not None
        pic = self.picture()
        inside = rect.normalized().intersected(pic)
        if inside.width() <= 0 or inside.height() <= 0:
            return None
        sx, sy = self.plan.width / pic.width(), self.plan.height / pic.height()
        return ((inside.x() - pic.x()) * sx, (inside.y() - pic.y()) * sy,
                inside.width() * sx, inside.height() * sy)  # fmt: skip

    def drawn(self) -> list[tuple[str, QRectF]]:
        """(drawn box id, where on screen) for each drawn box in the frame shown."""
        if self.plan is None:
            return []
        found = []
        for manual in self.plan.manual:
            box = manual.at(self.frame)
            if box is not None:
                found.append((manual.id, self.to_screen(box)))
        return found

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
        if hit is not None:
            ctrl = event.modifiers() & Qt.KeyboardModifier.ControlModifier
            (self.merge_clicked if ctrl else self.box_clicked).emit(hit)
            return
        if self.plan is None or not self.editable:
            event.ignore()
            return
        self._press = event.position()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        if self._press is not None:
            self._drag = QRectF(self._press, event.position()).normalized()
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        """The drag's rectangle from the press to here (a release is all a drag needs)."""
        start, self._press, self._drag = self._press, None, None
        self.update()
        if start is None or self.plan is None:
            return
        rect = QRectF(start, event.position()).normalized()
        if rect.width() < DRAG or rect.height() < DRAG:
            hits = [box_id for box_id, area in self.drawn() if area.contains(start)]
            if hits:
                self.drawn_clicked.emit(hits[-1])
            return
        film = self.to_film(rect)
        if film is not None:
            self.box_drawn.emit(film)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        if self.plan is None:
            return
        painter = QPainter(self)
        for track_id, rect, hidden in self.boxes():
            if hidden:
                painter.fillRect(rect, HIDDEN)
            colour = QColor("white") if hidden else SHOWN
            chosen = track_id == self.selected
            painter.setPen(QPen(SELECTED if chosen else colour, 4 if chosen else 2))
            painter.drawRect(rect)
            painter.drawText(rect.adjusted(4, 2, 0, 0), self._label(track_id))
        for box_id, rect in self.drawn():
            painter.fillRect(rect, MANUAL)
            if box_id == self.drawing:
                painter.setPen(QPen(SELECTED, 2, Qt.PenStyle.DashLine))
                painter.drawRect(rect)
            painter.setPen(QColor("white"))
            painter.drawText(rect.adjusted(4, 2, 0, 0), box_id)
        if self._drag is not None:
            painter.setPen(QPen(SELECTED, 2, Qt.PenStyle.DashLine))
            painter.drawRect(self._drag)

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
