"""The redaction of one recording as the review view shows it, kept out of the widgets: the
plan, the purpose whose consents decide who is hidden, and the review mode's stops (each
track's start and end, each flagged stretch) with the ones already looked at. Each field has
its own event (``review.events.plan`` …); widgets connect one slot per event. No Qt.

The changes themselves are operations for the case's queue (``mark``, ``mute``, ``approve``,
``find``): the same model calls as ``people mark``, ``redact mute``, ``redact approve``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fractions import Fraction

from annotations.events import Emitter
from clips.ffmpeg import Cancel
from clips.redact.plan import RedactionPlan
from videofeedback import redaction
from videofeedback.library.cases import Case, Purpose
from videofeedback.library.errors import LibraryError
from videofeedback.library.roles import Action
from videofeedback.operations import Changes, Operation, Outcome

REASONS = {"start": "a person appears", "end": "a person leaves"}


@dataclass(frozen=True)
class Stop:
    """A frame the reviewer must look at, and why."""

    frame: int
    track: str
    reason: str

    def describe(self) -> str:
        return f"{self.track}: {REASONS.get(self.reason, self.reason)}"


def stops_of(plan: RedactionPlan) -> list[Stop]:
    """What needs a look, in time order: every track's start and end, every stretch."""
    found = {Stop(t.first, t.id, "start") for t in plan.tracks}
    found |= {Stop(t.last, t.id, "end") for t in plan.tracks}
    found |= {Stop(s.start, s.track, s.reason) for s in plan.stretches}
    return sorted(found, key=lambda s: (s.frame, s.track, s.reason))


@dataclass
class RedactionEvents:
    plan: Emitter[RedactionPlan | None] = field(default_factory=Emitter)
    visible: Emitter[frozenset[str]] = field(default_factory=Emitter)
    stop: Emitter[int | None] = field(default_factory=Emitter)  # index into stops
    selected: Emitter[str | None] = field(default_factory=Emitter)  # a track's id
    drawing: Emitter[str | None] = field(default_factory=Emitter)  # a drawn box's id


class RedactionReview:
    """One recording's redaction in the review view (headless; tested without Qt)."""

    def __init__(self) -> None:
        self.events = RedactionEvents()
        self.plan: RedactionPlan | None = None
        self.purpose = Purpose.FAMILY_COPY
        self.visible: frozenset[str] = frozenset()
        self.stops: list[Stop] = []
        self.seen: set[int] = set()
        self.current: int | None = None
        self.selected: str | None = None  # the track split, extended or merged into
        self.drawing: str | None = None  # the drawn box a drag adds a keyframe to
        self._consenting: Callable[[RedactionPlan, Purpose], set[str]] = lambda p, q: set()
        self._pending: Callable[[RedactionPlan], bool] = lambda p: p.review_pending()

    def show(
        self,
        plan: RedactionPlan | None,
        consenting: Callable[[RedactionPlan, Purpose], set[str]] | None = None,
        pending: Callable[[RedactionPlan], bool] | None = None,
    ) -> None:
        """A new or changed plan; ``consenting`` says which tracks a purpose shows, ``pending``
        whether its review is current (the case's signed trail). The stops already looked
        at stay looked at while the tracks stay the same."""
        if consenting is not None:
            self._consenting = consenting
        if pending is not None:
            self._pending = pending
        old = self.stops
        self.plan = plan
        self.stops = stops_of(plan) if plan is not None else []
        if self.stops != old:
            self.seen, self.current = set(), None
            self.events.stop.emit(None)
        self.events.plan.emit(plan)
        self._update_visible()
        tracks = {t.id for t in plan.tracks} if plan is not None else set()
        boxes = {m.id for m in plan.manual} if plan is not None else set()
        if self.selected not in tracks:
            self.select(None)
        if self.drawing not in boxes:
            self.draw(None)

    def select(self, track_id: str | None) -> None:
        if track_id != self.selected:
            self.selected = track_id
            self.events.selected.emit(track_id)

    def draw(self, box_id: str | None) -> None:
        """``box_id``: the drawn box the next drag adds a keyframe to (None: a new box)."""
        if box_id != self.drawing:
            self.drawing = box_id
            self.events.drawing.emit(box_id)

    def set_purpose(self, purpose: Purpose) -> None:
        self.purpose = purpose
        self._update_visible()

    def _update_visible(self) -> None:
        visible = frozenset(self._consenting(self.plan, self.purpose)) if self.plan else frozenset()
        if visible != self.visible:
            self.visible = visible
            self.events.visible.emit(visible)

    # --- the review mode -----------------------------------------------------------------

    def go(self, step: int) -> Stop | None:
        """The next (``step`` 1) or previous (-1) stop, now looked at."""
        if not self.stops:
            return None
        if self.current is None:
            index = 0 if step > 0 else len(self.stops) - 1
        else:
            index = min(max(self.current + step, 0), len(self.stops) - 1)
        self.current = index
        self.seen.add(index)
        self.events.stop.emit(index)
        return self.stops[index]

    @property
    def all_seen(self) -> bool:
        return len(self.seen) == len(self.stops)

    @property
    def pending(self) -> bool:
        return self.plan is None or self._pending(self.plan)


# --- operations on the case's queue ------------------------------------------------------------


def consenting_tracks(case: Case) -> Callable[[RedactionPlan, Purpose], set[str]]:
    return lambda plan, purpose: redaction.visible_tracks(case, plan, purpose)


def review_pending(case: Case) -> Callable[[RedactionPlan], bool]:
    """Whether a plan's review is current by the case's signed trail (FORMAT §12.7)."""
    return lambda plan: redaction.review_pending(case, plan)


def mark(media_id: str, track_id: str, who: str) -> Operation:
    def op(case: Case) -> Outcome[RedactionPlan]:
        return Outcome(Changes(media=True), redaction.mark(case, media_id, track_id, who))

    return op


def mute(media_id: str, start: Fraction, end: Fraction, mode: str = "mute") -> Operation:
    """Sound from ``start`` to ``end`` muted, bleeped or disguised (``mode``)."""

    def op(case: Case) -> Outcome[RedactionPlan]:
        plan = redaction.mute(case, media_id, start, end, mode=mode)
        return Outcome(Changes(media=True), plan)

    return op


def split(media_id: str, track_id: str, at: Fraction) -> Operation:
    """``track_id`` split at ``at`` seconds; the outcome is the plan and the new track's id."""

    def op(case: Case) -> Outcome[tuple[RedactionPlan, str]]:
        return Outcome(Changes(media=True), redaction.split_track(case, media_id, track_id, at))

    return op


def merge(media_id: str, keep: str, other: str) -> Operation:
    """``other`` merged into ``keep``; the outcome is the plan and whether the mark dropped."""

    def op(case: Case) -> Outcome[tuple[RedactionPlan, bool]]:
        return Outcome(Changes(media=True), redaction.merge_tracks(case, media_id, keep, other))

    return op


def extend(media_id: str, track_id: str, to: Fraction) -> Operation:
    def op(case: Case) -> Outcome[RedactionPlan]:
        return Outcome(Changes(media=True), redaction.extend_track(case, media_id, track_id, to))

    return op


Rect = tuple[float, float, float, float]


def draw_box(media_id: str, box_id: str | None, at: Fraction, box: Rect) -> Operation:
    """A drawn box's keyframe at ``at`` seconds (x, y, w, h in the film's pixels): a new box
    (``box_id`` None) or one more keyframe of ``box_id``, interpolated between."""

    def op(case: Case) -> Outcome[RedactionPlan]:
        if box_id is None:
            plan = redaction.add_keyed_box(case, media_id, [(at, box)])
        else:
            plan = redaction.add_keyframe(case, media_id, box_id, at, box)
        return Outcome(Changes(media=True), plan)

    return op


def unmute(media_id: str, at: Fraction) -> Operation:
    """Take out every muted range that holds ``at`` (seconds): a change, reviewed again."""

    def op(case: Case) -> Outcome[RedactionPlan]:
        case.require(Action.ANNOTATE)
        plan = redaction.require_plan(case, media_id)
        kept = tuple(m for m in plan.mutes if not m.seconds()[0] <= at <= m.seconds()[1])
        if len(kept) == len(plan.mutes):
            raise LibraryError("nothing is muted at the playhead")
        changed = replace(plan, mutes=kept, changes_since_review=plan.changes_since_review + 1)
        redaction.save_plan(case, changed)
        case.audit("redact.unmute", media_id, at=str(at), removed=str(len(plan.mutes) - len(kept)))
        return Outcome(Changes(media=True), changed)

    return op


def approve(media_id: str) -> Operation:
    def op(case: Case) -> Outcome[RedactionPlan]:
        return Outcome(Changes(media=True, audit=True), redaction.approve(case, media_id))

    return op


def find(
    case: Case, media_id: str, cancel: Cancel, progress: Callable[[float], None]
) -> RedactionPlan:
    """Find people (a long job, in the case's queue): progress as a share of the frames."""
    frames = max(1, int(_frame_count(case, media_id)))
    plan = redaction.find_people(
        case, media_id, lambda done: progress(min(1.0, done / frames)), cancel
    )
    case.save()
    return plan


def _frame_count(case: Case, media_id: str) -> Fraction:
    info = case.media.get(media_id).info
    return Fraction(str(info.get("duration", "0"))) * Fraction(str(info.get("fps", "30")))
