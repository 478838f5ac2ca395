"""Faces followed through a film: the detector every Nth frame, optical flow between.

Offline, so a face first seen at a detection is also hidden in the frames just before it
(back-filled), a face the detector stops seeing is followed by flow, then held where it was
last with a widening box until ``hold`` seconds have passed. Appearance lives only in memory
(a few corner points per face, never written anywhere)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

import cv2
import numpy as np

from .detect import DETECT_WIDTH, Box, FaceDetector
from .plan import Stretch, Track, TrackBox

Detector = Callable[[np.ndarray], list[Box]]
#: Another face's head around its box: the box grown by this share on every side.
HEAD = 0.5


@dataclass(frozen=True)
class TrackerSettings:
    detect_every: int = 5  # N: the detector runs on frames 0, N, 2N…
    hold: Fraction = Fraction(1)  # seconds a lost face stays hidden where it was last
    match_iou: float = 0.2
    low_confidence: float = 0.5
    fast_move: float = 0.35  # a box whose centre moves this share of its width in a frame
    flow_width: int = 640  # optical flow on frames scaled down to this width


@dataclass
class _Live:
    id: str
    boxes: list[TrackBox]
    score: float
    last_detected: int
    points: np.ndarray | None = None
    seeded: int = 0
    raw_area: float = 0.0  # the last detection's own area


def _partial(found: Box, before: Box, raw_area: float, reacquired: bool) -> Box:
    """A face found again after it was lost, or much smaller than at the last detection, is
    often half behind something (a hand, another head) or half out of frame: keep hiding
    where the whole face was too (the union), at a lower confidence (wider, and reviewed)."""
    if not reacquired and found.area() >= 0.6 * raw_area:
        return found
    x0, y0 = min(found.x, before.x), min(found.y, before.y)
    x1 = max(found.x + found.w, before.x + before.w)
    y1 = max(found.y + found.h, before.y + before.h)
    return Box(x0, y0, x1 - x0, y1 - y0, found.score * 0.6)


def _seed(gray: np.ndarray, box: Box, scale: float) -> np.ndarray | None:
    x0, y0 = max(0, int(box.x * scale)), max(0, int(box.y * scale))
    x1 = min(gray.shape[1], int((box.x + box.w) * scale))
    y1 = min(gray.shape[0], int((box.y + box.h) * scale))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    mask = np.zeros_like(gray)
    mask[y0:y1, x0:x1] = 255
    points = cv2.goodFeaturesToTrack(gray, 40, 0.01, 2, mask=mask)
    return None if points is None else points.astype(np.float32)


class FaceTracker:
    """Feed frames in order with ``add``; ``finish`` gives the tracks and the stretches a
    person must review."""

    def __init__(
        self,
        fps: Fraction,
        size: tuple[int, int],
        detector: Detector | None = None,
        settings: TrackerSettings | None = None,
    ) -> None:
        self.fps = fps
        self.width, self.height = size
        self.detect = detector or FaceDetector()
        self.settings = settings or TrackerSettings()
        self.scale = min(1.0, self.settings.flow_width / self.width)
        self._live: list[_Live] = []
        self._done: list[_Live] = []
        self._previous: np.ndarray | None = None
        self._frame = 0
        self._next_id = 1

    def add(self, frame: np.ndarray) -> None:
        small = cv2.resize(frame, None, fx=self.scale, fy=self.scale, interpolation=cv2.INTER_AREA)
        gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        number = self._frame
        if self._previous is not None:
            for live in self._live:
                self._follow(live, gray, number)
        if number % self.settings.detect_every == 0:
            self._match(self.detect(frame), gray, number)
        self._retire(number)
        self._previous = gray
        self._frame += 1

    # --- between detections ------------------------------------------------------------

    def _follow(self, live: _Live, gray: np.ndarray, number: int) -> None:
        last = live.boxes[-1]
        moved = self._flow(live, gray)
        if moved is None:
            live.boxes.append(self._held(live, last.box, number))
            return
        dx, dy, kept = moved
        box = Box(last.x + dx, last.y + dy, last.w, last.h)
        confidence = live.score * kept
        if self._behind(live, box, confidence):
            # another face in front: its points may drag this box along; stay, widened
            box, confidence = last.box, min(confidence, 0.45)
        if confidence < self.settings.low_confidence * 0.5:
            live.boxes.append(self._held(live, box, number))
            return
        live.boxes.append(
            TrackBox(number, box.x, box.y, box.w, box.h, round(confidence, 3), "tracked")
        )

    def _behind(self, live: _Live, box: Box, confidence: float) -> bool:
        """Whether ``box`` overlaps the face of a track followed more surely (in front)."""
        return any(
            other is not live
            and other.boxes[-1].confidence > confidence
            and other.boxes[-1].box.iou(box) > 0
            for other in self._live
        )

    def _flow(self, live: _Live, gray: np.ndarray) -> tuple[float, float, float] | None:
        if live.points is None or len(live.points) < 3 or self._previous is None:
            return None
        p1, status, _ = cv2.calcOpticalFlowPyrLK(
            self._previous, gray, live.points, live.points.copy()
        )
        back, status_back, _ = cv2.calcOpticalFlowPyrLK(gray, self._previous, p1, p1.copy())
        error = np.linalg.norm((back - live.points).reshape(-1, 2), axis=1)
        good = (status.ravel() == 1) & (status_back.ravel() == 1) & (error < 1.0)
        if good.sum() < 3:
            live.points = None
            return None
        moves = (p1 - live.points).reshape(-1, 2)
        own = good & ~self._on_others(live, live.points.reshape(-1, 2))
        shift = np.median(moves[own if own.sum() >= 3 else good], axis=0) / self.scale
        live.points = p1[good].reshape(-1, 1, 2)
        return float(shift[0]), float(shift[1]), float(good.sum()) / max(1, live.seeded)

    def _on_others(self, live: _Live, points: np.ndarray) -> np.ndarray:
        """Which points (flow pixels) lie on another face's head: its box grown by ``HEAD``.
        Whichever face is in front, points there may follow the other one (a child's head
        passing over a parent's chin drags her box along), so they do not move this box."""
        inside = np.zeros(len(points), bool)
        for other in self._live:
            if other is live or not other.boxes:
                continue
            head = other.boxes[-1].box.grown(HEAD)
            x0, y0 = head.x * self.scale, head.y * self.scale
            x1, y1 = (head.x + head.w) * self.scale, (head.y + head.h) * self.scale
            xs, ys = points[:, 0], points[:, 1]
            inside |= (xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y1)
        return inside

    def _held(self, live: _Live, box: Box, number: int) -> TrackBox:
        """Lost: stay where it was; the confidence halves every second (the box widens)."""
        since = Fraction(number - live.last_detected) / self.fps
        confidence = round(0.5 * 0.5 ** float(since), 3)
        return TrackBox(number, box.x, box.y, box.w, box.h, confidence, "held")

    # --- detections --------------------------------------------------------------------

    def _match(self, found: list[Box], gray: np.ndarray, number: int) -> None:
        unmatched = list(found)
        for live in sorted(self._live, key=lambda t: -t.boxes[-1].confidence):
            current = live.boxes[-1]
            best = max(unmatched, key=lambda b: b.iou(current.box), default=None)
            if best is None or best.iou(current.box.grown(0.25)) < self.settings.match_iou:
                continue
            unmatched.remove(best)
            if current.frame == number:
                live.boxes.pop()
            reacquired = current.state == "held"
            self._detected(
                live, _partial(best, current.box, live.raw_area, reacquired), gray, number
            )
            live.raw_area = best.area()
        for box in self._rejoin(unmatched, gray, number):
            self._start(box, gray, number)

    def _rejoin(self, found: list[Box], gray: np.ndarray, number: int) -> list[Box]:
        """A face found near a track that lost it or lags behind it (fast motion: the boxes
        no longer overlap) is that track, not a new one: no duplicate lingering where the
        face was. The frames between are hidden from where it was to where it is now.
        Returns the detections that start new tracks."""
        left = []
        waiting = [t for t in self._live if t.last_detected != number]
        for box in found:
            near = [t for t in waiting if _near(t.boxes[-1].box, box)]
            if not near:
                left.append(box)
                continue
            live = min(near, key=lambda t: _distance(t.boxes[-1].box, box))
            waiting.remove(live)
            current = live.boxes.pop() if live.boxes[-1].frame == number else live.boxes[-1]
            _bridge(live.boxes, box)
            del current  # the gap is bridged; the face is where it was found
            self._detected(live, box, gray, number)
        return left

    def _detected(self, live: _Live, box: Box, gray: np.ndarray, number: int) -> None:
        live.raw_area = box.area()
        live.boxes.append(
            TrackBox(number, box.x, box.y, box.w, box.h, round(box.score, 3), "detected")
        )
        live.score = box.score
        live.last_detected = number
        live.points = _seed(gray, box, self.scale)
        live.seeded = 0 if live.points is None else len(live.points)

    def _start(self, box: Box, gray: np.ndarray, number: int) -> None:
        live = _Live(f"t{self._next_id}", [], box.score, number)
        self._next_id += 1
        first = max(0, number - self.settings.detect_every + 1)
        live.boxes = [
            TrackBox(n, box.x, box.y, box.w, box.h, round(box.score * 0.5, 3), "held")
            for n in range(first, number)
        ]
        self._detected(live, box, gray, number)
        self._live.append(live)

    def _retire(self, number: int) -> None:
        hold = int(self.settings.hold * self.fps)
        for live in list(self._live):
            if number - live.last_detected >= hold:
                self._live.remove(live)
                self._done.append(live)

    # --- result ------------------------------------------------------------------------

    def finish(self) -> tuple[list[Track], list[Stretch]]:
        everything = sorted(self._done + self._live, key=lambda t: int(t.id[1:]))
        tracks = [Track(live.id, tuple(_back_filled(live.boxes))) for live in everything
                  if live.boxes]  # fmt: skip
        crossings = _crossings(tracks)
        stretches = [
            s
            for track in tracks
            for s in review_stretches(track, self.settings, self._frame, crossings[track.id])
        ]
        return tracks, stretches

    @property
    def frames(self) -> int:
        return self._frame


def track_frames(
    frames: Iterable[np.ndarray],
    fps: Fraction,
    size: tuple[int, int],
    detector: Detector | None = None,
    settings: TrackerSettings | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[Track], list[Stretch], int]:
    """Tracks and review stretches for a whole film; ``progress`` gets the frame count."""
    tracker = FaceTracker(fps, size, detector, settings)
    for frame in frames:
        tracker.add(frame)
        if progress and tracker.frames % 30 == 0:
            progress(tracker.frames)
    tracks, stretches = tracker.finish()
    return tracks, stretches, tracker.frames


def analysis_size(size: tuple[int, int], width: int = DETECT_WIDTH) -> tuple[int, int]:
    """The size frames are read at for finding faces: no wider than the detector reads them
    (ffmpeg scales them down while decoding, cheaper than doing it here)."""
    if size[0] <= width:
        return size
    return width, max(2, round(size[1] * width / size[0] / 2) * 2)


def rescaled(tracks: list[Track], fx: float, fy: float) -> list[Track]:
    """Tracks found on scaled-down frames, in the film's own pixels."""
    return [
        Track(t.id, tuple(replace(b, x=b.x * fx, y=b.y * fy, w=b.w * fx, h=b.h * fy)
                          for b in t.boxes))
        for t in tracks
    ]  # fmt: skip


def _back_filled(boxes: list[TrackBox]) -> list[TrackBox]:
    """The frames before a track's first detection (hidden where it was first seen) also
    cover where it may have come from, at the speed between its first two detections, in
    either direction (it may have turned)."""
    seen = [i for i, b in enumerate(boxes) if b.state == "detected"][:2]
    if len(seen) < 2 or seen[0] == 0:
        return boxes
    one, two = boxes[seen[0]], boxes[seen[1]]
    vx, vy = (two.x - one.x) / (two.frame - one.frame), (two.y - one.y) / (two.frame - one.frame)
    out = list(boxes)
    for i in range(seen[0]):
        b, back = boxes[i], one.frame - boxes[i].frame
        dx, dy = abs(vx) * back, abs(vy) * back
        x0, y0 = min(b.x, one.x - dx), min(b.y, one.y - dy)
        out[i] = replace(b, x=x0, y=y0, w=max(b.x + b.w, one.x + one.w + dx) - x0,
                         h=max(b.y + b.h, one.y + one.h + dy) - y0)  # fmt: skip
    return out


def _distance(a: Box, b: Box) -> float:
    return float(np.hypot(a.x + a.w / 2 - b.x - b.w / 2, a.y + a.h / 2 - b.y - b.h / 2))


def _near(last: Box, found: Box) -> bool:
    """Within two face widths of where the track was last, and of a like size."""
    ratio = found.area() / max(1.0, last.area())
    return 0.5 <= ratio <= 2.0 and _distance(last, found) <= 2.0 * max(last.w, found.w)


def _bridge(boxes: list[TrackBox], found: Box) -> None:
    """Between the track's last detection and ``found``: each box widened to also cover the
    straight path to ``found`` (a fast face is somewhere on the way, not where it was)."""
    start = next((i for i in range(len(boxes) - 1, -1, -1) if boxes[i].state == "detected"), 0)
    first = boxes[start]
    span = max(1, len(boxes) - start)
    for i in range(start + 1, len(boxes)):
        t = (i - start) / span
        b = boxes[i]
        x = first.x + (found.x - first.x) * t
        y = first.y + (found.y - first.y) * t
        w, h = first.w + (found.w - first.w) * t, first.h + (found.h - first.h) * t
        x0, y0 = min(b.x, x), min(b.y, y)
        x1, y1 = max(b.x + b.w, x + w), max(b.y + b.h, y + h)
        boxes[i] = replace(b, x=x0, y=y0, w=x1 - x0, h=y1 - y0, confidence=min(b.confidence, 0.45))


def _crossings(tracks: list[Track]) -> dict[str, list[tuple[int, int, str]]]:
    """Frames where two tracks' faces overlap: there a tracker can swap two people. Flagged
    once, on the earlier track (its reason names the other): a reviewer looks at those frames
    once, and approval covers the whole plan."""
    found: dict[str, list[tuple[int, int, str]]] = {t.id: [] for t in tracks}
    for index, one in enumerate(tracks):
        for other in tracks[index + 1 :]:
            for frame in range(max(one.first, other.first), min(one.last, other.last) + 1):
                a, b = one.at(frame), other.at(frame)
                if a is not None and b is not None and a.box.iou(b.box) > 0:
                    found[one.id].append((frame, frame, f"crosses {other.id}"))
    return found


def moments(stretches: Sequence[Stretch], gap: int) -> list[tuple[int, int, list[str]]]:
    """The stretches of all tracks as the moments a reviewer steps through: those that
    overlap or lie within ``gap`` frames of each other are one look (start, end, tracks)."""
    merged: list[tuple[int, int, list[str]]] = []
    for s in sorted(stretches, key=lambda s: (s.start, s.end)):
        if merged and s.start <= merged[-1][1] + gap:
            start, end, tracks = merged[-1]
            merged[-1] = (start, max(end, s.end), tracks + [s.track] * (s.track not in tracks))
        else:
            merged.append((s.start, s.end, [s.track]))
    return merged


def review_stretches(
    track: Track,
    settings: TrackerSettings,
    frames: int,
    crossings: Sequence[tuple[int, int, str]] = (),
) -> list[Stretch]:
    """Where a person must look: where a face appears or goes (not at the film's own start
    or end), low confidence, fast moves, crossing another face."""
    n = settings.detect_every
    flagged: list[tuple[int, int, str]] = list(crossings)
    if track.first > 0:
        flagged.append((track.first, min(track.last, track.first + n), "appears"))
    if track.last < frames - 1:
        flagged.append((max(track.first, track.last - n), track.last, "lost"))
    for box, after in zip(track.boxes, track.boxes[1:], strict=False):
        if after.confidence < settings.low_confidence:
            flagged.append((after.frame, after.frame, "low confidence"))
        moved = abs((after.x + after.w / 2) - (box.x + box.w / 2))
        if moved > settings.fast_move * max(1.0, box.w):
            flagged.append((after.frame, after.frame, "fast move"))
    return _merge(track.id, flagged, n)


def _merge(track_id: str, flagged: list[tuple[int, int, str]], gap: int) -> list[Stretch]:
    """Flags closer than ``gap`` frames become one stretch, with all their reasons."""
    merged: list[Stretch] = []
    for start, end, reason in sorted(flagged):
        last = merged[-1] if merged else None
        if last is not None and start <= last.end + gap:
            reasons = last.reason.split(", ")
            reasons += [] if reason in reasons else [reason]
            merged[-1] = Stretch(track_id, last.start, max(last.end, end), ", ".join(reasons))
        else:
            merged.append(Stretch(track_id, start, end, reason))
    return merged
