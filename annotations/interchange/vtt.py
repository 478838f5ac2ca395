"""WebVTT by the W3C parsing algorithm (WebVTT 1, section 6), and an exporter it reads back.

``parse_vtt`` follows the spec's steps: the signature, the header block, then blocks
collected one by one (a line with "-->" as the first or second line starts a cue; a later
one ends the cue and starts the next block). Cues whose timings fail are skipped and
counted; styles and regions are ignored. ``plain_text`` turns cue text into a plain caption
(tags dropped, character references decoded, ruby text dropped, voices returned as
speakers).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from fractions import Fraction

from ..errors import InterchangeError

_WHITESPACE = " \t\n\f\r"


@dataclass(frozen=True)
class Cue:
    id: str
    start: Fraction
    end: Fraction
    text: str  # raw cue text, markup and all, as the spec's parser keeps it
    settings: str = ""


@dataclass(frozen=True)
class VttFile:
    cues: tuple[Cue, ...]
    skipped: int  # blocks with a "-->" line whose timings the spec rejects


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    @property
    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> str:
        return "" if self.at_end else self.text[self.pos]

    def line(self) -> str:
        end = self.text.find("\n", self.pos)
        end = len(self.text) if end < 0 else end
        line = self.text[self.pos : end]
        self.pos = end
        return line


def _normalise(text: str) -> str:
    text = text.removeprefix("\ufeff").replace("\0", "\ufffd")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_vtt(text: str) -> VttFile:
    """Cues of a WebVTT file; a file without the WEBVTT signature is refused."""
    reader = _Reader(_normalise(text))
    signature = reader.line()
    if not (signature == "WEBVTT" or signature[:7] in ("WEBVTT ", "WEBVTT\t")):
        raise InterchangeError("not a WebVTT file (its first line must be WEBVTT)")
    cues: list[Cue] = []
    skipped = 0
    if reader.at_end:
        return VttFile((), 0)
    reader.pos += 1  # the LF after the signature
    if reader.peek() != "\n":
        _collect_block(reader, in_header=True)
    else:
        reader.pos += 1
    while not reader.at_end:
        block = _collect_block(reader, in_header=False)
        if isinstance(block, Cue):
            cues.append(block)
        elif block == "bad":
            skipped += 1
        while reader.peek() == "\n":
            reader.pos += 1
    return VttFile(tuple(cues), skipped)


def _collect_block(reader: _Reader, in_header: bool) -> Cue | str | None:
    line_count = 0
    previous = reader.pos
    buffer = ""
    seen_arrow = False
    cue: tuple[str, Fraction, Fraction, str] | None = None
    bad = False
    while True:
        line = reader.line()
        line_count += 1
        seen_eof = reader.at_end
        if not seen_eof:
            reader.pos += 1
        if "-->" in line:
            if not in_header and (line_count == 1 or (line_count == 2 and not seen_arrow)):
                seen_arrow = True
                previous = reader.pos
                timings = _cue_timings(line)
                if timings is None:
                    cue, bad = None, True
                else:
                    cue = (buffer, *timings)
                    buffer = ""
            else:
                reader.pos = previous
                break
        elif line == "":
            break
        else:
            if buffer:
                buffer += "\n"
            buffer += line
            previous = reader.pos
        if seen_eof:
            break
    if cue is not None:
        return Cue(cue[0], cue[1], cue[2], buffer, cue[3])
    return "bad" if bad else None


def _cue_timings(line: str) -> tuple[Fraction, Fraction, str] | None:
    reader = _Reader(line)
    _skip_whitespace(reader)
    start = _timestamp(reader)
    if start is None:
        return None
    _skip_whitespace(reader)
    if line[reader.pos : reader.pos + 3] != "-->":
        return None
    reader.pos += 3
    _skip_whitespace(reader)
    end = _timestamp(reader)
    if end is None:
        return None
    return start, end, line[reader.pos :]


def _skip_whitespace(reader: _Reader) -> None:
    while not reader.at_end and reader.peek() in _WHITESPACE:
        reader.pos += 1


def _digits(reader: _Reader) -> str:
    start = reader.pos
    while not reader.at_end and reader.peek() in "0123456789":
        reader.pos += 1
    return reader.text[start : reader.pos]


def _timestamp(reader: _Reader) -> Fraction | None:
    """The spec's 'collect a WebVTT timestamp': [hh+:]mm:ss.ttt, exactly."""
    if reader.peek() not in "0123456789" or reader.at_end:
        return None
    first = _digits(reader)
    hours_first = len(first) != 2 or int(first) > 59
    if reader.peek() != ":":
        return None
    reader.pos += 1
    second = _digits(reader)
    if len(second) != 2:
        return None
    if hours_first or reader.peek() == ":":
        if reader.peek() != ":":
            return None
        reader.pos += 1
        third = _digits(reader)
        if len(third) != 2:
            return None
        hours, minutes, seconds = int(first), int(second), int(third)
    else:
        hours, minutes, seconds = 0, int(first), int(second)
    if reader.peek() != ".":
        return None
    reader.pos += 1
    millis = _digits(reader)
    if len(millis) != 3 or minutes > 59 or seconds > 59:
        return None
    return Fraction(hours * 3600 + minutes * 60 + seconds) + Fraction(int(millis), 1000)


# --- cue text to a plain caption ------------------------------------------------------------

_TOKEN = re.compile(r"<([^>]*)(?:>|$)|([^<]+)")


@dataclass(frozen=True)
class PlainCue:
    caption: str
    speakers: tuple[str, ...]


def plain_text(cue_text: str) -> PlainCue:
    """Cue text without markup: tags dropped, references decoded, <rt> ruby text left out;
    the names of <v> voices come back as speakers."""
    parts: list[str] = []
    speakers: list[str] = []
    in_ruby_text = 0
    raw_lines = cue_text.split("\n")  # a raw NBSP line: how older exports wrote a blank line
    cue_text = "\n".join("" if line == "\u00a0" else line for line in raw_lines)
    for match in _TOKEN.finditer(cue_text):
        tag, text = match.group(1), match.group(2)
        if text is not None:
            if not in_ruby_text:
                parts.append(html.unescape(text))
            continue
        name, _, annotation = tag.replace("\t", " ").replace("\n", " ").partition(" ")
        base = name.split(".")[0]
        if base == "v" and annotation.strip() and annotation.strip() not in speakers:
            speakers.append(html.unescape(annotation.strip()))
        elif base == "rt":
            in_ruby_text += 1
        elif base in ("/rt", "/ruby") and in_ruby_text:
            in_ruby_text -= 1 if base == "/rt" else in_ruby_text
    return PlainCue("".join(parts), tuple(speakers))


# --- writing --------------------------------------------------------------------------------

_EMPTY_LINE = "<c></c>"  # a non-empty line whose text is empty: a blank line inside a cue


def escape_caption(caption: str) -> str:
    """Cue text any spec parser reads back as ``caption``: &, <, > escaped (so no "-->"),
    and each blank line written as an empty class span, since a blank line ends a cue."""
    escaped = caption.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = escaped.replace("\u00a0", "&nbsp;")  # a NBSP line would read as an old blank
    escaped = escaped.replace("\r\n", "\n").replace("\r", "\n")
    if escaped == "":
        return ""
    return "\n".join(line if line else _EMPTY_LINE for line in escaped.split("\n"))


def safe_cue_id(identifier: str) -> str:
    """A cue id the parser keeps as one line without an arrow."""
    return identifier.replace("\n", " ").replace("\r", " ").replace("-->", "- ->")
