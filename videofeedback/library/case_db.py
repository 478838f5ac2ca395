"""A case's SQLite database: held in memory, stored as one age file, saved atomically."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from encryption import Identity, Recipient, read_encrypted, write_encrypted

SCHEMA_VERSION = 1

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
    created_by TEXT, created_at TEXT);
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
    return db


def save_database(db: sqlite3.Connection, path: Path, recipients: list[Recipient]) -> None:
    db.commit()
    write_encrypted(path, db.serialize(), recipients)


def get_meta(db: sqlite3.Connection, key: str, default: str = "") -> str:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row else default


def set_meta(db: sqlite3.Connection, key: str, value: str) -> None:
    db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
