"""A case's SQLite database: held in memory, stored as one age file, saved atomically."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from encryption import Identity, Recipient, read_encrypted, write_encrypted

SCHEMA_VERSION = 2  # 2: sessions have a title and (a shared review) the reel it showed

SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE members(user TEXT PRIMARY KEY, role TEXT NOT NULL, added_by TEXT, added_at TEXT);
CREATE TABLE participants(
    id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, age_band TEXT,
    language TEXT, created_by TEXT, created_at TEXT);
CREATE TABLE consent(
    seq INTEGER PRIMARY KEY AUTOINCREMENT, participant_id TEXT NOT NULL REFERENCES participants,
    purpose TEXT NOT NULL, status TEXT NOT NULL CHECK(status IN ('given', 'withdrawn')),
    recorded_by TEXT NOT NULL, recorded_at TEXT NOT NULL);
CREATE TABLE sessions(
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, date TEXT NOT NULL, notes TEXT NOT NULL DEFAULT '',
    created_by TEXT, created_at TEXT, title TEXT NOT NULL DEFAULT '',
    reel TEXT NOT NULL DEFAULT '');
CREATE TABLE media(
    id TEXT PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions, kind TEXT NOT NULL,
    file TEXT NOT NULL, info TEXT NOT NULL DEFAULT '{}', created_by TEXT, created_at TEXT);
CREATE TABLE parent_words(
    id TEXT PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions, item TEXT NOT NULL,
    text TEXT NOT NULL, recorded_by TEXT, recorded_at TEXT);
CREATE TABLE goals(id TEXT PRIMARY KEY, text TEXT NOT NULL, created_by TEXT, created_at TEXT);
CREATE TABLE goal_scores(
    goal_id TEXT NOT NULL REFERENCES goals, date TEXT NOT NULL,
    score INTEGER NOT NULL CHECK(score BETWEEN -2 AND 2), recorded_by TEXT, recorded_at TEXT,
    PRIMARY KEY(goal_id, date));
CREATE TABLE annotations(media_id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE comments(
    id TEXT PRIMARY KEY, target TEXT NOT NULL, text TEXT NOT NULL, author TEXT NOT NULL,
    created_at TEXT NOT NULL);
CREATE TABLE signoffs(
    id TEXT PRIMARY KEY, recording_session TEXT NOT NULL REFERENCES sessions,
    review_session TEXT NOT NULL REFERENCES sessions, signed_by TEXT NOT NULL,
    signed_at TEXT NOT NULL, signature TEXT NOT NULL);
"""


def new_database() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:", check_same_thread=False)  # the app works in jobs
    db.executescript(SCHEMA)
    db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
    db.execute("PRAGMA foreign_keys = ON")
    return db


def load_database(path: Path, identities: list[Identity]) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:", check_same_thread=False)  # the app works in jobs
    db.deserialize(read_encrypted(path, identities))
    db.execute("PRAGMA foreign_keys = ON")
    upgrade_schema(db)
    return db


_REVIEW_NOTE = re.compile(r"^Shared review of (m-[0-9a-z]+)$")


def upgrade_schema(db: sqlite3.Connection) -> None:
    """A database saved by an older version, brought up to ``SCHEMA_VERSION`` in memory (it
    is written so at the case's next save). 1 → 2: sessions get a ``title`` (an old session
    keeps '' and is shown by its notes or its date) and ``reel`` (the reel a shared review
    showed, read back from the notes older versions wrote: "Shared review of m-…")."""
    if int(get_meta(db, "schema_version", "1")) >= 2:
        return
    columns = {row[1] for row in db.execute("PRAGMA table_info(sessions)")}
    for name in ("title", "reel"):
        if name not in columns:
            db.execute(f"ALTER TABLE sessions ADD COLUMN {name} TEXT NOT NULL DEFAULT ''")
    reviews = db.execute("SELECT id, notes FROM sessions WHERE kind = 'review'").fetchall()
    for session_id, notes in reviews:
        found = _REVIEW_NOTE.match(notes or "")
        if found:
            db.execute("UPDATE sessions SET reel = ? WHERE id = ?", (found[1], session_id))
    set_meta(db, "schema_version", "2")
    db.commit()  # a failed first operation's rollback must not undo the upgrade


def save_database(db: sqlite3.Connection, path: Path, recipients: list[Recipient]) -> None:
    db.commit()
    write_encrypted(path, db.serialize(), recipients)


def get_meta(db: sqlite3.Connection, key: str, default: str = "") -> str:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row else default


def set_meta(db: sqlite3.Connection, key: str, value: str) -> None:
    db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
