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
        self._consenting: Callable[[RedactionPlan, Purpose], set[str]] = lambda p, q: set()

    def show(
        self,
        plan: RedactionPlan | None,
        consenting: Callable[[RedactionPlan, Purpose], set[str]] | None = None,
    ) -> None:
        """A new or changed plan; ``consenting`` says which tracks a purpose shows. The
        stops already looked at stay looked at while the tracks stay the same."""
        if consenting is not None:
            self._consenting = consenting
        old = self.stops
        self.plan = plan
        self.stops = stops_of(plan) if plan is not None else []
        if self.stops != old:
            self.seen, self.current = set(), None
            self.events.stop.emit(None)
        self.events.plan.emit(plan)
        self._update_visible()

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
        return self.plan is None or self.plan.review_pending()


# --- operations on the case's queue ------------------------------------------------------------


def consenting_tracks(case: Case) -> Callable[[RedactionPlan, Purpose], set[str]]:
    return lambda plan, purpose: redaction.visible_tracks(case, plan, purpose)


def mark(media_id: str, track_id: str, who: str) -> Operation:
    def op(case: Case) -> Outcome[RedactionPlan]:
        return Outcome(Changes(media=True), redaction.mark(case, media_id, track_id, who))

    return op


def mute(media_id: str, start: Fraction, end: Fraction, bleep: bool = False) -> Operation:
    def op(case: Case) -> Outcome[RedactionPlan]:
        return Outcome(Changes(media=True), redaction.mute(case, media_id, start, end, bleep))

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
