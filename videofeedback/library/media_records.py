"""Finding the case that holds a media file or a session (the records: ``case.media``)."""

from __future__ import annotations

import sqlite3

from .cases import Case, find_case
from .library import UserSession


def find_media(session: UserSession, media_id: str) -> Case:
    """Open the case that holds ``media_id`` (among the cases this user can open)."""
    return find_case(session, lambda db: _has(db, "media", media_id), f"media {media_id}")


def find_session(session: UserSession, session_id: str) -> Case:
    """Open the case that holds ``session_id``."""
    return find_case(session, lambda db: _has(db, "sessions", session_id), f"session {session_id}")


def _has(db: sqlite3.Connection, table: str, row_id: str) -> bool:
    query = {
        "media": "SELECT 1 FROM media WHERE id = ?",
        "sessions": "SELECT 1 FROM sessions WHERE id = ?",
    }[table]
    return db.execute(query, (row_id,)).fetchone() is not None
