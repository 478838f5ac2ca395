"""A person's corrections to the tracks: split one where the tracker swapped people, merge two
that are one person, extend one over frames the tracker missed. Each returns a new plan with
one more change since the last review (its digest changes: the review is pending again).

Fail-safe by construction: a split's second part starts unmarked (hidden until someone says
who it is); a merge of tracks marked as different people keeps no mark (hidden); boxes a
person places are state ``manual`` at full confidence, everything in between interpolated."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from clips.errors import MediaError

from .detect import Box
from .plan import Keyframe, ManualBox, RedactionPlan, Track, TrackBox

#: A merge bridges a gap between the two tracks up to this long (seconds) with boxes moving
#: from one end to the other; a longer gap stays without boxes (the face was not there).
BRIDGE = Fraction(2)


def next_track_id(plan: RedactionPlan) -> str:
    numbers = [int(t.id[1:]) for t in plan.tracks if t.id[1:].isdigit()]
    return f"t{max(numbers, default=0) + 1}"


def _changed(plan: RedactionPlan, **fields: object) -> RedactionPlan:
    return replace(plan, changes_since_review=plan.changes_since_review + 1, **fields)  # type: ignore[arg-type]


def _ordered(tracks: list[Track]) -> tuple[Track, ...]:
    """In the order of their ids' numbers (t2 before t10), as found."""
    return tuple(sorted(tracks, key=lambda t: (len(t.id), t.id)))


def split(plan: RedactionPlan, track_id: str, frame: int) -> tuple[RedactionPlan, str]:
    """``track_id`` keeps its boxes before ``frame``; a new track (returned id) takes the rest,
    unmarked, with the review stretches from ``frame`` on."""
    track = plan.track(track_id)
    if not track.first < frame <= track.last:
        raise MediaError(
            f"{track_id} runs from frame {track.first} to {track.last}: split it at a frame "
            f"after its first and up to its last"
        )
    new = next_track_id(plan)
    before = Track(track_id, tuple(b for b in track.boxes if b.frame < frame))
    after = Track(new, tuple(b for b in track.boxes if b.frame >= frame))
    others = [t for t in plan.tracks if t.id != track_id]
    stretches = []
    for s in plan.stretches:
        if s.track != track_id:
            stretches.append(s)
            continue
        if s.start < frame:
            stretches.append(replace(s, end=min(s.end, frame - 1)))
        if s.end >= frame:
            stretches.append(replace(s, track=new, start=max(s.start, frame)))
    return _changed(
        plan, tracks=_ordered([*others, before, after]), stretches=tuple(stretches)
    ), new


def _interpolated(a: TrackBox, b: TrackBox, state: str, confidence: float) -> list[TrackBox]:
    """Boxes for the frames strictly between ``a`` and ``b``, moving linearly."""
    span = b.frame - a.frame
    boxes = []
    for frame in range(a.frame + 1, b.frame):
        t = (frame - a.frame) / span
        x, y, w, h = (va + (vb - va) * t for va, vb in zip(_xywh(a), _xywh(b), strict=True))
        boxes.append(TrackBox(frame, x, y, w, h, confidence, state))
    return boxes


def _xywh(box: TrackBox) -> tuple[float, float, float, float]:
    return (box.x, box.y, box.w, box.h)


def _union(a: TrackBox, b: TrackBox) -> TrackBox:
    x0, y0 = min(a.x, b.x), min(a.y, b.y)
    x1, y1 = max(a.x + a.w, b.x + b.w), max(a.y + a.h, b.y + b.h)
    confidence = min(a.confidence, b.confidence)
    return TrackBox(a.frame, x0, y0, x1 - x0, y1 - y0, confidence, "held")


def merge(plan: RedactionPlan, keep_id: str, other_id: str) -> tuple[RedactionPlan, bool]:
    """One person's two tracks as one (``keep_id``). Frames both cover get one box around both;
    a gap up to ``BRIDGE`` seconds is bridged (boxes moving between the ends, held: widened).
    Returns the plan and whether the mark was dropped (marked as two different people)."""
    if keep_id == other_id:
        raise MediaError("merge two different tracks ('people list' shows them)")
    keep, other = plan.track(keep_id), plan.track(other_id)
    by_frame = {b.frame: b for b in keep.boxes}
    for box in other.boxes:
        mine = by_frame.get(box.frame)
        by_frame[box.frame] = box if mine is None else _union(mine, box)
    boxes = [by_frame[f] for f in sorted(by_frame)]
    bridge = int(BRIDGE * Fraction(plan.fps))
    filled: list[TrackBox] = []
    for box in boxes:
        if filled and 1 < box.frame - filled[-1].frame <= bridge:
            filled += _interpolated(filled[-1], box, "held", 0.5)
        filled.append(box)
    marks = dict(plan.marks)
    a, b = marks.pop(keep_id, None), marks.pop(other_id, None)
    dropped = a is not None and b is not None and a != b
    mark = None if dropped else (a or b)
    if mark is not None:
        marks[keep_id] = mark
    stretches = tuple(replace(s, track=keep_id) if s.track == other_id else s
                      for s in plan.stretches)  # fmt: skip
    tracks = [t for t in plan.tracks if t.id not in (keep_id, other_id)]
    merged = _changed(
        plan, tracks=_ordered([*tracks, Track(keep_id, tuple(filled))]),
        marks=tuple(sorted(marks.items())), stretches=stretches,
    )  # fmt: skip
    return merged, dropped


def extend(plan: RedactionPlan, track_id: str, frame: int, box: Box | None = None) -> RedactionPlan:
    """``track_id`` continued to ``frame`` (before its start or after its end): to ``box``
    there (a person placed it: moving linearly from the track's end), or held where the
    track's end is (widened, as a lost face is)."""
    track = plan.track(track_id)
    if not 0 <= frame < plan.frames or track.first <= frame <= track.last:
        raise MediaError(
            f"{track_id} already runs from frame {track.first} to {track.last}; extend it to a "
            f"frame outside that, within the film (0 to {plan.frames - 1})"
        )
    end = track.boxes[-1] if frame > track.last else track.boxes[0]
    if box is None:
        target = replace(end, frame=frame, confidence=min(end.confidence, 0.5), state="held")
        state, confidence = "held", target.confidence
    else:
        target = TrackBox(frame, box.x, box.y, box.w, box.h, 1.0, "manual")
        state, confidence = "manual", 1.0
    if frame > track.last:
        added = [*_interpolated(end, target, state, confidence), target]
        boxes = (*track.boxes, *added)
    else:
        added = [target, *_interpolated(target, end, state, confidence)]
        boxes = (*added, *track.boxes)
    tracks = [t for t in plan.tracks if t.id != track_id]
    return _changed(plan, tracks=_ordered([*tracks, Track(track_id, boxes)]))


def keyframe(plan: RedactionPlan, box_id: str, frame: int, box: Box) -> RedactionPlan:
    """A keyframe for the drawn box ``box_id`` at ``frame`` (one already there is replaced):
    the box then runs from its first keyframe to its last, moving linearly between them."""
    if not 0 <= frame < plan.frames:
        raise MediaError(f"a keyframe goes on a frame of the film (0 to {plan.frames - 1})")
    if min(box.w, box.h) <= 0:
        raise MediaError("a box needs a width and height above 0")
    found = [m for m in plan.manual if m.id == box_id]
    if not found:
        raise MediaError(f"there is no drawn box {box_id}; 'redact review-status' counts them")
    keys = [k for k in found[0].keyframes if k.frame != frame]
    keys.append(Keyframe(frame, box.x, box.y, box.w, box.h))
    drawn = ManualBox(box_id, tuple(sorted(keys, key=lambda k: k.frame)))
    manual = tuple(drawn if m.id == box_id else m for m in plan.manual)
    return _changed(plan, manual=manual)
