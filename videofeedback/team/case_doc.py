"""A case database as the records and fields the merge works on, and back (no I/O).

Rows are records keyed by their primary key; consent events by the hash of their fields
(they are never edited); a recording's annotations are split into a header, its moments
and its stills, so two people's moments on one recording both stay. Laptop-local meta
(the audit head the database was saved at, the sync base) is never a record.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from typing import Any

from annotations.timebase import from_json

from .merge import Doc, RecordKey, canonical

ROW_TABLES: dict[str, tuple[str, ...]] = {
    "members": ("user",),
    "participants": ("id",),
    "sessions": ("id",),
    "media": ("id",),
    "parent_words": ("id",),
    "goals": ("id",),
    "goal_scores": ("goal_id", "date"),
    "comments": ("id",),
    "signoffs": ("id",),
}
LOCAL_META = frozenset({"audit_size", "audit_head", "schema_version", "sync_base"})
PARTS = {"moment": "moments", "still": "stills"}


def _columns(db: sqlite3.Connection, table: str) -> list[str]:
    return [str(row[1]) for row in db.execute(f"PRAGMA table_info({table})")]


def _rows(db: sqlite3.Connection, table: str) -> list[dict[str, Any]]:
    cursor = db.execute(f"SELECT * FROM {table}")  # noqa: S608 (names from ROW_TABLES)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def consent_key(row: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(row).encode()).hexdigest()[:32]


def extract(db: sqlite3.Connection) -> Doc:
    doc: Doc = {}
    for table, keys in ROW_TABLES.items():
        for row in _rows(db, table):
            doc[(table, "\x1f".join(str(row[k]) for k in keys))] = row
    for row in _rows(db, "consent"):
        row.pop("seq", None)
        doc[("consent", consent_key(row))] = row
    for key, value in db.execute("SELECT key, value FROM meta"):
        if key not in LOCAL_META:
            doc[("meta", str(key))] = {"value": value}
    for media_id, data in db.execute("SELECT media_id, data FROM annotations"):
        _split_annotations(doc, str(media_id), json.loads(data))
    return doc


def _split_annotations(doc: Doc, media_id: str, data: dict[str, Any]) -> None:
    header = {k: v for k, v in data.items() if k not in PARTS.values()}
    doc[("annotation", media_id)] = header
    for kind, name in PARTS.items():
        for item in data.get(name, []):
            doc[(kind, f"{media_id}/{item['id']}")] = {**item, "_media": media_id}


def _of(doc: Doc, kind: str) -> list[tuple[str, dict[str, Any]]]:
    return sorted((key, fields) for (k, key), fields in doc.items() if k == kind)


def apply(db: sqlite3.Connection, doc: Doc) -> None:
    """Make the database hold exactly ``doc`` (laptop-local meta kept)."""
    db.commit()
    db.execute("PRAGMA foreign_keys = OFF")  # a record may arrive before the one it names
    try:
        for table in ROW_TABLES:
            _fill(db, table, [fields for _, fields in _of(doc, table)])
        consent = sorted(_of(doc, "consent"), key=lambda kf: (str(kf[1].get("recorded_at")), kf[0]))
        _fill(db, "consent", [fields for _, fields in consent])
        local = ",".join("?" * len(LOCAL_META))
        db.execute(f"DELETE FROM meta WHERE key NOT IN ({local})", sorted(LOCAL_META))  # noqa: S608
        for key, fields in _of(doc, "meta"):
            if key not in LOCAL_META:
                db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, fields.get("value")))
        db.execute("DELETE FROM annotations")
        for media_id, data in _join_annotations(doc).items():
            db.execute("INSERT INTO annotations VALUES (?, ?)", (media_id, json.dumps(data)))
        db.commit()
    finally:
        db.execute("PRAGMA foreign_keys = ON")


def _fill(db: sqlite3.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    db.execute(f"DELETE FROM {table}")  # noqa: S608 (names from ROW_TABLES)
    columns = [c for c in _columns(db, table) if not (table == "consent" and c == "seq")]
    marks = ", ".join("?" * len(columns))
    insert = f"INSERT OR REPLACE INTO {table}({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
    for row in rows:
        db.execute(insert, [row.get(c) for c in columns])


def _time_key(item: tuple[str, dict[str, Any]]) -> tuple[Any, str]:
    fields = item[1]
    when = from_json(fields.get("start", fields.get("time")))
    return (when if when is not None else 0, item[0])


def _join_annotations(doc: Doc) -> dict[str, dict[str, Any]]:
    joined: dict[str, dict[str, Any]] = {
        media_id: {**header, **{name: [] for name in PARTS.values()}}
        for media_id, header in _of(doc, "annotation")
    }
    for kind, name in PARTS.items():
        for key, fields in sorted(_of(doc, kind), key=_time_key):
            media_id = key.split("/", 1)[0]
            if media_id in joined:  # a moment whose recording's annotations were removed
                item = {k: v for k, v in fields.items() if k != "_media"}
                joined[media_id][name].append(item)
    return joined


def record_label(record: RecordKey) -> str:
    return f"{record[0]} {record[1]}"
