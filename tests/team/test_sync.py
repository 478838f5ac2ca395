"""Two and three laptops syncing one case through the real SeaweedFS store."""

from __future__ import annotations

from datetime import date

import pytest

from tests.team.laptops import CANARY_TITLE, fake_recording, first_laptop
from tests.team.laptops import sync_ok as _sync
from videofeedback.library.cases import SessionKind
from videofeedback.team.conflicts import list_conflicts, resolve_conflict
from videofeedback.team.sync import open_for_sync, sync_library


def _state(laptop, case_id, user=None):
    with laptop.session(user) as (_, session):
        case = open_for_sync(session, case_id)
        summary = case.summary()
        return {k: summary[k] for k in ("label", "participants", "sessions", "goals", "comments")}


@pytest.fixture
def two(tmp_path, store):
    a, case_id = first_laptop(tmp_path, store)
    b = a.copy(tmp_path / "lib-b", tmp_path / "state-b", "sam")
    return a, b, case_id


@pytest.fixture
def colleagues(tmp_path, store):
    """Two practitioners (both may change the case's details)."""
    a, case_id = first_laptop(tmp_path, store, members=("pat", "cat"))
    b = a.copy(tmp_path / "lib-b", tmp_path / "state-b", "cat")
    return a, b, case_id


def test_two_laptops_exchange_changes_and_converge(two):
    a, b, case_id = two
    _sync(a)
    _sync(b)
    with a.session() as (_, pat):
        case = open_for_sync(pat, case_id)
        case.sessions.new(SessionKind.RECORDING, date(2026, 11, 2), "first visit")
        case.goals.add("play together daily")
        case.save()
    with b.session() as (_, sam):
        case = open_for_sync(sam, case_id)
        case.supervision.add_comment(case_id, "good start")
        case.save()
    _sync(a)
    _sync(b)
    _sync(a)
    assert _state(a, case_id) == _state(b, case_id, "sam")
    state = _state(a, case_id)
    assert [s["notes"] for s in state["sessions"]] == ["first visit"]
    assert [c["text"] for c in state["comments"]] == ["good start"]
    assert state["label"] == CANARY_TITLE
    # the merged trail verifies on both laptops, and holds both devices' entries
    for laptop in (a, b):
        with laptop.session() as (_, session):
            report = open_for_sync(session, case_id).verify_audit()
            assert report.valid, report.summary()


def test_concurrent_edits_of_one_field_are_kept_and_resolved(colleagues):
    a, b, case_id = colleagues
    _sync(a)
    _sync(b)
    with a.session() as (_, pat):
        case = open_for_sync(pat, case_id)
        case.db.execute("UPDATE meta SET value = 'Title by pat' WHERE key = 'label'")
        case.save()
    with b.session() as (_, cat):
        case = open_for_sync(cat, case_id)
        case.db.execute("UPDATE meta SET value = 'Title by cat' WHERE key = 'label'")
        case.save()
    _sync(a)
    report = _sync(b)
    _sync(a)
    conflicts = report.cases[0].conflicts
    assert len(conflicts) == 1 and conflicts[0]["record"] == ["meta", "label"]
    values = {v["value"] for v in conflicts[0]["versions"]}
    assert values == {"Title by pat", "Title by cat"}
    assert _state(a, case_id)["label"] == _state(b, case_id)["label"]
    with a.session() as (_, pat):
        case = open_for_sync(pat, case_id)
        (conflict,) = list_conflicts(case)
        chosen = next(o for o in conflict.ops if o.value == "Title by cat")
        resolve_conflict(case, "meta", "label", "value", chosen.id)
        assert not list_conflicts(case)
    _sync(a)
    _sync(b)
    assert _state(a, case_id)["label"] == _state(b, case_id)["label"] == "Title by cat"
    with b.session() as (_, cat):
        assert not list_conflicts(open_for_sync(cat, case_id))


def test_a_consent_withdrawal_on_one_laptop_stops_filming_on_the_other(two):
    """Consent is read from the signed trail: after a sync, the merged trail's."""
    from videofeedback.library.cases import Purpose
    from videofeedback.library.errors import ConsentError

    a, b, case_id = two
    _sync(a)
    _sync(b)
    with a.session() as (_, pat):
        case = open_for_sync(pat, case_id)
        participant = case.participants.all()[0].id
        case.consent.set(participant, Purpose.FILMING, False)
        case.save()
    with b.session() as (_, sam):
        open_for_sync(sam, case_id).consent.require(Purpose.FILMING)  # not yet seen here
    _sync(a)
    _sync(b)
    with b.session() as (_, sam):
        case = open_for_sync(sam, case_id)
        assert case.consent.status(participant, Purpose.FILMING).status == "withdrawn"
        with pytest.raises(ConsentError):
            case.consent.require(Purpose.FILMING)
        assert case.verify_audit().valid


def test_two_peoples_moments_on_one_recording_are_both_kept(two):
    from fractions import Fraction

    from videofeedback.library.annotating import open_annotations

    a, b, case_id = two
    with a.session() as (_, pat):
        case = open_for_sync(pat, case_id)
        media_id = fake_recording(case)
        case.save()
    _sync(a)
    _sync(b)
    assert (b.folder / "cases" / case_id / "media" / "r.age").exists()
    for laptop, start in ((a, 5), (b, 2)):
        with laptop.session() as (_, session):
            work = open_annotations(open_for_sync(session, case_id), media_id)
            work.editor.add_moment(Fraction(start), Fraction(start + 1), caption=session.name)
            work.save()
    _sync(a)
    _sync(b)
    _sync(a)
    for laptop in (a, b):
        with laptop.session() as (_, session):
            work = open_annotations(open_for_sync(session, case_id), media_id)
            assert [m.caption for m in work.annotations.moments] == ["sam", "pat"]


def test_a_push_killed_after_its_pack_of_entries_resumes_with_the_rest(two, store):
    from videofeedback.team.case_sync import CaseSync

    a, b, case_id = two
    _sync(a)
    _sync(b)
    with a.session() as (_, pat):
        case = open_for_sync(pat, case_id)
        case.goals.add("one")
        case.save()
        engine = CaseSync(case, store)
        pushed = pat.library.local.sync_heads(case_id)[engine.device]["entries"]
        engine._push_entries(engine._own_entries(), pushed)  # killed right after this
        case.goals.add("two")
        case.save()
    _sync(a)
    _sync(b)
    assert {g["text"] for g in _state(b, case_id, "sam")["goals"]} == {"one", "two"}


def test_a_sync_with_nothing_new_writes_nothing(two):
    a, b, case_id = two
    for laptop in (a, b, a, b):
        _sync(laptop)
    folder = a.folder / "cases" / case_id
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    report = _sync(a)
    (case,) = report.cases
    assert (case.pushed, case.pulled, case.changes) == (0, 0, 0)
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
    with b.session() as (_, sam):  # and a change after a quiet sync still travels
        opened = open_for_sync(sam, case_id)
        opened.supervision.add_comment(case_id, "after the quiet one")
        opened.save()
    _sync(b)
    _sync(a)
    assert "after the quiet one" in [c["text"] for c in _state(a, case_id)["comments"]]


def test_a_sync_goes_through_the_apps_open_case_so_its_next_save_keeps_the_merge(two):
    """The app holds the case open (its own object, with a queue) while the sync indicator
    syncs: the sync must merge into that object, in its queue — on an object of its own, the
    app's next save would write back a database without what was merged."""
    from videofeedback.library.cases import open_case
    from videofeedback.operations import runner_for

    a, b, case_id = two
    with b.session() as (_, sam):
        opened = open_for_sync(sam, case_id)
        opened.supervision.add_comment(case_id, "from sam")
        opened.save()
    _sync(b)
    with a.session() as (library, pat):
        app_case = open_case(pat, case_id)  # the app's object, with its runner
        runner = runner_for(app_case)
        report = sync_library(library, pat, "office")
        assert report.ok, report.to_json()
        assert "from sam" in [c.text for c in app_case.supervision.comments()]

        def add(case):
            case.goals.add("from pat")
            case.save()

        runner.job(add).result()  # the app's next change and save
        again = open_for_sync(pat, case_id)
        assert "from sam" in [c.text for c in again.supervision.comments()]
        assert "from pat" in [g.text for g in again.goals.all()]
