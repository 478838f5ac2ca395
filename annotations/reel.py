"""Reel plans: ordered clips and stills with captions, holds, slow motion and a title card.

A plan is self-contained (media ids and exact times are copied from the moments), so the
media layer renders it without the annotation model. Format: docs/REEL_PLAN.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, Literal

from .errors import AnnotationError
from .model import Annotations
from .timebase import parse_time, to_json

FORMAT = "videofeedback-reel-plan"
DEFAULT_STILL_HOLD = Fraction(4)
DEFAULT_FADE = Fraction(1, 2)
MAX_SLOW = Fraction(8)


@dataclass(frozen=True)
class TitleCard:
    text: str
    subtitle: str = ""
    hold: Fraction = Fraction(3)


@dataclass(frozen=True)
class ReelItem:
    kind: Literal["clip", "still"]
    media: str
    start: Fraction  # a clip's start, or a still's frame time
    end: Fraction | None = None  # a clip's end (exclusive); None for a still
    caption: str = ""
    hold: Fraction = Fraction(0)  # seconds held: a still's length, or a freeze after a clip
    slow: Fraction = Fraction(1)  # 2 = half speed
    ref: str = ""  # the moment or still it came from

    def length(self) -> Fraction:
        """Seconds on screen."""
        played = Fraction(0) if self.end is None else (self.end - self.start) * self.slow
        return played + self.hold

    def check(self, position: int) -> None:
        where = f"item {position + 1}"
        if self.kind not in ("clip", "still"):
            raise AnnotationError(f"{where}: kind must be 'clip' or 'still'")
        if not self.media:
            raise AnnotationError(f"{where}: which recording? ('media' is missing)")
        if self.start < 0 or self.hold < 0:
            raise AnnotationError(f"{where}: times cannot be negative")
        if self.kind == "clip" and (self.end is None or self.end <= self.start):
            raise AnnotationError(f"{where}: a clip must end after it starts")
        if self.kind == "still" and (self.end is not None or self.hold <= 0):
            raise AnnotationError(f"{where}: a still has a time and a hold of more than 0 s")
        if not 1 <= self.slow <= MAX_SLOW:
            raise AnnotationError(f"{where}: slow motion is a factor from 1 to {MAX_SLOW}")


@dataclass(frozen=True)
class ReelPlan:
    items: tuple[ReelItem, ...]
    title: TitleCard | None = None
    fade: Fraction = DEFAULT_FADE
    size: tuple[int, int] = (1280, 720)
    language: str = ""  # the family's language, for captions in a translation
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def check(self) -> None:
        if not self.items and self.title is None:
            raise AnnotationError("the reel plan is empty; add clips or stills")
        for position, item in enumerate(self.items):
            item.check(position)
        if not 0 <= self.fade <= 2:
            raise AnnotationError("fades are from 0 to 2 seconds")

    def length(self) -> Fraction:
        return sum((i.length() for i in self.items), Fraction(self.title.hold if self.title else 0))

    @property
    def is_plain(self) -> bool:
        """Clips only, no captions, holds, slow motion, title or fades: the fast path applies."""
        return (
            self.title is None
            and self.fade == 0
            and all(
                i.kind == "clip" and not i.caption and i.hold == 0 and i.slow == 1
                for i in self.items
            )
        )

    def to_dict(self) -> dict[str, Any]:
        title = (
            None
            if self.title is None
            else {
                "text": self.title.text,
                "subtitle": self.title.subtitle,
                "hold": to_json(self.title.hold),
            }
        )
        return {
            "format": FORMAT,
            "version": 1,
            "size": f"{self.size[0]}x{self.size[1]}",
            "fade": to_json(self.fade),
            "language": self.language,
            "title": title,
            "items": [
                {
                    "kind": i.kind,
                    "media": i.media,
                    "ref": i.ref,
                    "start": to_json(i.start),
                    "end": to_json(i.end),
                    "caption": i.caption,
                    "hold": to_json(i.hold),
                    "slow": to_json(i.slow),
                }
                for i in self.items
            ],
        }

    @classmethod
    def from_dict(cls, data: Any) -> ReelPlan:
        if not isinstance(data, dict) or data.get("format", FORMAT) != FORMAT:
            raise AnnotationError("this is not a videofeedback reel plan")
        try:
            plan = cls(
                items=tuple(_item(i) for i in data.get("items", [])),
                title=_title(data.get("title")),
                fade=_time(data.get("fade", DEFAULT_FADE)),
                size=_size(data.get("size", "1280x720")),
                language=str(data.get("language", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise AnnotationError(f"the reel plan is malformed ({exc})") from None
        plan.check()
        return plan


def _time(value: Any) -> Fraction:
    """Times in a plan: exact strings ('5/2', '12.04') or JSON numbers (read as written)."""
    return parse_time(value if isinstance(value, str | int | Fraction) else repr(value))


def _item(data: dict[str, Any]) -> ReelItem:
    kind = data["kind"]
    start = _time(data["start"] if kind == "clip" else data.get("time", data.get("start")))
    default_hold = DEFAULT_STILL_HOLD if kind == "still" else Fraction(0)
    return ReelItem(
        kind=kind,
        media=str(data["media"]),
        start=start,
        end=None if data.get("end") is None else _time(data["end"]),
        caption=str(data.get("caption", "")),
        hold=_time(data.get("hold", default_hold)),
        slow=_time(data.get("slow", 1)),
        ref=str(data.get("ref", "")),
    )


def _title(data: Any) -> TitleCard | None:
    if not data:
        return None
    return TitleCard(str(data["text"]), str(data.get("subtitle", "")), _time(data.get("hold", 3)))


def _size(text: str) -> tuple[int, int]:
    width, height = (int(v) for v in str(text).lower().split("x"))
    if width % 2 or height % 2 or not 160 <= width <= 3840 or not 120 <= height <= 2160:
        raise ValueError(f"unsupported size {text}")
    return width, height


def plan_from(
    annotations: Annotations,
    refs: list[str],
    title: TitleCard | None = None,
    still_hold: Fraction = DEFAULT_STILL_HOLD,
) -> ReelPlan:
    """A plan from moment and still ids, in the order given, with their captions."""
    items = []
    stills = {s.id: s for s in annotations.stills}
    for ref in refs:
        if ref in stills:
            s = stills[ref]
            items.append(
                ReelItem(
                    "still", annotations.media_id, s.time, None, s.caption, still_hold, ref=s.id
                )
            )
            continue
        m = annotations.moment(ref)
        if m.end is None:  # a point moment becomes a still of that frame
            items.append(
                ReelItem(
                    "still", annotations.media_id, m.start, None, m.caption, still_hold, ref=m.id
                )
            )
        else:
            items.append(
                ReelItem("clip", annotations.media_id, m.start, m.end, m.caption, ref=m.id)
            )
    plan = ReelPlan(tuple(items), title)
    plan.check()
    return plan


def with_item(plan: ReelPlan, index: int, **changes: Any) -> ReelPlan:
    items = list(plan.items)
    items[index] = replace(items[index], **changes)
    new = replace(plan, items=tuple(items))
    new.check()
    return new
