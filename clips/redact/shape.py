"""The shape of a hidden face's area when a participant's face that may be shown is close by.

A hidden track's area is its box plus a safety margin, widened where the tracker is unsure.
Where that area reaches over a shown face, only the margin and the widening give way (the
shown face's box is cut out of them); the hidden face's own box (its *core*: the box grown
by ``CORE`` and stretched by two frames of its motion) stays hidden whatever overlaps it.

Never the core, not even behind a much larger face: "nearer the camera" cannot be told from
"bigger head" (a small child in front of a seated parent has a face a quarter of her area;
the test scene ``child`` leaked when the core gave way to a face 2.5 times larger).

A shown face shields only where the tracker is sure of it: detected or followed with
confidence ≥ ``SURE`` (*direct*), or, between two of its detections at most N frames away on
either side that agree, the part they share (*bracketed*: she stayed put while her face was
half covered). A lost (held) hidden face's widening gives way only to a direct shield: where
a face is seen surely, no other face is in front of it, so a lost face cannot show there."""

from __future__ import annotations

from collections.abc import Iterable

from .detect import Box
from .plan import Track, TrackBox

#: The share of a hidden face's box added on every side that never gives way to a shield.
CORE = 0.1
#: The least confidence of a participant's box that may shield.
SURE = 0.5


def is_shield(box: TrackBox) -> bool:
    return box.state != "held" and box.confidence >= SURE


def _detected_near(track: Track, frame: int, step: int, span: int) -> TrackBox | None:
    for k in range(span + 1):
        box = track.at(frame + step * k)
        if box is not None and box.state == "detected":
            return box
    return None


def shield_of(track: Track, frame: int, every: int) -> Box | None:
    """Where a shown track's face surely is in ``frame``: its box if the tracker is sure of
    it (direct: score ≥ SURE); else, between two detections no more than ``every`` frames
    away on either side that agree (IoU ≥ 0.5), the part both share (bracketed: score 0).
    Else nothing."""
    box = track.at(frame)
    if box is None:
        return None
    if is_shield(box):
        return box.box  # direct: its score is the confidence, >= SURE
    before = _detected_near(track, frame, -1, every)
    after = _detected_near(track, frame, 1, every)
    if before is None or after is None or before.box.iou(after.box) < 0.5:
        return None
    a, b = before.box, after.box
    x0, y0 = max(a.x, b.x), max(a.y, b.y)
    x1, y1 = min(a.x + a.w, b.x + b.w), min(a.y + a.h, b.y + b.h)
    return Box(x0, y0, x1 - x0, y1 - y0, 0.0)  # bracketed: score 0


def core(box: TrackBox, velocity: tuple[float, float] = (0.0, 0.0)) -> Box:
    """The face's box with a small margin, stretched by two frames of its motion."""
    grown = box.box.grown(CORE)
    dx, dy = (2 * v for v in velocity)
    return Box(
        grown.x + min(0.0, dx), grown.y + min(0.0, dy),
        grown.w + abs(dx), grown.h + abs(dy), grown.score,
    )  # fmt: skip


def subtract(pieces: Iterable[Box], cut: Box) -> list[Box]:
    """The rectangles covering ``pieces`` minus ``cut`` (up to four for each piece)."""
    out: list[Box] = []
    for p in pieces:
        x0, y0 = max(p.x, cut.x), max(p.y, cut.y)
        x1, y1 = min(p.x + p.w, cut.x + cut.w), min(p.y + p.h, cut.y + cut.h)
        if x1 <= x0 or y1 <= y0:
            out.append(p)
            continue
        bands = [
            Box(p.x, p.y, p.w, y0 - p.y),  # above the cut
            Box(p.x, y1, p.w, p.y + p.h - y1),  # below
            Box(p.x, y0, x0 - p.x, y1 - y0),  # left of it
            Box(x1, y0, p.x + p.w - x1, y1 - y0),  # right of it
        ]
        out += [Box(b.x, b.y, b.w, b.h, p.score) for b in bands if b.w > 0 and b.h > 0]
    return out


def shaped(whole: Box, box: TrackBox, shields: list[Box],
           velocity: tuple[float, float] = (0.0, 0.0)) -> list[Box]:  # fmt: skip
    """``whole`` (the hidden face's area) with the shields cut out of its margin and
    widening; its core is always kept. A held face's area gives way to direct shields only."""
    near = [s for s in shields if s.iou(whole) > 0]
    if box.state == "held":
        near = [s for s in near if s.score >= SURE]
    if not near:
        return [whole]
    pieces = [whole]
    for shield in near:
        pieces = subtract(pieces, shield)
    return [*pieces, core(box, velocity)]
