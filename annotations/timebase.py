"""Exact times: rational seconds (``Fraction``), frame numbers at a rational frame rate.

Floats never hold a time: 1/30 s is exact here, and 30000/1001 fps too.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from .errors import AnnotationError

Time = Fraction
_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)$")


def parse_time(text: str | int | Fraction) -> Fraction:
    """Seconds from '12.5', '1001/30000', '01:02.5' or '1:01:02.500' (exactly)."""
    if isinstance(text, Fraction | int):
        return Fraction(text)
    value = text.strip()
    match = _CLOCK.match(value)
    try:
        if match:
            hours, minutes, seconds = match.groups()
            return Fraction(int(hours or 0) * 3600 + int(minutes) * 60) + Fraction(seconds)
        result = Fraction(value)
    except (ValueError, ZeroDivisionError):
        raise AnnotationError(f"{text!r} is not a time; write seconds (12.5) or mm:ss.ms") from None
    if result < 0:
        raise AnnotationError(f"{text!r} is before the start of the recording")
    return result


def parse_rate(text: str | int | Fraction) -> Fraction:
    rate = Fraction(text) if isinstance(text, int | Fraction) else Fraction(text.strip())
    if rate <= 0:
        raise AnnotationError(f"{text!r} is not a frame rate")
    return rate


def to_frame(time: Fraction, fps: Fraction) -> int:
    """The frame shown at ``time`` (the one that started at or before it)."""
    return math.floor(time * fps)


def from_frame(frame: int, fps: Fraction) -> Fraction:
    return Fraction(frame) / fps


def snap(time: Fraction, fps: Fraction) -> Fraction:
    """The start of the nearest frame: for times read from files with limited precision."""
    return from_frame(round(time * fps), fps)


def format_clock(time: Fraction) -> str:
    """'01:02.500' or '1:01:02.500' (milliseconds, for people and subtitle files)."""
    millis = round(time * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    clock = f"{minutes:02d}:{seconds:02d}.{millis:03d}"
    return f"{hours}:{clock}" if hours else clock


def to_json(time: Fraction | None) -> str | None:
    """Times are stored as exact rational strings: '5/2', '1001/30000', '12'."""
    return None if time is None else str(time)


def from_json(text: str | None) -> Fraction | None:
    return None if text is None else Fraction(text)
