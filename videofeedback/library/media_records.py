"""Media records in a case: which encrypted file is which recording, still or reel."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from .audit import now_iso
from .cases import Case, find_case
from .errors import NotFoundError
from .library import UserSession, new_id


def add_media(
    case: Case,
    session_id: str,
    kind: str,
    file: str,
    info: dict[str, Any],
    media_id: str | None = None,
) -> str:
    """Register an encrypted media file (relative to the case folder) on a session."""
    case.session_record(session_id)
    media_id = media_id or new_id("m")
    case.db.execute(
        "INSERT INTO media VALUES (?, ?, ?, ?, ?, ?, ?)",
        (media_id, session_id, kind, file, json.dumps(info), case.session.name, now_iso()),
    )
    case.audit(f"media.{kind}", media_id, session=session_id)
    return media_id


def media_record(case: Case, media_id: str) -> dict[str, Any]:
    row = case.db.execute(
        "SELECT id, session_id, kind, file, info FROM media WHERE id = ?", (media_id,)
    ).fetchone()
    if row is None:
        raise NotFoundError(f"there is no media {media_id} in case {case.id}")
    return {
        "id": row[0],
        "session": row[1],
        "kind": row[2],
        "file": row[3],
        "info": json.loads(row[4]),
    }


def find_media(session: UserSession, media_id: str) -> Case:
    """Open the case that holds ``media_id`` (among the cases this user can open)."""
    return find_case(session, lambda db: _has(db, "media", media_id), f"media {media_id}")


def update_media_info(case: Case, media_id: str, info: dict[str, Any]) -> None:
    record = media_record(case, media_id)
    case.db.execute(
        "UPDATE media SET info = ? WHERE id = ?", (json.dumps({**record["info"], **info}), media_id)
    )


def media_of_session(case: Case, session_id: str) -> list[dict[str, Any]]:
    rows = case.db.execute(
        "SELECT id FROM media WHERE session_id = ? ORDER BY created_at", (session_id,)
    ).fetchall()
    return [media_record(case, row[0]) for row in rows]


def find_session(session: UserSession, session_id: str) -> Case:
    """Open the case that holds ``session_id``."""
    return find_case(session, lambda db: _has(db, "sessions", session_id), f"session {session_id}")


def _has(db: sqlite3.Connection, table: str, row_id: str) -> bool:
    query = {
        "media": "SELECT 1 FROM media WHERE id = ?",
        "sessions": "SELECT 1 FROM sessions WHERE id = ?",
    }[table]
    return db.execute(query, (row_id,)).fetchone() is not None
