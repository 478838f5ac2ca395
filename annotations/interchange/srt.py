"""SubRip (.srt), as players read it: numbered blocks, 'HH:MM:SS,mmm --> HH:MM:SS,mmm', text
until a blank line. Formatting tags (<i>, <b>, <u>, <font ...>, {\\an8}) are dropped."""

from __future__ import annotations

import re
from fractions import Fraction

from .imported import Entry, ImportedFile
from .vtt import plain_text

_TIMES = re.compile(
    r"^\s*(\d+):(\d{1,2}):(\d{1,2})[,.](\d{1,3})\s*-->\s*(\d+):(\d{1,2}):(\d{1,2})[,.](\d{1,3})"
)
_ASS_TAG = re.compile(r"\{\\[^}]*\}")


def _seconds(parts: tuple[str, ...]) -> Fraction:
    hours, minutes, seconds, millis = parts
    fraction = Fraction(int(millis.ljust(3, "0")), 1000)
    return int(hours) * 3600 + int(minutes) * 60 + int(seconds) + fraction


def parse_srt(text: str) -> ImportedFile:
    result = ImportedFile("srt")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").replace("\0", "\ufffd").split("\n")
    index = 0
    while index < len(lines):
        match = _TIMES.match(lines[index])
        if match is None:
            if "-->" in lines[index]:
                result.skipped_blocks += 1
            index += 1
            continue
        body: list[str] = []
        index += 1
        while index < len(lines) and lines[index].strip():
            body.append(lines[index])
            index += 1
        start, end = _seconds(match.groups()[:4]), _seconds(match.groups()[4:])
        caption = plain_text(_ASS_TAG.sub("", "\n".join(body))).caption
        result.entries.append(Entry(start, end if end > start else None, caption=caption))
    if result.skipped_blocks:
        result.losses.append(f"{result.skipped_blocks} subtitle blocks with bad timings skipped")
    return result
