# ruff: noqa: F811  (the fixtures of test_discovery.py and test_trail_travels.py, by name)
"""Adversarial review, round 3 (the merge of issue 17): the roster after ``team init``, the
library trail across laptops, signed batches, plans through the store, playing from the
store. Each test asserts the SAFE behaviour; an attack that works is a strict xfail naming
how. Real SeaweedFS, real crypto, real files."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import date

import pytest

from tests.team.laptops import first_laptop, two_laptops_with_a_goal
from tests.team.laptops import sync as _sync
from tests.team.test_discovery import team  # noqa: F401 (fixture)
from tests.team.test_roster_sync import _publish_forged
from tests.team.test_trail_travels import _office, record_closure, state_restored  # noqa: F401
from videofeedback.library.cases import case_signing_key
from videofeedback.library.epoch_notes import note_path, open_epoch_note
from videofeedback.library.errors import LibraryError
from videofeedback.team.case_sync import CaseSync
from videofeedback.team.merge import Op, merge, op_id
from videofeedback.team.sync import open_for_sync


def _epoch_and_key(laptop, user, case_id):
    with laptop.session(user) as (_, session):
        keys = open_for_sync(session, case_id).identity
        return keys.epoch, str(keys.recipient), case_signing_key(keys.newest)


def _start_epoch(laptop, user, case_id):
    """A member who may change members starts a new key epoch (wrapped to every member)."""
    with laptop.session(user) as (_, session):
        case = open_for_sync(session, case_id)
        case.start_key_epoch()
        case.members.write_key(case.members.names())
        case.save()


def _rotate(laptop, user, case_id):
    _start_epoch(laptop, user, case_id)
    return _sync(laptop, user)


def _note_digest(laptop, user, case_id, epoch):
    with laptop.session(user) as (library, session):
        keys = open_for_sync(session, case_id).identity
        data = note_path(library.case_folder(case_id), epoch).read_bytes()
        return open_epoch_note(data, keys, library.verify_keys(), case_id).digest


def _forge_closure_with(office, case_id, user, case_key):
    """``user`` records a back-dated closure of the case in the office library, signed with
    her own key and ``case_key``, over a chain value the case folder holds; no announcement."""
    with office.session(user) as (library, session):
        record_closure(library, session, case_id, case_key)


def _purge(office, case_id):
    with office.session("alice") as (library, alice):
        try:
            purged = library.purge(alice, today=date(2026, 12, 1))
        except LibraryError as refused:  # a trail with problems purges nothing: safe too
            assert "no case is purged" in str(refused)
            purged = []
        return purged, (library.case_folder(case_id) / "key.age").exists()


# --- 2. the library trail across laptops, with competing rotations (§12.6, §12.8) ----------


@pytest.fixture
def office3(tmp_path, store, state_restored):  # noqa: F811
    """pat's laptop and the office (sam, cat), case members pat, sam, cat, all at epoch 1."""
    office, laptop, case_id = _office(tmp_path, store, members=("sam", "cat"))
    assert _sync(office, "cat").ok
    assert _sync(laptop).ok
    return office, laptop, case_id


def test_a_removed_members_losing_rotation_does_not_let_her_get_the_case_purged(office3):
    """cat rotates the key at the office (she may change members); concurrently pat removes
    her on his laptop. pat's rotation removes cat, so hers loses everywhere and the office
    moves to pat's epoch 2. cat, removed, keeps the epoch-2 key she made and records a
    closure signed with it: the office must not purge the case."""
    office, laptop, case_id = office3
    with laptop.session() as (_, pat):
        open_for_sync(pat, case_id).members.remove("cat")  # offline: the office has not heard
    assert _rotate(office, "cat", case_id).ok
    _, cats_recipient, cats_key = _epoch_and_key(office, "cat", case_id)
    assert _sync(laptop).ok
    report = _sync(office, "sam")
    assert report.ok, report.to_json()
    epoch, recipient, _ = _epoch_and_key(office, "sam", case_id)
    assert epoch == 2 and recipient != cats_recipient  # the office moved to pat's epoch 2
    _forge_closure_with(office, case_id, "cat", cats_key)
    purged, kept = _purge(office, case_id)
    assert case_id not in purged and kept


def _office_loses_a_rotation(office3):
    """cat rotates at the office, pat on his laptop, concurrently, neither removing anyone;
    pat's note has the smaller digest, so the office moves from its own epoch 2 to pat's."""
    office, laptop, case_id = office3
    assert _rotate(office, "cat", case_id).ok
    theirs = _note_digest(office, "cat", case_id, 2)
    saved = (laptop.folder.with_name("pat-saved"), laptop.state.with_name("pat-state-saved"))
    shutil.copytree(laptop.folder, saved[0], symlinks=True)
    shutil.copytree(laptop.state, saved[1], symlinks=True)
    while True:  # pat's rotation must win (the smaller note digest): the office switches
        _start_epoch(laptop, "pat", case_id)
        if _note_digest(laptop, "pat", case_id, 2) < theirs:
            break
        for kept, live in zip(saved, (laptop.folder, laptop.state), strict=True):
            shutil.rmtree(live)
            shutil.copytree(kept, live, symlinks=True)
    assert _sync(laptop).ok and _sync(office, "cat").ok and _sync(laptop).ok
    assert _epoch_and_key(office, "cat", case_id)[:2] == _epoch_and_key(laptop, "pat", case_id)[:2]
    return office, laptop, case_id


def test_a_laptop_that_switched_rotations_still_purges_a_genuinely_closed_case(office3):
    """Two members who may change members rotate concurrently (cat at the office, pat on his
    laptop, neither removing anyone); pat's note has the smaller digest, so the office moves
    from its own epoch 2 to pat's. pat closes the case and the closure travels: the office,
    whose trail must agree, purges it after retention."""
    office, laptop, case_id = _office_loses_a_rotation(office3)
    with laptop.session() as (library, pat):
        case = open_for_sync(pat, case_id)
        case.close_case(date(2020, 1, 2))
        case.save()
    assert _sync(laptop).ok
    assert _sync(office, "sam").ok
    with office.session("alice") as (library, alice):
        assert case_id in library.manifest.retention  # the closure travelled
        report, _ = library.verify_audit(alice)
        assert report.valid, [p.message for p in report.problems]
        assert library.purge(alice, today=date(2026, 12, 1)) == [case_id]


def test_a_laptop_that_switched_rotations_keeps_a_clean_trail_after_the_next_rotation(office3):
    office, laptop, case_id = _office_loses_a_rotation(office3)
    with laptop.session() as (_, pat):
        open_for_sync(pat, case_id).members.remove("sam")  # epoch 3, by pat
    assert _sync(laptop).ok
    assert _sync(office, "cat").ok
    assert _epoch_and_key(office, "cat", case_id)[0] == 3
    with office.session("alice") as (library, alice):
        report, _ = library.verify_audit(alice)
    assert report.valid, [p.message for p in report.problems]


# --- 3. signed batches: an op's ``prev`` naming ops outside its own field --------------------


@pytest.fixture
def three_laptops(tmp_path, store):
    """pat (a) and cat (b), practitioners, and sam (c), a supervisor: one case, all synced,
    with a goal pat wrote."""
    a, case_id = first_laptop(tmp_path, store, members=("pat", "cat", "sam"))
    with a.session() as (_, pat):
        case = open_for_sync(pat, case_id)
        case.db.execute("INSERT INTO goals(id, text) VALUES ('g1', 'first words')")
        case.save()
    b = a.copy(tmp_path / "lib-b", tmp_path / "state-b", "cat")
    c = a.copy(tmp_path / "lib-c", tmp_path / "state-c", "sam")
    for laptop in (a, b, c, a):
        assert _sync(laptop).ok
    return a, b, c, case_id


def _set_goal(laptop, case_id, text):
    with laptop.session() as (_, session):
        case = open_for_sync(session, case_id)
        case.db.execute("UPDATE goals SET text = ? WHERE id = 'g1'", (text,))
        case.save()


def _goal_conflict(report):
    return [c for case in report.cases for c in case.conflicts if c["record"] == ["goals", "g1"]]


def test_a_supervisor_cannot_settle_a_conflict_outside_her_role_through_prev(three_laptops):
    """pat and cat edit the goal concurrently: a conflict only a member who may edit the case
    settles. sam (a supervisor: comments only) writes her own comment, signed by her, whose
    op's ``prev`` names the goal version she wants gone. Her comment counts (it is hers); the
    goal's conflict must stay on every laptop, both versions listed."""
    a, b, c, case_id = three_laptops
    _set_goal(a, case_id, "pat's words")
    _set_goal(b, case_id, "cat's words")
    assert _sync(a).ok and _sync(b).ok
    report = _sync(c)
    (conflict,) = _goal_conflict(report)
    victim = conflict["versions"][0]["op"]  # the provisional winner: sam wants it gone
    with c.session() as (_, sam):
        case = open_for_sync(sam, case_id)
        engine = CaseSync(case, None)
        lamport = merge(engine.ops()).lamport + 1
        record = ("comments", "sam-1")
        fields = {
            "id": "sam-1",
            "target": "case",
            "text": "fine",
            "author": "sam",
            "created_at": "2026-11-03",
        }
        engine.write_batch(
            [
                Op(op_id(lamport, engine.device, i), record, name, value, (victim,), "sam")
                for i, (name, value) in enumerate(sorted(fields.items()))
            ]
        )
        case.save()
    assert _sync(c).ok
    report = _sync(a)
    assert report.ok, report.to_json()
    with a.session() as (_, pat):
        comments = [r[0] for r in open_for_sync(pat, case_id).db.execute("SELECT id FROM comments")]
    assert "sam-1" in comments  # her comment is hers to write
    assert len(_goal_conflict(report)) == 1, report.to_json()  # the conflict still stands
    with a.session() as (_, pat):
        (text,) = open_for_sync(pat, case_id).db.execute("SELECT text FROM goals").fetchone()
    assert text == conflict["versions"][0]["value"]  # the provisional winner, not sam's choice


# --- 3. a shared laptop: a change sealed in another user's name (team/sealing.py) -----------


def _goals(laptop, case_id):
    with laptop.session() as (_, session):
        return sorted(g.text for g in open_for_sync(session, case_id).goals.all())


def test_a_change_whose_sync_was_refused_is_not_signed_by_the_next_user(tmp_path, store):
    """sam (a supervisor) on pat's laptop rewrites a goal and tries to sync, with store keys
    the store refuses (a sync attempt in her session, as FORMAT §10.6 asks). pat syncs from
    the same laptop later: the rewrite must not become his, and laptop b keeps pat's goal."""
    from videofeedback.team.errors import StoreError, StoreUnreachableError
    from videofeedback.team.remotes import Remote, save_remote
    from videofeedback.team.store import StoreCredentials
    from videofeedback.team.sync import sync_library

    a, b, case_id = two_laptops_with_a_goal(tmp_path, store)
    with a.session("sam") as (library, sam):
        wrong = StoreCredentials(store._credentials.access_key, "not-the-secret-key")
        save_remote(sam, Remote("refused", store.location, wrong))
        case = open_for_sync(sam, case_id)
        case.db.execute("UPDATE goals SET text = 'rewritten by the supervisor'")
        case.save()
        with pytest.raises(StoreError) as failed:
            sync_library(library, sam, "refused")
        assert not isinstance(failed.value, StoreUnreachableError)
    assert _sync(a).ok
    assert _sync(b).ok
    assert _goals(b, case_id) == ["pat's goal"]


# --- 1. the roster after ``team init``: a removed administrator jumps the serial ------------

BOB = "bob-quiet-harbour-lantern"


def test_a_removed_administrator_cannot_outrun_his_removal_with_a_high_serial(team, tmp_path):
    """alice adds bob as a second administrator; every laptop takes it. alice removes bob and
    syncs; bob, who kept his identity and the team code, puts into the store a roster of his
    own (serial 1000, his removal undone, mallory added) before pat's laptop syncs. Once the
    office syncs again, pat's laptop must know bob is removed and never take mallory."""
    import dataclasses

    from tests.team.test_roster_sync import _laptops
    from tests.team.test_roster_sync import _sync as _team_sync
    from videofeedback.library.roles import Role
    from videofeedback.team.joining import fetch_package

    office, pat = _laptops(tmp_path)
    with office.session() as (library, alice):
        library.add_user(alice, "bob", Role.ADMIN, BOB)
    _team_sync(office)
    assert "bob" in _team_sync(pat)[1]  # pat's laptop pins bob as an administrator
    with office.session("bob", BOB) as (_, bob):
        bobs_key = bob.keys.require_signing_key()  # what he keeps
    with office.session() as (library, alice):
        library.remove_user(alice, "bob")
    assert _team_sync(office)[0].roster.startswith("published")
    manifest = fetch_package(team["remote"], team["code"]).manifest
    manifest.users["bob"] = dataclasses.replace(manifest.users["bob"], removed="")
    manifest.users["mallory"] = dataclasses.replace(manifest.users["pat"], role="practitioner")
    manifest.roster_serial = 999  # sign_roster counts it up to 1000
    _publish_forged(team, manifest, "bob", bobs_key)
    _team_sync(pat)  # pat's laptop syncs first
    _team_sync(office)  # then the office, where alice removed bob
    _team_sync(office)
    _, users = _team_sync(pat)
    assert "mallory" not in users
    assert users["bob"].removed


# --- 4. plans on a shared laptop: sam's offline plan edit (team/sealing.py, plan_sync.py) ---


@pytest.fixture
def planned(tmp_path, store):
    """pat's laptop (a) with a recording whose plan hides a drawn box, approved by pat; cat's
    laptop (b) synced. sam (a supervisor: no right to plans) also works on laptop a."""
    from fractions import Fraction

    from clips.redact.plan import RedactionPlan
    from tests.team import test_sync_plans as plans
    from videofeedback import media, redaction
    from videofeedback.library.cases import SessionKind

    a, case_id = first_laptop(tmp_path, store, members=("pat", "sam", "cat"))
    b = a.copy(tmp_path / "lib-b", tmp_path / "state-b", "cat")
    film = plans._film(tmp_path)

    def make(case):
        session = case.sessions.new(SessionKind.RECORDING, date(2026, 11, 2))
        media_id = media.import_file(case, session, film)
        redaction.save_plan(case, RedactionPlan(media_id, "30", plans.W, plans.H, 60, 5))
        redaction.add_box(case, media_id, Fraction(0), Fraction(2), plans.BOX)
        redaction.approve(case, media_id)
        return media_id

    media_id = plans._plan(a, case_id, None, make)
    for laptop in (a, b):
        assert _sync(laptop).ok
    return a, b, case_id, media_id


def test_a_supervisors_plan_edit_on_a_shared_laptop_is_not_signed_by_the_next_user(planned, store):
    """sam, on pat's laptop, takes the box out of the plan (a patched program writes the plan
    file) and tries to sync while the store cannot be reached, as FORMAT §10.6 asks of an
    author. pat syncs later from the same laptop: the plan on cat's laptop stays the
    approved one."""
    from tests.team import test_sync_plans as plans
    from videofeedback import redaction
    from videofeedback.team.errors import StoreUnreachableError
    from videofeedback.team.remotes import Remote, save_remote
    from videofeedback.team.store import StoreLocation
    from videofeedback.team.sync import sync_library

    a, b, case_id, media_id = planned
    approved = plans._state(b, case_id, media_id)
    with a.session("sam") as (library, sam):
        case = open_for_sync(sam, case_id)
        plan = redaction.load_plan(case, media_id)
        redaction.save_plan(case, dataclasses.replace(plan, manual=()))
        case.save()
        away = StoreLocation("http://127.0.0.1:9", "team")
        save_remote(sam, Remote("away", away, store._credentials))
        failed: Exception | None = None
        try:
            sync_library(library, sam, "away")
        except Exception as exc:  # noqa: BLE001 (which one is asserted below)
            failed = exc
    assert _sync(a).ok
    assert _sync(b).ok
    assert plans._state(b, case_id, media_id) == approved
    assert isinstance(failed, StoreUnreachableError), repr(failed)  # one clear line


# --- 2. a member removed after the closure: the closure no longer purges --------------------


def test_a_member_removed_after_the_closure_does_not_keep_the_case_past_retention(tmp_path, store):
    a, case_id = first_laptop(tmp_path, store, members=("pat", "cat"))
    with a.session() as (_, pat):
        case = open_for_sync(pat, case_id)
        case.close_case(date(2020, 1, 2))
        case.save()
    with a.session("cat") as (_, cat):
        try:
            open_for_sync(cat, case_id).members.remove("pat")
        except LibraryError:
            pass  # a closed case refuses member changes: safe too
    with a.session("alice") as (library, alice):
        assert library.purge(alice, today=date(2026, 12, 1)) == [case_id]


# --- 4. the store withholds the newest plan: the older, approved one is still exported ------


def test_the_store_withholding_a_newer_plan_does_not_export_with_the_older_one(
    planned, store, tmp_path
):
    """pat finds a second face, boxes it, approves the new plan and syncs. The store hides
    that plan object (it can always withhold). cat's laptop syncs (the record names the new
    plan; the file there is the old, once approved, one): her family copy must be refused
    until the plan the record names is here, not made with the second face visible."""
    from fractions import Fraction

    from tests.team import test_sync_plans as plans
    from vferrors import VideofeedbackError
    from videofeedback import redaction
    from videofeedback.library.cases import Purpose
    from videofeedback.team.plan_sync import plan_name

    a, b, case_id, media_id = planned

    def second_box(case):
        redaction.add_box(case, media_id, Fraction(0), Fraction(2), (100.0, 60.0, 40.0, 40.0))
        redaction.approve(case, media_id)

    plans._plan(a, case_id, media_id, second_box)
    assert _sync(a).ok
    names, newer = plans._plan_bytes(a, case_id, media_id)
    store.delete(plan_name(names, media_id, plans._digest(newer)))
    report = _sync(b)
    assert any("not in the store yet" in n for c in report.cases for n in c.notes)
    with b.session() as (_, cat):
        case = open_for_sync(cat, case_id)
        with pytest.raises(VideofeedbackError):  # refused, whatever the wording
            redaction.export_redacted(case, media_id, tmp_path / "copy.mp4", Purpose.FAMILY_COPY)


def test_a_removed_members_closure_through_the_store_does_not_purge_the_office(office3):
    """pat removes cat on his laptop (not synced yet). cat, on her own copy, rotates the key
    and closes the case (back-dated) and syncs; the office syncs before hearing from pat and
    takes both. Then pat syncs the removal and the office syncs again: the office must not
    purge the case, though cat never wrote to the office's folder."""
    office, laptop, case_id = office3
    cats = office.copy(office.folder.with_name("cat-lib"), office.state.with_name("cat-st"), "cat")
    assert _sync(cats).ok
    with laptop.session() as (_, pat):
        open_for_sync(pat, case_id).members.remove("cat")  # offline
    _start_epoch(cats, "cat", case_id)
    with cats.session() as (_, cat):
        case = open_for_sync(cat, case_id)
        case.close_case(date(2020, 1, 2))
        case.save()
    assert _sync(cats).ok
    assert _sync(office, "sam").ok
    with office.session("sam") as (library, _):
        assert case_id in library.manifest.retention  # taken while cat was a member here
    assert _sync(laptop).ok
    assert _sync(office, "sam").ok
    assert _epoch_and_key(office, "sam", case_id)[1] == _epoch_and_key(laptop, "pat", case_id)[1]
    with office.session("alice") as (library, alice):  # the replay refuses her close now
        assert case_id not in library.manifest.retention
        report, history = library.verify_audit(alice)
        assert report.valid and case_id not in history.closures
    purged, kept = _purge(office, case_id)
    assert case_id not in purged and kept


def test_a_removed_administrators_roster_is_refused_once_his_removal_was_taken(team, tmp_path):
    """The same forgery as above, once pat's laptop took alice's removal of bob: refused
    there, and nothing of it is kept (bob unpinned with his removal)."""
    import dataclasses

    from tests.team.test_roster_sync import _laptops
    from tests.team.test_roster_sync import _sync as _team_sync
    from videofeedback.library.roles import Role
    from videofeedback.team.joining import fetch_package

    office, pat = _laptops(tmp_path)
    with office.session() as (library, alice):
        library.add_user(alice, "bob", Role.ADMIN, BOB)
    _team_sync(office)
    _team_sync(pat)
    with office.session("bob", BOB) as (_, bob):
        bobs_key = bob.keys.require_signing_key()
    with office.session() as (library, alice):
        library.remove_user(alice, "bob")
    _team_sync(office)
    assert _team_sync(pat)[1]["bob"].removed
    manifest = fetch_package(team["remote"], team["code"]).manifest
    manifest.users["bob"] = dataclasses.replace(manifest.users["bob"], removed="")
    manifest.users["mallory"] = dataclasses.replace(manifest.users["pat"], role="practitioner")
    manifest.roster_serial = 999
    _publish_forged(team, manifest, "bob", bobs_key)
    report, users = _team_sync(pat)
    assert "was refused" in report.roster, report.roster
    assert "mallory" not in users and users["bob"].removed
