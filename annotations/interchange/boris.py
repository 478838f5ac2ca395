"""BORIS: project files (.boris, JSON) and the tabular and aggregated events exports.

Written against BORIS 7.x-8.x (the files in tests/data/interop come from BORIS's own test
suite; the columns follow boris/export_observation.py of boris-behav-obs 8.27.4). Events
are paired as BORIS pairs them: a state event's first occurrence starts it and the next one
for the same subject and behaviour stops it. Behaviours are primary labels (their
behavioural category is the scheme); subjects and modifiers are secondary labels, kept as
codes when mapped, else as text in the note.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..errors import AnnotationError, InterchangeError
from ..timebase import parse_time
from .imported import Entry, ImportedFile, Label

_NO_SUBJECT = ("", "No focal subject")
_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
_STATUS_COLUMNS = ("Status", "Behavior type", "Behaviour type")


@dataclass(frozen=True)
class _Event:
    time: Fraction
    subject: str
    behaviour: str
    modifiers: tuple[str, ...]
    comment: str
    status: str  # START, STOP, POINT, STATE (aggregated), or "" (project: from the ethogram)
    stop: Fraction | None = None
    comment_stop: str = ""


def _labels(category: str, event: _Event) -> tuple[Label, ...]:
    labels = [Label(category or "Behavior", event.behaviour)]
    if event.subject not in _NO_SUBJECT:
        labels.append(Label("Subject", event.subject, primary=False))
    labels += [Label("Modifier", m, primary=False) for m in event.modifiers]
    return tuple(labels)


def _modifiers(text: str) -> tuple[str, ...]:
    return tuple(m.strip() for m in text.split("|") if m.strip() and m.strip() != "None")


def _number(text: Any, what: str) -> Fraction:
    """Seconds as BORIS writes them ('12.345', or hh:mm:ss.sss); negative ones too (a time
    offset can make them so), which the import then reports as outside the recording."""
    plain = str(text).strip()
    if _DECIMAL.match(plain):
        return Fraction(plain)
    try:
        return parse_time(plain)
    except (AnnotationError, ValueError, ArithmeticError):
        raise InterchangeError(f"BORIS {what}: {text!r} is not a time in seconds") from None


class _Pairing:
    """START/STOP (or an ethogram's state events) into spans, as BORIS pairs them."""

    def __init__(self, result: ImportedFile, categories: dict[str, str], where: str) -> None:
        self.result, self.categories, self.where = result, categories, where
        self.open: dict[tuple[str, str], _Event] = {}
        self.unpaired = 0

    def add(self, event: _Event, state: bool) -> None:
        key = (event.subject, event.behaviour)
        category = self.categories.get(event.behaviour, "")
        if event.status == "STOP" and key not in self.open:
            self.unpaired += 1
        elif not state:
            self.entry(event, None, category)
        elif key in self.open:
            begun = self.open.pop(key)
            self.entry(begun, event.time, category, event.comment)
        else:
            self.open[key] = event

    def entry(
        self, event: _Event, stop: Fraction | None, category: str, comment2: str = ""
    ) -> None:
        comments = [c for c in (event.comment, comment2) if c]
        self.result.entries.append(
            Entry(
                event.time,
                stop if stop is not None and stop > event.time else None,
                _labels(category, event),
                note="\n".join(comments),
                where=self.where,
            )
        )

    def finish(self) -> None:
        if self.unpaired:
            self.result.losses.append(
                f"{self.where}: {self.unpaired} STOP events without a START; left out"
            )
        for (subject, behaviour), event in self.open.items():
            self.result.losses.append(
                f"{self.where}: {behaviour}"
                + (f" ({subject})" if subject else "")
                + f" starts at {float(event.time):.3f} s and never stops; left out"
            )


# --- .boris project files ---------------------------------------------------------------------


def parse_boris_project(text: str, observation: str | None = None) -> ImportedFile:
    try:
        project = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InterchangeError(f"not a BORIS project ({exc})") from None
    if not isinstance(project, dict) or "observations" not in project:
        raise InterchangeError("not a BORIS project (no observations)")
    observations: dict[str, Any] = project.get("observations") or {}
    chosen = _choose(observation, list(observations))
    result = ImportedFile("boris")
    ethogram = _values(project.get("behaviors_conf"))
    states = {b.get("code", ""): "state" in str(b.get("type", "")).lower() for b in ethogram}
    categories = {b.get("code", ""): str(b.get("category", "") or "") for b in ethogram}
    for behaviour in ethogram:
        result.add_scheme(
            categories[behaviour.get("code", "")] or "Behavior", behaviour.get("code", "")
        )
        for modifier_set in _values(behaviour.get("modifiers")):
            for value in modifier_set.get("values", []) or []:
                result.add_scheme("Modifier", str(value).split("(")[0].strip())
    for subject in _values(project.get("subjects_conf")):
        result.add_scheme("Subject", str(subject.get("name", "")))
    obs = observations[chosen]
    offset = _number(obs.get("time offset", 0) or 0, "time offset")
    pairing = _Pairing(result, categories, f"observation {chosen}")
    unknown: set[str] = set()
    untimed = 0
    for row in obs.get("events", []):
        if not isinstance(row, list) or len(row) < 3:
            continue
        try:
            _number(row[0], "event time")
        except InterchangeError:
            untimed += 1  # e.g. events of image observations, which have no media time
            continue
        behaviour_code = str(row[2])
        if behaviour_code not in states:
            unknown.add(behaviour_code)
        event = _Event(
            _number(row[0], "event time") - offset,
            str(row[1] or ""),
            behaviour_code,
            _modifiers(str(row[3] if len(row) > 3 else "")),
            str((row[4] if len(row) > 4 else "") or ""),
            "",
        )
        pairing.add(event, states.get(behaviour_code, False))
    pairing.finish()
    if untimed:
        result.losses.append(f"observation {chosen}: {untimed} events without a time, left out")
    _observation_details(result, chosen, obs, offset)
    if unknown:
        result.losses.append(
            f"observation {chosen}: behaviours not in the ethogram ({', '.join(sorted(unknown))}) "
            "read as point events"
        )
    result.entries.sort(key=lambda e: e.start)
    return result


def _values(table: Any) -> list[dict[str, Any]]:
    if isinstance(table, dict):
        items = sorted(table.items(), key=lambda kv: int(kv[0]) if str(kv[0]).isdigit() else 0)
        return [v for _, v in items if isinstance(v, dict)]
    if isinstance(table, list):
        return [v for v in table if isinstance(v, dict)]
    return []


def _choose(observation: str | None, names: list[str]) -> str:
    if observation is not None:
        if observation not in names:
            raise InterchangeError(
                f"no observation {observation!r} in the file; it has: {', '.join(names)}"
            )
        return observation
    if len(names) == 1:
        return names[0]
    if not names:
        raise InterchangeError("the BORIS file has no observations")
    raise InterchangeError(
        f"the BORIS file has {len(names)} observations ({', '.join(names)}); "
        "choose one with --observation NAME"
    )


def _observation_details(
    result: ImportedFile, name: str, obs: dict[str, Any], offset: Fraction
) -> None:
    result.details["observation"] = name
    variables = {k: str(v) for k, v in (obs.get("independent_variables") or {}).items() if v}
    for key, value in variables.items():
        result.details[f"variable {key}"] = value
    if variables:
        result.losses.append(
            f"observation {name}: independent variables ("
            + ", ".join(f"{k}={v}" for k, v in variables.items())
            + ") are not stored on moments"
        )
    files = obs.get("file") or {}
    player_one = files.get("1", []) if isinstance(files, dict) else []
    if len(player_one) > 1:
        result.losses.append(
            f"observation {name}: player 1 plays {len(player_one)} media files in a row; "
            "times run across them (use --offset to line them up with this recording)"
        )
    offsets = (obs.get("media_info") or {}).get("offset") or {}
    for player, seconds in offsets.items():
        if str(player) != "1" and float(seconds or 0) != 0:
            result.details[f"player {player} offset"] = str(seconds)
    if offset:
        result.details["time offset"] = str(float(offset))


# --- tabular and aggregated exports -----------------------------------------------------------


def _delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:30])
    return "\t" if sample.count("\t") >= sample.count(",") else ","


def _header_index(rows: list[list[str]]) -> int:
    """Older BORIS exports put observation details above the table: find the header row."""
    for index, row in enumerate(rows):
        cells = {cell.strip() for cell in row}
        if ("Behavior" in cells or "Behaviour" in cells) and (
            "Time" in cells or "Start (s)" in cells
        ):
            return index
    raise InterchangeError(
        "not a BORIS events export (no header with Behavior and Time or Start (s))"
    )


def is_boris_export(text: str) -> bool:
    head = text[:6000]
    return "Behavior" in head and ("Start (s)" in head or "Time" in head) and "Subject" in head


def parse_boris_export(text: str, observation: str | None = None) -> ImportedFile:
    rows = list(csv.reader(io.StringIO(text), delimiter=_delimiter(text)))
    start = _header_index(rows)
    header = [h.strip() for h in rows[start]]
    records = [
        dict(zip(header, (cell.strip() for cell in row), strict=False))
        for row in rows[start + 1 :]
        if any(cell.strip() for cell in row)
    ]
    names = list(
        dict.fromkeys(r.get("Observation id", "") for r in records if r.get("Observation id"))
    )
    if len(names) > 1 or observation is not None:
        chosen = _choose(observation, names)
        records = [r for r in records if r.get("Observation id") == chosen]
    if not names:  # older exports: the id is above the table
        names = [
            next((r[1] for r in rows[:start] if r and r[0] == "Observation id" and len(r) > 1), "")
        ]
    aggregated = "Start (s)" in header
    result = ImportedFile("boris-aggregated" if aggregated else "boris-tabular")
    where = f"observation {names[0]}" if names and names[0] else "BORIS export"
    pairing = _Pairing(result, {}, where)
    modifier_columns = [h for h in header if h.startswith("Modifier")]
    status_column = next((c for c in _STATUS_COLUMNS if c in header), None)
    if status_column is None:
        raise InterchangeError("the BORIS export has no Status or Behavior type column")
    bad: list[str] = []
    for line, record in enumerate(records, start=start + 2):
        try:
            _export_row(record, line, aggregated, status_column, modifier_columns, pairing)
        except InterchangeError as exc:
            bad.append(str(exc))
    if bad:
        result.losses.append(f"{len(bad)} rows left out ({bad[0]}{', …' if len(bad) > 1 else ''})")
    pairing.finish()
    result.entries.sort(key=lambda e: e.start)
    return result


def _export_row(
    record: dict[str, str],
    line: int,
    aggregated: bool,
    status_column: str,
    modifier_columns: list[str],
    pairing: _Pairing,
) -> None:
    behaviour = record.get("Behavior", record.get("Behaviour", ""))
    category = record.get("Behavioral category", "")
    pairing.categories[behaviour] = category
    pairing.result.add_scheme(category or "Behavior", behaviour)
    modifiers = tuple(m for column in modifier_columns for m in _modifiers(record.get(column, "")))
    status = record.get(status_column, "").upper()
    time_column = "Start (s)" if aggregated else "Time"
    event = _Event(
        _number(record.get(time_column, ""), f"line {line}"),
        record.get("Subject", ""),
        behaviour,
        modifiers,
        record.get("Comment start", record.get("Comment", "")),
        status,
    )
    if aggregated:
        stop_text = record.get("Stop (s)", "")
        stop = (
            None
            if status == "POINT" or stop_text in ("", "NA")
            else _number(stop_text, f"line {line}")
        )
        pairing.entry(event, stop, category, record.get("Comment stop", ""))
    elif status == "POINT":
        pairing.add(event, state=False)
    elif status in ("START", "STOP"):
        pairing.add(event, state=True)
    else:
        raise InterchangeError(f"line {line}: status {status!r} is not START, STOP or POINT")
