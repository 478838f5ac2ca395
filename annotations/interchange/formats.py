"""Moments to and from JSON, CSV and WebVTT (ELAN and BORIS have modules of their own)."""

from __future__ import annotations

import csv
import io
import json
import re
from fractions import Fraction
from typing import Any

from ..errors import InterchangeError
from ..model import Annotations, Moment, new_id, now_iso
from ..timebase import format_clock, from_frame, parse_time, snap, to_frame

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
    reader = csv.DictReader(io.StringIO(text))
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
        except (ValueError, ZeroDivisionError) as exc:
            raise InterchangeError(f"CSV line {line}: {exc}") from None
    return moments


# --- WebVTT --------------------------------------------------------------------------------

POINT_CUE = Fraction(2)  # how long a point moment's caption stays up as a subtitle
_POINT_MARK = " (point)"
_CUE_TIMES = re.compile(r"^(\S+)\s+-->\s+(\S+)")


def _vtt_time(time: Fraction) -> str:
    clock = format_clock(time)
    return clock if clock.count(":") == 2 else f"00:{clock}"


def _escape(text: str) -> str:
    lines = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").splitlines()
    return "\n".join(line if line.strip() else "\u00a0" for line in lines) or "\u00a0"


def _unescape(text: str) -> str:
    text = text.replace("\u00a0", "")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def to_vtt_text(annotations: Annotations) -> str:
    """Moment captions as subtitles, in time order; point moments show for two seconds."""
    cues = ["WEBVTT", ""]
    for m in annotations.in_time_order():
        end = m.end
        if end is None:
            end = m.start + POINT_CUE
            if annotations.duration is not None:
                end = max(min(end, annotations.duration), m.start + Fraction(1, 1000))
        identifier = m.id + (_POINT_MARK if m.end is None else "")
        cues += [identifier, f"{_vtt_time(m.start)} --> {_vtt_time(end)}", _escape(m.caption), ""]
    return "\n".join(cues)


def from_vtt_text(text: str, into: Annotations) -> list[Moment]:
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip())
    if not blocks or not blocks[0].startswith("WEBVTT"):
        raise InterchangeError("not a WebVTT file (it must start with WEBVTT)")
    moments = []
    for block in blocks[1:]:
        lines = block.split("\n")
        if lines[0].startswith(("NOTE", "STYLE", "REGION")):
            continue
        identifier = "" if _CUE_TIMES.match(lines[0]) else lines.pop(0)
        match = _CUE_TIMES.match(lines[0]) if lines else None
        if not match:
            raise InterchangeError(f"a WebVTT cue has no times: {block[:40]!r}")
        start = snap(parse_time(match.group(1)), into.fps)
        end: Fraction | None = snap(parse_time(match.group(2)), into.fps)
        point = identifier.endswith(_POINT_MARK)
        moment_id = identifier.removesuffix(_POINT_MARK) if identifier else new_id("mo")
        now = now_iso()
        moments.append(
            Moment(
                moment_id,
                start,
                None if point else end,
                (),
                _unescape("\n".join(lines[1:])),
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
