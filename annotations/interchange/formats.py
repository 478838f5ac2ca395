"""Moments to and from JSON, CSV and WebVTT (ELAN and BORIS have modules of their own)."""

from __future__ import annotations

import csv
import io
import json
from fractions import Fraction
from typing import Any

from ..errors import AnnotationError, InterchangeError
from ..model import Annotations, Moment, new_id, now_iso
from ..timebase import format_clock, from_frame, parse_time, snap, to_frame
from .imported import Entry, ImportedFile, Label
from .vtt import escape_caption, parse_vtt, plain_text, safe_cue_id

# --- JSON ----------------------------------------------------------------------------------


def to_json_text(annotations: Annotations) -> str:
    return json.dumps(annotations.to_dict(), indent=2, ensure_ascii=False) + "\n"


def from_json_text(text: str, into: Annotations) -> list[Moment]:
    try:
        data = json.loads(text)
        return [Moment.from_dict(m) for m in data["moments"]]
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise InterchangeError(f"not a videofeedback annotation file ({exc})") from None


# --- CSV -----------------------------------------------------------------------------------

CSV_COLUMNS = [
    "id",
    "start",
    "end",
    "start_frame",
    "end_frame",
    "codes",
    "categories",
    "caption",
    "note",
    "coder",
    "created",
    "changed",
]


def _seconds(time: Fraction | None) -> str:
    return "" if time is None else f"{float(time):.3f}"


def to_csv_text(annotations: Annotations) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for m in annotations.moments:
        categories = ""
        if annotations.codebook is not None:
            categories = ";".join(
                dict.fromkeys(annotations.codebook.category_of(c).id for c in m.codes)
            )
        writer.writerow(
            {
                "id": m.id,
                "start": _seconds(m.start),
                "end": _seconds(m.end),
                "start_frame": to_frame(m.start, annotations.fps),
                "end_frame": "" if m.end is None else to_frame(m.end, annotations.fps),
                "codes": ";".join(m.codes),
                "categories": categories,
                "caption": m.caption,
                "note": m.note,
                "coder": m.coder,
                "created": m.created,
                "changed": m.changed,
            }
        )
    return out.getvalue()


def _csv_time(row: dict[str, str], name: str, fps: Fraction) -> Fraction | None:
    frame = (row.get(f"{name}_frame") or "").strip()
    if frame:
        return from_frame(int(frame), fps)
    seconds = (row.get(name) or "").strip()
    return snap(parse_time(seconds), fps) if seconds else None


def from_csv_text(text: str, into: Annotations) -> list[Moment]:
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","  # Excel's Unicode text
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    if not reader.fieldnames or "start" not in reader.fieldnames:
        raise InterchangeError("the CSV file needs a header row with at least 'start'")
    moments = []
    for line, row in enumerate(reader, start=2):
        try:
            start = _csv_time(row, "start", into.fps)
            if start is None:
                raise ValueError("no start time")
            codes = tuple(c for c in (row.get("codes") or "").split(";") if c)
            moments.append(
                Moment(
                    row.get("id") or new_id("mo"),
                    start,
                    _csv_time(row, "end", into.fps),
                    codes,
                    row.get("caption") or "",
                    row.get("note") or "",
                    row.get("coder") or "",
                    row.get("created") or now_iso(),
                    row.get("changed") or now_iso(),
                )
            )
        except (ValueError, ZeroDivisionError, AnnotationError) as exc:
            raise InterchangeError(f"CSV line {line}: {exc}") from None
    return moments


# --- WebVTT --------------------------------------------------------------------------------

POINT_CUE = Fraction(2)  # how long a point moment's caption stays up as a subtitle
_POINT_MARK = " (point)"


def _vtt_time(time: Fraction) -> str:
    clock = format_clock(time)
    return clock if clock.count(":") == 2 else f"00:{clock}"


def to_vtt_text(annotations: Annotations) -> str:
    """Moment captions as subtitles, in time order; point moments show for two seconds.
    Any WebVTT parser reads the captions back unchanged (see ``vtt.escape_caption``)."""
    cues = ["WEBVTT", ""]
    for m in annotations.in_time_order():
        end = m.end
        if end is None:
            end = m.start + POINT_CUE
            if annotations.duration is not None:
                end = max(min(end, annotations.duration), m.start + Fraction(1, 1000))
        identifier = safe_cue_id(m.id + (_POINT_MARK if m.end is None else ""))
        cues += [identifier, f"{_vtt_time(m.start)} --> {_vtt_time(end)}"]
        text = escape_caption(m.caption)
        cues += [text, ""] if text else [""]
    return "\n".join(cues)


def vtt_entries(text: str) -> ImportedFile:
    """A WebVTT file's cues as entries: plain captions, voices as speakers."""
    parsed = parse_vtt(text)
    result = ImportedFile("vtt", skipped_blocks=parsed.skipped)
    if parsed.skipped:
        result.losses.append(f"{parsed.skipped} cue blocks with bad timings skipped")
    backwards = 0
    for cue in parsed.cues:
        plain = plain_text(cue.text)
        point = cue.id.endswith(_POINT_MARK)
        end: Fraction | None = None if point or cue.end <= cue.start else cue.end
        backwards += cue.end < cue.start
        result.entries.append(
            Entry(
                cue.start,
                end,
                tuple(Label("Speaker", s, primary=False) for s in plain.speakers),
                caption=plain.caption,
                source_id=cue.id.removesuffix(_POINT_MARK).strip(),
                where=f"cue {cue.id}" if cue.id else "",
            )
        )
    if backwards:
        result.losses.append(f"{backwards} cues end before they start: read as points")
    return result


def from_vtt_text(text: str, into: Annotations) -> list[Moment]:
    moments = []
    for entry in vtt_entries(text).entries:
        now = now_iso()
        moments.append(
            Moment(
                entry.source_id if entry.source_id.startswith("mo-") else new_id("mo"),
                snap(entry.start, into.fps),
                None if entry.end is None else snap(entry.end, into.fps),
                (),
                entry.caption,
                "",
                "",
                now,
                now,
            )
        )
    return moments


def moment_fields(moment: Moment) -> dict[str, Any]:
    """What an export keeps, for comparing round trips."""
    return {
        "id": moment.id,
        "start": moment.start,
        "end": moment.end,
        "codes": moment.codes,
        "caption": moment.caption,
    }
