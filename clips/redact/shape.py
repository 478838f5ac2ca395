"""The shape of a hidden face's area when a consenting participant's face is close by.

A hidden track's area is its box plus a safety margin, widened where the tracker is unsure.
Where that area reaches over a face that may be shown, only the margin and the widening give
way (the participant's own box is cut out of them): the hidden face's own box (its *core*)
stays hidden whatever overlaps it, unless the participant's face is clearly nearer the
camera, so in front of it (a face box at least ``FRONT`` times the hidden one's area: heads
differ in size, a small child's face is about 0.65 of an adult's across, so a smaller ratio
could not tell "nearer" from "bigger head"). There the hidden face's pixels are behind the
participant's and not in the picture.

Only a participant's box the tracker is sure of shields anything: detected or followed with
confidence ≥ ``SURE``. A held (lost) participant's box shields nothing, so a lost track's
widening stays whole (fail-safe)."""

from __future__ import annotations

from collections.abc import Iterable

from .detect import Box
from .plan import TrackBox

#: The share of a hidden face's box added on every side that never gives way to a shield.
CORE = 0.1
#: A shield's area over the hidden face's area above which the shield's face is in front.
FRONT = 2.5
#: The least confidence of a participant's box that may shield.
SURE = 0.5


def is_shield(box: TrackBox) -> bool:
    return box.state != "held" and box.confidence >= SURE


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
    widening, and out of its core only where the shield's face is in front."""
    pieces = [whole]
    near = [s for s in shields if s.iou(whole) > 0]
    if not near:
        return pieces
    for shield in near:
        pieces = subtract(pieces, shield)
    kept = [core(box, velocity)]
    for shield in near:
        if shield.area() >= FRONT * box.box.area():
            kept = subtract(kept, shield)
    return pieces + kept
