"""What the review of one recording shows, kept out of the widgets: the selected moment, the
in/out marks, the playhead, the zoom and the coders' lanes. Each field has its own event
(``state.events.selection`` …), emitted only when the value really changes; the review view
and the timeline connect one slot per event. No Qt: tested headless."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from .events import Emitter

Marks = tuple[Fraction | None, Fraction | None]


@dataclass(frozen=True)
class Lanes:
    """Coders shown side by side (for agreement), and the moments the other has no match for."""

    coders: tuple[str, ...] = ()
    flagged: frozenset[str] = frozenset()


@dataclass
class ReviewEvents:
    selection: Emitter[str | None] = field(default_factory=Emitter)
    marks: Emitter[Marks] = field(default_factory=Emitter)
    playhead: Emitter[Fraction] = field(default_factory=Emitter)
    zoom: Emitter[float] = field(default_factory=Emitter)
    lanes: Emitter[Lanes] = field(default_factory=Emitter)


MIN_ZOOM = 1.0  # the whole recording fits


class ReviewState:
    """The review's state. ``zoom`` is a factor over "the whole recording fits" (1.0)."""

    def __init__(self) -> None:
        self.events = ReviewEvents()
        self._selected: str | None = None
        self._marks: Marks = (None, None)
        self._playhead = Fraction(0)
        self._zoom = MIN_ZOOM
        self._lanes = Lanes()

    @property
    def selected(self) -> str | None:
        return self._selected

    @selected.setter
    def selected(self, moment_id: str | None) -> None:
        if moment_id != self._selected:
            self._selected = moment_id
            self.events.selection.emit(moment_id)

    @property
    def marks(self) -> Marks:
        return self._marks

    @marks.setter
    def marks(self, marks: Marks) -> None:
        start, end = marks
        if start is not None and end is not None and end < start:
            start, end = end, start
        if (start, end) != self._marks:
            self._marks = (start, end)
            self.events.marks.emit(self._marks)

    def mark_in(self, at: Fraction) -> None:
        self.marks = (at, None)

    def mark_out(self, at: Fraction) -> None:
        """The out mark; the in mark stays (or is the same time if there is none)."""
        start = self._marks[0] if self._marks[0] is not None else at
        self.marks = (min(start, at), max(start, at))

    def clear_marks(self) -> None:
        self.marks = (None, None)

    @property
    def playhead(self) -> Fraction:
        return self._playhead

    @playhead.setter
    def playhead(self, seconds: Fraction) -> None:
        seconds = max(Fraction(0), seconds)
        if seconds != self._playhead:
            self._playhead = seconds
            self.events.playhead.emit(seconds)

    @property
    def zoom(self) -> float:
        return self._zoom

    @zoom.setter
    def zoom(self, factor: float) -> None:
        factor = max(MIN_ZOOM, factor)
        if factor != self._zoom:
            self._zoom = factor
            self.events.zoom.emit(factor)

    def zoom_by(self, factor: float) -> None:
        self.zoom = self._zoom * factor

    @property
    def lanes(self) -> Lanes:
        return self._lanes

    @lanes.setter
    def lanes(self, lanes: Lanes) -> None:
        if lanes != self._lanes:
            self._lanes = lanes
            self.events.lanes.emit(lanes)

    def show_lanes(self, coders: list[str], flagged: set[str]) -> None:
        self.lanes = Lanes(tuple(coders), frozenset(flagged))

    def reset(self) -> None:
        """A new recording: nothing selected or marked, the start, all of it in view."""
        self.selected = None
        self.clear_marks()
        self.playhead = Fraction(0)
        self.zoom = MIN_ZOOM
        self.lanes = Lanes()
