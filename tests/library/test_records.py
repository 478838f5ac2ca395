"""Typed records: rows become frozen dataclasses with NewType ids, frame rates as Fractions,
and JSON that is what the CLI printed before (no date or Fraction leaks into it)."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from datetime import date
from fractions import Fraction

import pytest

from videofeedback.errors import VideofeedbackError
from videofeedback.library import NotFoundError, SessionKind
from videofeedback.library.records import (
    Goal,
    GoalId,
    GoalScore,
    MediaRecord,
    Session,
    as_json,
    fetch,
)


def _sessions_table(with_title: bool) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    title = ", title TEXT NOT NULL DEFAULT ''" if with_title else ""
    db.execute(f"CREATE TABLE sessions(id TEXT, kind TEXT, date TEXT, notes TEXT{title})")
    if with_title:
        db.execute("INSERT INTO sessions VALUES ('s-1', 'review', '2026-03-02', '', 'Week 3')")
    else:
        db.execute("INSERT INTO sessions VALUES ('s-1', 'review', '2026-03-02', NULL)")
    return db


@pytest.mark.parametrize("with_title", [False, True])
def test_a_session_is_read_with_or_without_the_title_column(with_title):
    [row] = fetch(_sessions_table(with_title), "SELECT * FROM sessions")
    session = Session.from_row(row)
    assert session == Session(
        "s-1", SessionKind.REVIEW, date(2026, 3, 2), "", "Week 3" if with_title else ""
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        session.notes = "changed"  # type: ignore[misc]


def test_fetch_leaves_the_connections_row_factory_alone():
    db = _sessions_table(False)
    fetch(db, "SELECT * FROM sessions")
    assert db.execute("SELECT id FROM sessions").fetchone() == ("s-1",)


def test_a_frame_rate_is_a_fraction_and_a_still_has_none(family):
    case, _mother = family
    session = case.sessions.new(SessionKind.RECORDING, date(2026, 1, 12))
    film = case.media.add(session, "import", "media/x.age", {"fps": "30000/1001", "width": 640,
                                                             "height": 360, "duration": "5"})
    still = case.media.add(session, "still", "media/y.age", {"width": 640, "height": 360})
    record = case.media.get(film)
    assert record.fps == Fraction(30000, 1001) and record.frame_rate() == record.fps
    assert (record.size, record.duration) == ((640, 360), Fraction(5))
    assert [m.id for m in case.media.of_session(session)] == [film, still]
    with pytest.raises(VideofeedbackError, match=f"media {still} is a still"):
        case.media.get(still).frame_rate()
    case.media.update_info(film, {"state": "sealed"})
    assert case.media.get(film).info["state"] == "sealed" and case.media.get(film).fps
    with pytest.raises(NotFoundError, match="no media m-nothing"):
        case.media.get("m-nothing")


def test_as_json_gives_plain_values():
    goal = Goal(GoalId("g-1"), "Play", (GoalScore(date(2026, 2, 9), 1),))
    assert as_json(goal) == {"id": "g-1", "text": "Play", "scores": [{"date": "2026-02-09",
                                                                      "score": 1}]}
    record = MediaRecord("m-1", "s-1", "reel", "media/m-1.age", {"fps": "25"}, Fraction(25))
    assert as_json(record)["fps"] == "25"


def test_the_case_summary_is_json_as_before(family, world):
    case, mother = family
    session = case.sessions.new(SessionKind.RECORDING, date(2026, 1, 12), "first visit")
    goal = case.goals.add("Notice the baby")
    case.goals.score(goal, 1, date(2026, 2, 9))
    summary = json.loads(json.dumps(case.summary()))  # nothing that JSON cannot hold
    assert summary["sessions"] == [{"id": session, "kind": "recording", "date": "2026-01-12",
                                    "notes": "first visit", "title": "", "reel": ""}]
    assert summary["participants"][0] == {"id": mother, "name": "Kasia", "role": "mother",
                                          "age_band": None, "language": "pl"}
    assert summary["consent"][0]["participant"] == mother
    assert summary["consent"][0]["filming"] == "given"
    assert summary["consent"][0]["training"] == "not asked"
    assert summary["goals"] == [{"id": goal, "text": "Notice the baby",
                                 "scores": [{"date": "2026-02-09", "score": 1}]}]
    assert {m["user"] for m in summary["members"]} == {"bob", "sue", "carol"}


def test_a_case_nobody_holds_is_let_go_at_once(world, family):
    """The case keeps no manager (each use makes one): no reference cycle keeps an open case
    (and its decrypted database) in memory until the cycle collector runs; a manager in use
    keeps its case."""
    import gc
    import weakref

    from videofeedback.library import open_case

    case, _mother = family
    gc.disable()
    try:
        assert [p.name for p in open_case(world.bob, case.id).participants.all()] == ["Kasia"]
        opened = open_case(world.bob, case.id)
        assert opened.participants.all() and opened.sessions.all() == []
        gone = weakref.ref(opened)
        del opened
        assert gone() is None
    finally:
        gc.enable()


def test_a_case_in_a_traceback_shows_no_key(family):
    """An assertion or a traceback that prints a Case (pytest does) shows no case key."""
    case, _mother = family
    text = repr(case)
    for secret in (case.identity.kek, *case.identity.parts):
        assert secret.hex() not in text and repr(secret)[2:-1] not in text
    assert case.id in text
