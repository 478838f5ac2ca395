"""Import BORIS's tabular events export (CSV or TSV; one row per event: START, STOP, POINT)."""

from __future__ import annotations

import csv
import io
from fractions import Fraction

from ..codebook import Codebook
from ..errors import InterchangeError
from ..model import Moment, new_id, now_iso
from ..timebase import parse_time, snap

_STATUS_COLUMNS = ("Status", "Behavior type", "Behaviour type")


def _header_index(rows: list[list[str]]) -> int:
    """Older BORIS exports put observation details above the table: find the header row."""
    for index, row in enumerate(rows):
        cells = {cell.strip() for cell in row}
        if "Time" in cells and ("Behavior" in cells or "Behaviour" in cells):
            return index
    raise InterchangeError("not a BORIS tabular events export (no header with Time and Behavior)")


def _delimiter(text: str) -> str:
    first = text.splitlines()[0] if text else ""
    return "\t" if first.count("\t") > first.count(",") else ","


def from_boris_text(text: str, fps: Fraction, codebook: Codebook, coder: str) -> list[Moment]:
    rows = list(csv.reader(io.StringIO(text), delimiter=_delimiter(text)))
    start = _header_index(rows)
    header = [h.strip() for h in rows[start]]
    status_column = next((c for c in _STATUS_COLUMNS if c in header), None)
    if status_column is None:
        raise InterchangeError("the BORIS export has no Status column (START/STOP/POINT)")
    behaviour_column = "Behavior" if "Behavior" in header else "Behaviour"
    open_events: dict[tuple[str, str], tuple[Fraction, str]] = {}
    moments: list[Moment] = []
    unknown: set[str] = set()
    for line, row in enumerate(rows[start + 1 :], start=start + 2):
        if not any(cell.strip() for cell in row):
            continue
        record = dict(zip(header, (cell.strip() for cell in row), strict=False))
        behaviour = record.get(behaviour_column, "")
        code = codebook.find(behaviour)
        if code is None:
            unknown.add(behaviour)
            continue
        try:
            time = snap(parse_time(record["Time"]), fps)
        except (KeyError, InterchangeError, ValueError):
            raise InterchangeError(
                f"line {line}: the time {record.get('Time')!r} is not seconds"
            ) from None
        status = record.get(status_column, "").upper()
        key = (record.get("Subject", ""), code.id)
        note = record.get("Comment", "")
        if status == "POINT":
            moments.append(_moment(time, None, code.id, note, coder))
        elif status == "START":
            if key in open_events:
                raise InterchangeError(f"line {line}: {behaviour} starts again before it stopped")
            open_events[key] = (time, note)
        elif status == "STOP":
            if key not in open_events:
                raise InterchangeError(f"line {line}: {behaviour} stops without having started")
            begun, first_note = open_events.pop(key)
            moments.append(_moment(begun, time, code.id, first_note or note, coder))
        else:
            raise InterchangeError(f"line {line}: status {status!r} is not START, STOP or POINT")
    if unknown:
        raise InterchangeError(
            "behaviours not in the codebook: "
            + ", ".join(sorted(unknown))
            + f"; add them to {codebook.name!r} or rename them in BORIS"
        )
    if open_events:
        (subject, code_id), (begun, _) = next(iter(open_events.items()))
        raise InterchangeError(f"{code_id} starting at {float(begun):.3f} s never stops")
    return sorted(moments, key=lambda m: m.start)


def _moment(start: Fraction, end: Fraction | None, code: str, note: str, coder: str) -> Moment:
    now = now_iso()
    if end is not None and end <= start:
        end = None  # a zero-length state event is a point
    return Moment(new_id("mo"), start, end, (code,), "", note, coder, now, now)
