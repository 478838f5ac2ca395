"""A case database as records and back: nothing lost, laptop-local meta kept."""

from __future__ import annotations

import json

from videofeedback.library.case_db import new_database, set_meta
from videofeedback.team import case_doc


def _annotations(media_id, moments):
    return {
        "format": "videofeedback-annotations",
        "version": 1,
        "media_id": media_id,
        "fps": "25",
        "duration": "60",
        "codebook": "vig",
        "moments": [
            {
                "id": m,
                "start": s,
                "end": None,
                "codes": [],
                "caption": "",
                "note": "",
                "coder": "pat",
                "created": "",
                "changed": "",
            }
            for m, s in moments
        ],
        "stills": [],
    }


def _db():
    db = new_database()
    set_meta(db, "label", "family")
    set_meta(db, "audit_size", "7")
    db.execute("INSERT INTO participants VALUES ('p1', 'Ann', 'parent', NULL, NULL, 'pat', 't')")
    db.execute(
        "INSERT INTO consent(participant_id, purpose, status, recorded_by, recorded_at) "
        "VALUES ('p1', 'filming', 'given', 'pat', '2026-11-01')"
    )
    db.execute(
        "INSERT INTO sessions VALUES ('s1', 'recording', '2026-11-02', '', 'pat', 't', 'Play', '')"
    )
    db.execute(
        "INSERT INTO media VALUES ('m1', 's1', 'recording', 'media/m1.age', '{}', 'pat', 't')"
    )
    data = _annotations("m1", [("mo2", "10"), ("mo1", "5")])
    db.execute("INSERT INTO annotations VALUES ('m1', ?)", (json.dumps(data),))
    db.execute("INSERT INTO goal_scores VALUES ('g1', '2026-11-03', 1, 'pat', 't')")
    return db


def test_every_row_and_moment_is_a_record_and_comes_back():
    doc = case_doc.extract(_db())
    assert ("moment", "m1/mo1") in doc and ("annotation", "m1") in doc
    assert ("goal_scores", "g1\x1f2026-11-03") in doc
    assert ("meta", "audit_size") not in doc and ("meta", "label") in doc
    other = new_database()
    set_meta(other, "audit_size", "3")
    case_doc.apply(other, doc)
    assert case_doc.extract(other) == doc
    assert other.execute("SELECT value FROM meta WHERE key='audit_size'").fetchone() == ("3",)
    moments = json.loads(other.execute("SELECT data FROM annotations").fetchone()[0])["moments"]
    assert [m["id"] for m in moments] == ["mo1", "mo2"]  # ordered by start


def test_two_peoples_moments_on_one_recording_are_separate_records():
    db = _db()
    doc = case_doc.extract(db)
    added = dict(doc)
    added[("moment", "m1/mo3")] = {**doc[("moment", "m1/mo1")], "id": "mo3", "start": "7"}
    case_doc.apply(db, added)
    moments = json.loads(db.execute("SELECT data FROM annotations").fetchone()[0])["moments"]
    assert [m["id"] for m in moments] == ["mo1", "mo3", "mo2"]
