"""The redaction on the timeline: a lane of its own under it with one bar per track (filled
dark where it will be hidden for the chosen purpose, green where shown, orange ticks on the
stretches flagged for review, the review mode's stop as a white line), and the muted ranges
drawn over the timeline's waveform (``MuteBand``). Both follow the timeline's zoom and scroll
by watching it repaint; nothing in the timeline itself changes."""

from __future__ import annotations

from fractions import Fraction

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from clips.redact.plan import RedactionPlan
from ui.timeline import RULER, STRIP, WAVE, Timeline

ROW = 12
ROWS = 3  # tracks that overlap in time share the lane in up to three rows
HIDDEN = QColor("#5b5b5b")
SHOWN = QColor("#4caf50")
FLAG = QColor("#ff9800")
MUTED = QColor(255, 59, 48, 90)
SELECTED = QColor("#ffd54f")


class TrackLane(QWidget):
    seek_requested = Signal(object)  # Fraction: seconds

    def __init__(self, timeline: Timeline, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.timeline = timeline
        self.plan: RedactionPlan | None = None
        self.visible: frozenset[str] = frozenset()
        self.stop_frame: int | None = None
        self.selected: str | None = None  # outlined: the track the panel's edits act on
        self.setObjectName("trackLane")
        self.setFixedHeight(ROW * ROWS + 6)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.band = MuteBand(timeline)
        timeline.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() in (QEvent.Type.Paint, QEvent.Type.Resize):
            self.update()
            if event.type() == QEvent.Type.Resize:
                self.band.fit()
        return False

    def set_plan(self, plan: RedactionPlan | None) -> None:
        self.plan = plan
        self.band.set_plan(plan)
        self.update()

    def set_visible(self, visible: frozenset[str]) -> None:
        self.visible = visible
        self.update()

    def set_selected(self, track_id: str | None) -> None:
        self.selected = track_id
        self.update()

    def set_stop(self, frame: int | None) -> None:
        self.stop_frame = frame
        self.update()

    def rows(self) -> dict[str, int]:
        """Each track's row: the first row whose last track ended before it starts."""
        ends: list[int] = []
        rows: dict[str, int] = {}
        assert self.plan is not None
        for track in sorted(self.plan.tracks, key=lambda t: t.first):
            free = [n for n, end in enumerate(ends) if end < track.first]
            row = free[0] if free else len(ends)
            if row == len(ends):
                ends.append(track.last)
            ends[row] = track.last
            rows[track.id] = min(row, ROWS - 1)
        return rows

    def bar(self, track_id: str) -> QRectF:
        assert self.plan is not None
        fps = Fraction(self.plan.fps)
        track = self.plan.track(track_id)
        x0 = self.timeline.x_of(Fraction(track.first) / fps)
        x1 = self.timeline.x_of(Fraction(track.last + 1) / fps)
        return QRectF(x0, 3 + self.rows()[track_id] * ROW, max(x1 - x0, 3), ROW - 2)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        self.seek_requested.emit(self.timeline.time_at(event.position().x()))

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#16191d"))
        if self.plan is None:
            painter.setPen(QColor("#9e9e9e"))
            painter.drawText(self.rect().adjusted(6, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter,
                             "People: not looked for yet")  # fmt: skip
            return
        fps = Fraction(self.plan.fps)
        for track in self.plan.tracks:
            rect = self.bar(track.id)
            painter.fillRect(rect, SHOWN if track.id in self.visible else HIDDEN)
            painter.setPen(QColor("white"))
            painter.drawText(rect.adjusted(3, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, track.id)
            if track.id == self.selected:
                painter.setPen(QPen(SELECTED, 2))
                painter.drawRect(rect)
        for stretch in self.plan.stretches:
            if stretch.track in {t.id for t in self.plan.tracks}:
                rect = self.bar(stretch.track)
                x0 = self.timeline.x_of(Fraction(stretch.start) / fps)
                x1 = self.timeline.x_of(Fraction(stretch.end + 1) / fps)
                painter.fillRect(QRectF(x0, rect.bottom() - 3, max(x1 - x0, 2), 3), FLAG)
        if self.stop_frame is not None:
            x = self.timeline.x_of(Fraction(self.stop_frame) / fps)
            painter.setPen(QPen(QColor("white"), 2))
            painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))


LABELS = {"mute": "muted", "bleep": "bleep", "disguise": "disguised"}


class MuteBand(QWidget):
    """The muted (and bleeped) ranges, over the timeline's waveform; clicks pass through."""

    def __init__(self, timeline: Timeline) -> None:
        super().__init__(timeline)
        self.timeline = timeline
        self.plan: RedactionPlan | None = None
        self.setObjectName("muteBand")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.fit()

    def fit(self) -> None:
        self.setGeometry(0, RULER + STRIP, self.timeline.width(), WAVE)

    def set_plan(self, plan: RedactionPlan | None) -> None:
        self.plan = plan
        self.fit()
        self.update()

    def ranges(self) -> list[QRectF]:
        if self.plan is None:
            return []
        spans = (m.seconds() for m in self.plan.mutes)
        return [
            QRectF(
                self.timeline.x_of(a),
                0,
                max(self.timeline.x_of(b) - self.timeline.x_of(a), 2),
                self.height(),
            )  # fmt: skip
            for a, b in spans
        ]

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.setPen(QColor("#ff3b30"))
        for rect, mute in zip(self.ranges(), self.plan.mutes if self.plan else (), strict=True):
            painter.fillRect(rect, MUTED)
            painter.drawText(rect.adjusted(2, 0, 0, 0), Qt.AlignmentFlag.AlignTop,
                             LABELS[mute.mode])  # fmt: skip
