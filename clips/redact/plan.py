"""The redaction plan: tracks of faces, who each is, manual boxes, muted sound, the review.

Frozen dataclasses, serialised to JSON and stored encrypted beside the recording (see
videofeedback/redaction.py). No pixels, crops or appearance features are ever part of it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from fractions import Fraction
from typing import Any

from clips.errors import MediaError

from .detect import Box

OTHER = "other"
FORMAT = "videofeedback-redaction/1"


@dataclass(frozen=True)
class TrackBox:
    """Where a track's face is in one frame. ``state``: detected (the detector saw it),
    tracked (followed by optical flow), held (lost: kept, widened, where it was last)."""

    frame: int
    x: float
    y: float
    w: float
    h: float
    confidence: float
    state: str = "detected"

    @property
    def box(self) -> Box:
        return Box(self.x, self.y, self.w, self.h, self.confidence)


@dataclass(frozen=True)
class Track:
    id: str
    boxes: tuple[TrackBox, ...]

    @property
    def first(self) -> int:
        return self.boxes[0].frame

    @property
    def last(self) -> int:
        return self.boxes[-1].frame

    def at(self, frame: int) -> TrackBox | None:
        index = frame - self.first
        if 0 <= index < len(self.boxes) and self.boxes[index].frame == frame:
            return self.boxes[index]
        return next((b for b in self.boxes if b.frame == frame), None)


@dataclass(frozen=True)
class Keyframe:
    frame: int
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class ManualBox:
    """A box drawn by a person, always hidden: keyframes, linearly interpolated between."""

    id: str
    keyframes: tuple[Keyframe, ...]

    def at(self, frame: int) -> Box | None:
        keys = sorted(self.keyframes, key=lambda k: k.frame)
        if not keys or frame < keys[0].frame or frame > keys[-1].frame:
            return None
        for a, b in zip(keys, keys[1:], strict=False):
            if a.frame <= frame <= b.frame:
                t = (frame - a.frame) / max(1, b.frame - a.frame)
                return Box(*(va + (vb - va) * t for va, vb in zip(_xywh(a), _xywh(b), strict=True)))
        return Box(keys[0].x, keys[0].y, keys[0].w, keys[0].h)


def _xywh(key: Keyframe) -> tuple[float, float, float, float]:
    return (key.x, key.y, key.w, key.h)


#: What a sound range becomes: silence, a 1 kHz tone, or the voice pitch-shifted.
MUTE_MODES = ("mute", "bleep", "disguise")


@dataclass(frozen=True)
class Mute:
    """Sound changed from ``start`` to ``end`` seconds (exact fractions as text). ``mode``:
    mute (silence), bleep (a 1 kHz tone: the listener knows something was cut) or disguise
    (the sound there pitch- and formant-shifted). Plans from before ``mode`` carry only
    ``bleep``; ``bleep`` stays true exactly for bleeps."""

    start: str
    end: str
    bleep: bool = False
    mode: str = ""

    def __post_init__(self) -> None:
        mode = self.mode or ("bleep" if self.bleep else "mute")
        if mode not in MUTE_MODES:
            raise ValueError(f"unknown sound mode {mode!r}")
        object.__setattr__(self, "mode", mode)
        object.__setattr__(self, "bleep", mode == "bleep")

    def seconds(self) -> tuple[Fraction, Fraction]:
        return Fraction(self.start), Fraction(self.end)

    def to_dict(self) -> dict[str, Any]:
        """``mode`` is written only for a disguise: a plan without one reads (and digests)
        exactly as before ``mode`` existed, so its review stays valid."""
        data: dict[str, Any] = {"start": self.start, "end": self.end, "bleep": self.bleep}
        return {**data, "mode": self.mode} if self.mode == "disguise" else data


@dataclass(frozen=True)
class Stretch:
    """Frames a person must look at: a track's start or end, low confidence, a fast move."""

    track: str
    start: int
    end: int
    reason: str


@dataclass(frozen=True)
class Review:
    by: str
    at: str
    digest: str  # the plan's content when approved: any later change needs a new review
    tracks: int
    stretches: int
    changes: int


@dataclass(frozen=True)
class RedactionPlan:
    media: str
    fps: str
    width: int
    height: int
    frames: int
    detect_every: int
    tracks: tuple[Track, ...] = ()
    marks: tuple[tuple[str, str], ...] = ()  # (track id, participant id or "other")
    manual: tuple[ManualBox, ...] = ()
    mutes: tuple[Mute, ...] = ()
    stretches: tuple[Stretch, ...] = ()
    reviews: tuple[Review, ...] = field(default=())
    changes_since_review: int = 0

    # --- identities and review ---------------------------------------------------------

    def mark_of(self, track_id: str) -> str | None:
        return dict(self.marks).get(track_id)

    def track(self, track_id: str) -> Track:
        for track in self.tracks:
            if track.id == track_id:
                return track
        raise MediaError(f"there is no track {track_id}; 'people list' shows the tracks")

    def marked(self, track_id: str, who: str) -> RedactionPlan:
        self.track(track_id)
        marks = {**dict(self.marks), track_id: who}
        return replace(self, marks=tuple(sorted(marks.items())), **self._changed())

    def muted(
        self, start: Fraction, end: Fraction, bleep: bool = False, mode: str = ""
    ) -> RedactionPlan:
        """A sound range added: ``mode`` mute|bleep|disguise (``bleep`` is the old way to
        ask for a bleep)."""
        if not 0 <= start < end:
            raise MediaError("a muted range needs 0 <= start < end (seconds)")
        if mode and mode not in MUTE_MODES:
            raise MediaError(f"a sound range is one of {', '.join(MUTE_MODES)}, not {mode!r}")
        mutes = (*self.mutes, Mute(str(start), str(end), bleep, mode))
        return replace(self, mutes=mutes, **self._changed())

    def with_manual(self, box: ManualBox) -> RedactionPlan:
        return replace(self, manual=(*self.manual, box), **self._changed())

    def _changed(self) -> dict[str, Any]:
        return {"changes_since_review": self.changes_since_review + 1}

    def digest(self) -> str:
        content = self.to_dict()
        content.pop("reviews")
        content.pop("changes_since_review")
        text = json.dumps(content, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def review_pending(self) -> bool:
        """True until a person approved this very plan (every stretch and mark in it)."""
        return not self.reviews or self.reviews[-1].digest != self.digest()

    def approved(self, by: str, at: str) -> RedactionPlan:
        review = Review(
            by, at, self.digest(), len(self.tracks), len(self.stretches), self.changes_since_review
        )
        return replace(self, reviews=(*self.reviews, review), changes_since_review=0)

    # --- JSON ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["format"] = FORMAT
        data["marks"] = [list(m) for m in self.marks]
        data["mutes"] = [m.to_dict() for m in self.mutes]
        return data

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> RedactionPlan:
        try:
            raw = json.loads(data)
            if raw.pop("format") != FORMAT:
                raise ValueError("unknown format")
            return cls(
                **{
                    **raw,
                    "tracks": tuple(
                        Track(t["id"], tuple(TrackBox(**b) for b in t["boxes"]))
                        for t in raw["tracks"]
                    ),
                    "marks": tuple((str(a), str(b)) for a, b in raw["marks"]),
                    "manual": tuple(
                        ManualBox(m["id"], tuple(Keyframe(**k) for k in m["keyframes"]))
                        for m in raw["manual"]
                    ),
                    "mutes": tuple(Mute(**m) for m in raw["mutes"]),
                    "stretches": tuple(Stretch(**s) for s in raw["stretches"]),
                    "reviews": tuple(Review(**r) for r in raw["reviews"]),
                }
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise MediaError(
                f"the redaction plan cannot be read ({exc}); run 'people find' again"
            ) from None
