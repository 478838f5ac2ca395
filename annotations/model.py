"""Moments and stills on one recording, with plain-Python change events (no Qt)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from .codebook import Codebook
from .errors import AnnotationError
from .timebase import format_clock, from_json, to_json


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(5)}"


@dataclass(frozen=True)
class Moment:
    """A time range [start, end) — or a point when ``end`` is None — with codes and words."""

    id: str
    start: Fraction
    end: Fraction | None
    codes: tuple[str, ...] = ()
    caption: str = ""  # strength-based, for the parent: "You waited, and she showed you the book"
    note: str = ""  # private to the practitioner
    coder: str = ""
    created: str = ""
    changed: str = ""
    translations: tuple[tuple[str, str], ...] = ()  # (language, caption) for the family

    @property
    def is_point(self) -> bool:
        return self.end is None

    @property
    def duration(self) -> Fraction:
        return Fraction(0) if self.end is None else self.end - self.start

    def covers(self, time: Fraction) -> bool:
        if self.end is None:
            return time == self.start
        return self.start <= time < self.end

    def overlaps(self, other: Moment) -> bool:
        a_end = self.end if self.end is not None else self.start
        b_end = other.end if other.end is not None else other.start
        return self.start <= b_end and other.start <= a_end

    def caption_in(self, language: str) -> str:
        """The caption in ``language`` if there is a translation, else the caption."""
        return dict(self.translations).get(language, "") or self.caption

    def label(self) -> str:
        span = format_clock(self.start)
        return span if self.end is None else f"{span}–{format_clock(self.end)}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "start": to_json(self.start),
            "end": to_json(self.end),
            "codes": list(self.codes),
            "caption": self.caption,
            "note": self.note,
            "coder": self.coder,
            "created": self.created,
            "changed": self.changed,
            **({"translations": dict(self.translations)} if self.translations else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Moment:
        start = from_json(data["start"])
        assert start is not None
        return cls(
            id=data["id"],
            start=start,
            end=from_json(data.get("end")),
            codes=tuple(data.get("codes", ())),
            caption=data.get("caption", ""),
            note=data.get("note", ""),
            coder=data.get("coder", ""),
            created=data.get("created", ""),
            changed=data.get("changed", ""),
            translations=tuple(sorted(data.get("translations", {}).items())),
        )


@dataclass(frozen=True)
class Still:
    """One frame, shown held in a reel, with a caption."""

    id: str
    time: Fraction
    caption: str = ""
    coder: str = ""
    created: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "time": to_json(self.time),
            "caption": self.caption,
            "coder": self.coder,
            "created": self.created,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Still:
        time = from_json(data["time"])
        assert time is not None
        return cls(
            data["id"],
            time,
            data.get("caption", ""),
            data.get("coder", ""),
            data.get("created", ""),
        )


# --- events --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MomentAdded:
    moment: Moment
    index: int


@dataclass(frozen=True)
class MomentChanged:
    old: Moment
    new: Moment


@dataclass(frozen=True)
class MomentRemoved:
    moment: Moment
    index: int


@dataclass(frozen=True)
class MomentMoved:
    moment_id: str
    old_index: int
    new_index: int


@dataclass(frozen=True)
class StillAdded:
    still: Still


@dataclass(frozen=True)
class StillChanged:
    old: Still
    new: Still


@dataclass(frozen=True)
class StillRemoved:
    still: Still


Event = (
    MomentAdded
    | MomentChanged
    | MomentRemoved
    | MomentMoved
    | StillAdded
    | StillChanged
    | StillRemoved
)
Listener = Callable[[Event], None]


@dataclass
class Annotations:
    """Everything annotated on one recording. Change it through ``commands.Editor``, which
    makes every change undoable; listeners hear about every change, undo and redo included."""

    media_id: str
    fps: Fraction
    duration: Fraction | None = None
    codebook: Codebook | None = None
    moments: list[Moment] = field(default_factory=list)  # in the practitioner's order
    stills: list[Still] = field(default_factory=list)
    _listeners: list[Listener] = field(default_factory=list, repr=False, compare=False)

    # --- events --------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every change; returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _emit(self, event: Event) -> None:
        for listener in list(self._listeners):
            listener(event)

    # --- queries -------------------------------------------------------------------------

    def moment(self, moment_id: str) -> Moment:
        return self.moments[self.index_of(moment_id)]

    def index_of(self, moment_id: str) -> int:
        for index, moment in enumerate(self.moments):
            if moment.id == moment_id:
                return index
        raise AnnotationError(f"there is no moment {moment_id} on {self.media_id}")

    def still(self, still_id: str) -> Still:
        for still in self.stills:
            if still.id == still_id:
                return still
        raise AnnotationError(f"there is no still {still_id} on {self.media_id}")

    def by_coder(self, coder: str) -> list[Moment]:
        return [m for m in self.moments if m.coder == coder]

    def coders(self) -> list[str]:
        return sorted({m.coder for m in self.moments})

    def in_time_order(self) -> list[Moment]:
        return sorted(self.moments, key=lambda m: (m.start, m.end or m.start, m.id))

    # --- validation ----------------------------------------------------------------------

    def check(self, moment: Moment) -> None:
        if moment.start < 0:
            raise AnnotationError("a moment cannot start before the recording")
        if moment.end is not None and moment.end <= moment.start:
            raise AnnotationError(
                f"a moment must end after it starts ({format_clock(moment.start)} to "
                f"{format_clock(moment.end)})"
            )
        last = moment.end if moment.end is not None else moment.start
        if self.duration is not None and last > self.duration:
            raise AnnotationError(
                f"the moment ends at {format_clock(last)}, after the recording "
                f"({format_clock(self.duration)})"
            )
        if self.codebook is not None:
            self.codebook.check_codes(moment.codes)

    # --- primitive changes (used by commands; each emits one event) ----------------------

    def insert_moment(self, moment: Moment, index: int | None = None) -> None:
        self.check(moment)
        if any(m.id == moment.id for m in self.moments):
            raise AnnotationError(f"there is already a moment {moment.id}")
        index = len(self.moments) if index is None else index
        self.moments.insert(index, moment)
        self._emit(MomentAdded(moment, index))

    def remove_moment(self, moment_id: str) -> tuple[Moment, int]:
        index = self.index_of(moment_id)
        moment = self.moments.pop(index)
        self._emit(MomentRemoved(moment, index))
        return moment, index

    def replace_moment(self, new: Moment) -> Moment:
        self.check(new)
        index = self.index_of(new.id)
        old = self.moments[index]
        self.moments[index] = new
        self._emit(MomentChanged(old, new))
        return old

    def move_moment(self, moment_id: str, new_index: int) -> int:
        old_index = self.index_of(moment_id)
        if not 0 <= new_index < len(self.moments):
            raise AnnotationError(f"position {new_index + 1} is outside the list of moments")
        moment = self.moments.pop(old_index)
        self.moments.insert(new_index, moment)
        self._emit(MomentMoved(moment_id, old_index, new_index))
        return old_index

    def insert_still(self, still: Still) -> None:
        if still.time < 0 or (self.duration is not None and still.time > self.duration):
            raise AnnotationError("a still must be inside the recording")
        self.stills.append(still)
        self._emit(StillAdded(still))

    def remove_still(self, still_id: str) -> Still:
        still = self.still(still_id)
        self.stills.remove(still)
        self._emit(StillRemoved(still))
        return still

    def replace_still(self, new: Still) -> Still:
        old = self.still(new.id)
        self.stills[self.stills.index(old)] = new
        self._emit(StillChanged(old, new))
        return old

    # --- storage -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "videofeedback-annotations",
            "version": 1,
            "media_id": self.media_id,
            "fps": to_json(self.fps),
            "duration": to_json(self.duration),
            "codebook": self.codebook.id if self.codebook else None,
            "moments": [m.to_dict() for m in self.moments],
            "stills": [s.to_dict() for s in self.stills],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], codebook: Codebook | None = None) -> Annotations:
        fps = from_json(data["fps"])
        assert fps is not None
        return cls(
            media_id=data["media_id"],
            fps=fps,
            duration=from_json(data.get("duration")),
            codebook=codebook,
            moments=[Moment.from_dict(m) for m in data.get("moments", [])],
            stills=[Still.from_dict(s) for s in data.get("stills", [])],
        )


def stamped(moment: Moment, **changes: Any) -> Moment:
    """A copy of ``moment`` with ``changes`` and a new changed-time."""
    return replace(moment, **changes, changed=now_iso())
