"""The timeline: filmstrip, waveform, moments coloured by category, recording markers, stills,
in/out marks and the playhead, zoomable from the whole session down to single frames.

Bound to the review's state (``bind``) and to the annotations (``watch``), it has one slot
per event and repaints only the part of itself that the event changed: a moment changed is
its old and new rectangle, a playhead moved is two thin columns. Painting itself draws only
the moments under the region being painted (found by bisection in time order)."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import cast

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QPolygonF,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from annotations import Codebook
from annotations.model import (
    Annotations,
    Event,
    Moment,
    MomentAdded,
    MomentChanged,
    MomentRemoved,
    Still,
    StillAdded,
    StillChanged,
    StillRemoved,
)
from annotations.review_state import Lanes, Marks, ReviewState
from annotations.timebase import format_clock
from clips.overview import Filmstrip, Peaks

RULER, STRIP, WAVE, MOMENTS = 20, 54, 44, 34
HEIGHT = RULER + STRIP + WAVE + MOMENTS  # one lane; each coder's lane adds LANE
LANE = 22  # one coder's row when several coded the recording (ELAN's tiers)
LANE_NAMES = 64  # the lanes' names, at the left edge
MAX_PIXELS_PER_FRAME = 16
NO_CODE = QColor("#9e9e9e")


@dataclass
class TimelineData:
    duration: Fraction = Fraction(0)
    fps: Fraction = Fraction(30)
    thumbnails: list[QPixmap] = field(default_factory=list)
    interval: Fraction = Fraction(2)
    peaks: Peaks | None = None
    markers: list[Fraction] = field(default_factory=list)


def thumbnails_of(strip: Filmstrip) -> list[QPixmap]:
    """Decoded in memory only (no thumbnail cache on disk)."""
    return [QPixmap.fromImage(QImage.fromData(png)) for png in strip.thumbnails]


class Timeline(QWidget):
    seek_requested = Signal(object)  # Fraction: seconds
    moment_selected = Signal(object)  # str | None
    view_changed = Signal()  # the zoom or the part in view changed (the zoom bar follows)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data = TimelineData()
        self.codebook: Codebook | None = None
        self.moments: list[Moment] = []
        self.stills: list[Still] = []
        self.selected: str | None = None
        self.lanes: list[str] = []  # coders side by side (agreement), else one lane
        self.flagged: set[str] = set()  # moments the other coder has no match for
        self.playhead = Fraction(0)
        self.marks: tuple[Fraction | None, Fraction | None] = (None, None)
        self.pixels_per_second = 10.0
        self.offset = 0.0  # seconds at the left edge
        self._fitted = True
        self._starts: list[Fraction] = []  # the moments' starts, in time order
        self._longest = Fraction(0)  # the longest moment: how far back a bisection looks
        self.state: ReviewState | None = None
        self._unwatch: Callable[[], None] | None = None
        self.setMinimumHeight(HEIGHT)
        self.setMouseTracking(True)  # hovering a moment tells all of it (labels are cut)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys go to the review view

    # --- what is shown -------------------------------------------------------------------

    def set_data(self, data: TimelineData) -> None:
        self.data = data
        self.zoom_fit()

    def set_annotations(
        self, moments: list[Moment], stills: list[Still], codebook: Codebook | None
    ) -> None:
        """Everything at once (a new recording); later changes come one event at a time."""
        self.moments = sorted(moments, key=_time_order)
        self._starts = [m.start for m in self.moments]
        self._longest = max((m.duration for m in self.moments), default=Fraction(0))
        self.stills, self.codebook = list(stills), codebook
        self.update()

    def watch(self, annotations: Annotations | None) -> None:
        """Show ``annotations`` and follow their events (None: stop following)."""
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None
        if annotations is not None:
            self.set_annotations(annotations.moments, annotations.stills, annotations.codebook)
            self._unwatch = annotations.subscribe(self._on_annotations_event)

    def bind(self, state: ReviewState) -> None:
        """Follow the review's state: one slot per event."""
        self.state = state
        state.events.selection.connect(self._on_selection_changed)
        state.events.marks.connect(self._on_marks_changed)
        state.events.playhead.connect(self._on_playhead_changed)
        state.events.zoom.connect(self._on_zoom_changed)
        state.events.lanes.connect(self._on_lanes_changed)

    def select(self, moment_id: str | None) -> None:
        old, self.selected = self.selected, moment_id
        for changed in (old, moment_id):
            if changed is not None:
                self._update_moment(changed)

    def set_lanes(self, coders: list[str], flagged: set[str]) -> None:
        """Each coder's moments in a lane of their own, named at the left (one row per coder,
        as ELAN's tiers and BORIS's observers); ``flagged`` ones outlined in red."""
        self.lanes, self.flagged = coders, flagged
        self.setMinimumHeight(self.total_height())
        self.updateGeometry()
        self.update()

    def band(self) -> int:
        """The height of the moments' band: one lane, or one per coder."""
        return max(MOMENTS, len(self.lanes) * LANE + 4) if len(self.lanes) > 1 else MOMENTS

    def total_height(self) -> int:
        return RULER + STRIP + WAVE + self.band()

    def set_playhead(self, seconds: Fraction) -> None:
        old, self.playhead = self.playhead, seconds
        x = self.x_of(seconds)
        if x < 0 or x > self.width() - 20:
            self.scroll_to(float(seconds) - 0.1 * self.visible_seconds())
            return
        for at in (old, seconds):
            self.update(QRect(int(self.x_of(at)) - 2, 0, 5, self.total_height()))

    def set_marks(self, start: Fraction | None, end: Fraction | None) -> None:
        old, self.marks = self.marks, (start, end)
        for marks in (old, self.marks):
            if marks[0] is not None:
                self.update(self._marks_rect(marks).toAlignedRect().adjusted(-1, 0, 1, 0))

    # --- the state's events --------------------------------------------------------------

    def _on_selection_changed(self, moment_id: str | None) -> None:
        self.select(moment_id)

    def _on_marks_changed(self, marks: Marks) -> None:
        self.set_marks(*marks)

    def _on_playhead_changed(self, seconds: Fraction) -> None:
        self.set_playhead(seconds)

    def _on_zoom_changed(self, level: float) -> None:
        wanted = self.fit_pixels_per_second() * level
        if abs(wanted - self.pixels_per_second) > 1e-9:
            self.zoom(wanted / self.pixels_per_second)

    def _on_lanes_changed(self, lanes: Lanes) -> None:
        self.set_lanes(list(lanes.coders), set(lanes.flagged))

    # --- the annotations' events ---------------------------------------------------------

    def _on_annotations_event(self, event: Event) -> None:
        if isinstance(event, MomentAdded):
            self._insert(event.moment)
            self._update_moment(event.moment)
        elif isinstance(event, MomentChanged):
            self._update_moment(event.old)  # where it was (before it is taken out)
            self._remove(event.old.id)
            self._insert(event.new)
            self._update_moment(event.new)
        elif isinstance(event, MomentRemoved):
            self._update_moment(event.moment)
            self._remove(event.moment.id)
        elif isinstance(event, StillAdded | StillChanged | StillRemoved):
            self._on_still_event(event)

    def _on_still_event(self, event: StillAdded | StillChanged | StillRemoved) -> None:
        if isinstance(event, StillAdded):
            self.stills.append(event.still)
            touched = [event.still]
        elif isinstance(event, StillChanged):
            self.stills = [event.new if s.id == event.new.id else s for s in self.stills]
            touched = [event.old, event.new]
        else:
            self.stills = [s for s in self.stills if s.id != event.still.id]
            touched = [event.still]
        for still in touched:
            x = int(self.x_of(still.time))
            self.update(QRect(x - 7, RULER + STRIP + WAVE, 15, self.band()))

    def _insert(self, moment: Moment) -> None:
        at = bisect.bisect_left(self.moments, _time_order(moment), key=_time_order)
        self.moments.insert(at, moment)
        self._starts.insert(at, moment.start)
        self._longest = max(self._longest, moment.duration)

    def _remove(self, moment_id: str) -> None:
        for at, moment in enumerate(self.moments):
            if moment.id == moment_id:
                del self.moments[at], self._starts[at]
                return

    def _update_moment(self, moment: Moment | str) -> None:
        if isinstance(moment, str):
            found = [m for m in self.moments if m.id == moment]
            if not found:
                return
            moment = found[0]
        self.update(self.moment_rect(moment).toAlignedRect().adjusted(-3, -3, 3, 3))

    # --- zoom ----------------------------------------------------------------------------

    def fit_pixels_per_second(self) -> float:
        return max(self.width(), 100) / max(float(self.data.duration), 1.0)

    def max_pixels_per_second(self) -> float:
        return float(self.data.fps) * MAX_PIXELS_PER_FRAME

    def visible_seconds(self) -> float:
        return self.width() / self.pixels_per_second

    def zoom_fit(self) -> None:
        self._fitted = True
        self.pixels_per_second = self.fit_pixels_per_second()
        self.offset = 0.0
        if self.state is not None:
            self.state.zoom = 1.0
        self.update()
        self.view_changed.emit()

    def zoom(self, factor: float, around: float | None = None) -> None:
        """Zoom by ``factor`` keeping ``around`` (default: the playhead) where it is on screen."""
        anchor = float(self.playhead) if around is None else around
        screen_x = (anchor - self.offset) * self.pixels_per_second
        low, high = self.fit_pixels_per_second(), self.max_pixels_per_second()
        self.pixels_per_second = min(max(self.pixels_per_second * factor, low), high)
        self._fitted = self.pixels_per_second == low
        self.offset = 0.0 if self._fitted else max(0.0, anchor - screen_x / self.pixels_per_second)
        if self.state is not None:  # the level as it came out (clamped), for the next step
            self.state.zoom = self.pixels_per_second / low
        self.scroll_to(self.offset)

    def scroll_to(self, offset: float) -> None:
        """Show from ``offset`` seconds (never past the end, never before the start)."""
        last = max(0.0, float(self.data.duration) - self.visible_seconds())
        self.offset = min(max(0.0, offset), last)
        self.update()
        self.view_changed.emit()

    def resizeEvent(self, event: object) -> None:  # noqa: N802 - Qt's name
        if self._fitted:
            self.pixels_per_second = self.fit_pixels_per_second()
        self.view_changed.emit()

    # --- geometry ------------------------------------------------------------------------

    def x_of(self, seconds: Fraction | float) -> float:
        return (float(seconds) - self.offset) * self.pixels_per_second

    def time_at(self, x: float) -> Fraction:
        seconds = self.offset + x / self.pixels_per_second
        frame = int(seconds * float(self.data.fps))
        top = self.data.duration
        return max(Fraction(0), min(Fraction(frame) / self.data.fps, top) if top else Fraction(0))

    def moment_rect(self, moment: Moment) -> QRectF:
        x0 = self.x_of(moment.start)
        x1 = self.x_of(moment.end) if moment.end is not None else x0 + 4
        top, height = RULER + STRIP + WAVE + 3.0, self.band() - 6.0
        if len(self.lanes) > 1 and moment.coder in self.lanes:
            height = LANE - 2
            top = RULER + STRIP + WAVE + 2 + self.lanes.index(moment.coder) * LANE + 1
        return QRectF(x0, top, max(x1 - x0, 4), height)

    def moments_between(self, first: float, last: float) -> list[Moment]:
        """The moments (in time order) that show between ``first`` and ``last`` seconds."""
        return [self.moments[n] for n in self._indices_between(first, last)]

    def _indices_between(self, first: float, last: float) -> list[int]:
        low = bisect.bisect_left(self._starts, Fraction(first) - self._longest - 1)
        high = bisect.bisect_right(self._starts, Fraction(last) + 1)
        return [
            n
            for n in range(low, high)
            if float(self.moments[n].end or self.moments[n].start) >= first - 1
        ]

    def _seconds_at(self, x: float) -> float:
        return self.offset + x / self.pixels_per_second

    def moment_at(self, x: float, y: float) -> Moment | None:
        nearby = self.moments_between(self._seconds_at(x - 6), self._seconds_at(x + 6))
        for moment in reversed(nearby):
            if self.moment_rect(moment).adjusted(-2, 0, 2, 0).contains(QPointF(x, y)):
                return moment
        return None

    def colour_of(self, moment: Moment) -> QColor:
        if not moment.codes or self.codebook is None:
            return NO_CODE
        return QColor(self.codebook.category_of(moment.codes[0]).colour)

    # --- input ---------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        pos = event.position()
        hit = self.moment_at(pos.x(), pos.y())
        if hit is not None:
            self.moment_selected.emit(hit.id)
            return
        self.seek_requested.emit(self.time_at(pos.x()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        pos = event.position()
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.seek_requested.emit(self.time_at(pos.x()))
            return
        hit = self.moment_at(pos.x(), pos.y())
        text = self.describe(hit) if hit is not None else ""
        if text != self.toolTip():
            self.setToolTip(text)
            if not text:
                QToolTip.hideText()

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        self.setToolTip("")
        super().leaveEvent(event)

    def _code_words(self, code_id: str) -> str:
        """A code as "Principle: code" (the principle alone for its own code)."""
        if self.codebook is None:
            return code_id
        principle = self.codebook.category_of(code_id).label
        label = self.codebook.code(code_id).label
        return principle if label == principle else f"{principle}: {label}"

    def describe(self, moment: Moment) -> str:
        """All of a moment, for its tooltip: time, codes in words, coder, caption."""
        codes = ", ".join(self._code_words(c) for c in moment.codes)
        coder = f" · coded by {moment.coder}" if moment.coder else ""
        lines = [f"{moment.label()}  {codes or 'no code yet'}{coder}", moment.caption]
        return "\n".join(line for line in lines if line)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt's name
        steps = event.angleDelta().y() / 120
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            at = self.offset + event.position().x() / self.pixels_per_second
            self.zoom(1.25**steps, around=at)
        else:
            self.scroll_to(self.offset - steps * 0.1 * self.visible_seconds())

    # --- painting ------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)  # clipped to the region being painted
        region = cast(Iterable[QRect], event.region())  # iterable in PySide6, not in its stubs
        areas = list(region) or [event.rect()]  # an event's old and new places
        for area in areas:
            painter.fillRect(area, QColor("#20242a"))
        self._paint_ruler(painter)
        for area in areas:
            self._paint_filmstrip(painter, area)
            self._paint_waveform(painter, area)
        self._paint_marks(painter)
        self._paint_moments(painter, areas)
        self._paint_markers(painter)
        self._paint_playhead(painter)

    def _paint_ruler(self, painter: QPainter) -> None:
        painter.setPen(QColor("#c8c8c8"))
        step = _tick_step(self.pixels_per_second, self.data.fps)
        first = int(self.offset / step)
        for k in range(first, first + int(self.visible_seconds() / step) + 2):
            x = self.x_of(k * step)
            painter.drawLine(QPointF(x, RULER - 6), QPointF(x, RULER))
            label = format_clock(Fraction(k * step).limit_denominator(1000))
            painter.drawText(QPointF(x + 3, RULER - 7), label)

    def _paint_filmstrip(self, painter: QPainter, area: QRect) -> None:
        thumbs = self.data.thumbnails
        if not thumbs or area.bottom() < RULER or area.top() > RULER + STRIP:
            return
        tile = max(1, round(thumbs[0].width() * STRIP / max(thumbs[0].height(), 1)))
        for x in range(area.left() // tile * tile, area.right() + 1, tile):
            seconds = self.offset + x / self.pixels_per_second
            if seconds > self.data.duration:
                break
            index = min(int(seconds / float(self.data.interval)), len(thumbs) - 1)
            painter.drawPixmap(x, RULER, tile, STRIP, thumbs[index])

    def _paint_waveform(self, painter: QPainter, area: QRect) -> None:
        peaks = self.data.peaks
        if peaks is None or not len(peaks.minimum):
            return
        if area.bottom() < RULER + STRIP or area.top() > RULER + STRIP + WAVE:
            return
        left = max(area.left(), 0)
        start = self.offset + left / self.pixels_per_second
        low, high = column_peaks(peaks, start, self.pixels_per_second, area.width() + 1)
        middle, half = RULER + STRIP + WAVE / 2, WAVE / 2 - 2
        painter.setPen(QColor("#7fd1ae"))
        for x in range(len(low)):
            top = middle - high[x] / 32768 * half
            bottom = middle - low[x] / 32768 * half
            painter.drawLine(QPointF(left + x, top), QPointF(left + x, bottom))

    def _marks_rect(self, marks: Marks) -> QRectF:
        start, end = marks
        x0 = self.x_of(start or 0)
        x1 = self.x_of(end) if end is not None else x0 + 2
        return QRectF(x0, 0, max(x1 - x0, 2), self.total_height())

    def _paint_marks(self, painter: QPainter) -> None:
        if self.marks[0] is None:
            return
        painter.fillRect(self._marks_rect(self.marks), QColor(80, 140, 255, 70))

    def _paint_moments(self, painter: QPainter, areas: list[QRect]) -> None:
        indices: set[int] = set()
        for area in areas:
            first, last = self._seconds_at(area.left() - 4), self._seconds_at(area.right() + 4)
            indices.update(self._indices_between(first, last))
        for moment in (self.moments[n] for n in sorted(indices)):
            rect = self.moment_rect(moment)
            painter.fillRect(rect, self.colour_of(moment))
            if moment.id in self.flagged:
                painter.setPen(QPen(QColor("#ff1744"), 3))
                painter.drawRect(rect)
            if moment.id == self.selected:
                painter.setPen(QPen(QColor("white"), 3))
                painter.drawRect(rect)
            painter.setPen(QColor("black"))
            text = " ".join(c.split(".")[-1] for c in moment.codes)
            room = int(rect.width()) - 6  # cut with "…", never mid-word unmarked
            text = painter.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, room)
            painter.drawText(rect.adjusted(3, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, text)
        self._paint_lane_names(painter)
        painter.setPen(QColor("white"))
        for still in self.stills:
            x, y = self.x_of(still.time), RULER + STRIP + WAVE + self.band() / 2
            painter.setBrush(QColor("white"))
            painter.drawPolygon(
                QPolygonF(
                    [QPointF(x, y - 6), QPointF(x + 5, y), QPointF(x, y + 6), QPointF(x - 5, y)]
                )
            )

    def _paint_lane_names(self, painter: QPainter) -> None:
        if len(self.lanes) < 2:
            return
        metrics = painter.fontMetrics()
        for number, coder in enumerate(self.lanes):
            top = RULER + STRIP + WAVE + 2 + number * LANE
            box = QRectF(0, top + 1, LANE_NAMES, LANE - 2)
            painter.fillRect(box, QColor(20, 24, 30, 200))
            painter.setPen(QColor("white"))
            name = metrics.elidedText(coder or "?", Qt.TextElideMode.ElideRight, LANE_NAMES - 8)
            painter.drawText(box.adjusted(4, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, name)

    def _paint_markers(self, painter: QPainter) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#ff9800"))
        for marker in self.data.markers:
            x = self.x_of(marker)
            painter.drawPolygon(
                QPolygonF([QPointF(x - 6, RULER), QPointF(x + 6, RULER), QPointF(x, RULER + 10)])
            )

    def _paint_playhead(self, painter: QPainter) -> None:
        x = self.x_of(self.playhead)
        painter.setPen(QPen(QColor("#ff3b30"), 2))
        painter.drawLine(QPointF(x, 0), QPointF(x, self.total_height()))


def _time_order(moment: Moment) -> tuple[Fraction, Fraction, str]:
    return (moment.start, moment.end or moment.start, moment.id)


def _tick_step(pixels_per_second: float, fps: Fraction) -> float:
    """Seconds between ruler labels, at least ~80 px apart; single frames when zoomed in."""
    for step in (float(1 / fps), 0.1, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800):
        if step * pixels_per_second >= 80:
            return step
    return 3600.0


def column_peaks(
    peaks: Peaks, offset: float, pixels_per_second: float, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Min and max of the samples under each pixel column (one bucket when zoomed in)."""
    rate, count = peaks.buckets_per_second, len(peaks.minimum)
    edges = ((offset + np.arange(width + 1) / pixels_per_second) * rate).astype(np.int64)
    starts = edges[:-1][edges[:-1] < count]
    if not len(starts):
        return np.zeros(0), np.zeros(0)
    stop = min(max(int(edges[len(starts)]), int(starts[-1]) + 1), count)
    low = np.minimum.reduceat(peaks.minimum[:stop], starts)
    high = np.maximum.reduceat(peaks.maximum[:stop], starts)
    return low.astype(np.float64), high.astype(np.float64)
