"""Three laptops, seeded random interleavings of edits, offline spells and syncs against the
real store: every laptop ends with the same case state, holding every edit, and the merged
trail verifies on each."""

from __future__ import annotations

import random
from datetime import date

import pytest

from tests.team.laptops import first_laptop
from videofeedback.library.cases import SessionKind
from videofeedback.team.sync import open_for_sync, sync_library


def _state(laptop, case_id):
    with laptop.session() as (_, session):
        case = open_for_sync(session, case_id)
        info = case.summary()
        report = case.verify_audit()
        assert report.valid, report.summary()
        keep = ("label", "participants", "sessions", "goals", "comments", "members")
        return {k: info[k] for k in keep}


def _edit(laptop, case_id, rng, made):
    with laptop.session() as (_, session):
        case = open_for_sync(session, case_id)
        choice = rng.random()
        if laptop.user == "sam":
            text = f"comment {len(made)}"
            case.supervision.add_comment(case_id, text)
        elif choice < 0.4 or not case.goals.all():
            text = f"goal {len(made)}"
            case.goals.add(text)
        elif choice < 0.7:
            goal = rng.choice(case.goals.all()).id
            case.goals.score(goal, rng.randint(-2, 2), date(2026, 11, rng.randint(1, 5)))
            text = ""
        else:
            text = f"visit {len(made)}"
            case.sessions.new(SessionKind.RECORDING, date(2026, 11, 9), text)
        case.save()
    if text:
        made.append(text)


@pytest.mark.parametrize("seed", [1, 2])
def test_three_laptops_random_interleavings_converge(tmp_path, store, seed):
    rng = random.Random(seed)
    a, case_id = first_laptop(tmp_path, store, members=("pat", "sam", "cat"))
    laptops = [
        a,
        a.copy(tmp_path / "lib-b", tmp_path / "state-b", "sam"),
        a.copy(tmp_path / "lib-c", tmp_path / "state-c", "cat"),
    ]
    for laptop in laptops:  # the first sync of each turns its copy into ops
        with laptop.session() as (library, session):
            assert sync_library(library, session, "office").ok
    made: list[str] = []
    online = [True, True, True]
    for _ in range(30):
        which = rng.randrange(3)
        roll = rng.random()
        if roll < 0.15:
            online[which] = not online[which]
        elif roll < 0.6 or not online[which]:
            _edit(laptops[which], case_id, rng, made)
        else:
            with laptops[which].session() as (library, session):
                report = sync_library(library, session, "office")
                assert report.ok, report.to_json()
    for laptop in laptops * 2:  # back online: each syncs, twice round
        with laptop.session() as (library, session):
            assert sync_library(library, session, "office").ok
    states = [_state(laptop, case_id) for laptop in laptops]
    assert states[0] == states[1] == states[2]
    texts = {g["text"] for g in states[0]["goals"]}
    texts |= {c["text"] for c in states[0]["comments"]}
    texts |= {s["notes"] for s in states[0]["sessions"]}
    assert set(made) <= texts
