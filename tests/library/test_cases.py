"""Cases, participants, consent, sessions, goals, members and roles, through the Python API."""

from datetime import date

import pytest

from encryption import (
    NoIdentityMatchError,
    load_identity_file,
    read_encrypted,
    write_encrypted,
)
from videofeedback.library import (
    ConsentError,
    LibraryError,
    NotFoundError,
    PermissionDeniedError,
    Purpose,
    SessionKind,
    list_cases,
    open_case,
)
from videofeedback.library.keyring import load_case_keys
from videofeedback.library.records import GoalScore, Participant, Session, Signoff


def test_case_round_trip_through_encrypted_storage(world, family):
    case, mother = family
    session_id = case.sessions.new(SessionKind.RECORDING, date(2026, 1, 12), "first visit")
    goal = case.goals.add("Notice and name what the baby is showing")
    case.goals.score(goal, -1, date(2026, 1, 12))
    case.goals.score(goal, 1, date(2026, 2, 9))
    case.save()

    again = open_case(world.bob, case.id)
    assert again.label == "Family K"
    assert again.participants.all()[0] == Participant(mother, "Kasia", "mother", None, "pl")
    assert again.sessions.all() == [
        Session(session_id, SessionKind.RECORDING, date(2026, 1, 12), "first visit")
    ]
    assert again.goals.all()[0].scores == (
        GoalScore(date(2026, 1, 12), -1),
        GoalScore(date(2026, 2, 9), 1),
    )
    assert {m.user for m in again.members.all()} == {"bob", "sue", "carol"}


def test_consent_gates_recording_and_says_why(world, family):
    case, mother = family
    father = case.participants.add("Tomasz", "father")
    with pytest.raises(ConsentError, match="Tomasz .father. has not given consent to filming"):
        case.sessions.new(SessionKind.RECORDING, date.today())
    case.consent.set(father, Purpose.FILMING, True)
    case.sessions.new(SessionKind.RECORDING, date.today())
    case.consent.set(mother, Purpose.FILMING, False)
    with pytest.raises(ConsentError, match="Kasia .mother. withdrew consent to filming"):
        case.sessions.new(SessionKind.RECORDING, date.today())
    assert case.consent.table()[0].status[Purpose.FILMING] == "withdrawn"
    assert case.consent.table()[0].status[Purpose.TRAINING] == "not asked"


def test_a_case_without_participants_cannot_record(world):
    from videofeedback.library import Programme, create_case

    case = create_case(world.bob, "Family L", Programme.PUP, date.today())
    with pytest.raises(ConsentError, match="no participants"):
        case.sessions.new(SessionKind.RECORDING, date.today())


def test_goal_scores_are_minus_two_to_plus_two(world, family):
    case, _ = family
    goal = case.goals.add("Play together ten minutes a day")
    for bad in (-3, 3):
        with pytest.raises(LibraryError, match="-2 to \\+2"):
            case.goals.score(goal, bad, date.today())
    with pytest.raises(NotFoundError):
        case.goals.score("g-0000000000", 1, date.today())


def test_supervisor_reads_but_cannot_change(world, family):
    case, mother = family
    as_sue = open_case(world.sue, case.id)
    assert as_sue.label == "Family K"
    for change in (
        lambda: as_sue.participants.add("X", "child"),
        lambda: as_sue.consent.set(mother, Purpose.FILMING, False),
        lambda: as_sue.sessions.new(SessionKind.RECORDING, date.today()),
        lambda: as_sue.goals.add("x"),
        lambda: as_sue.sessions.add_parent_words("s-0000000000", "1", "x"),
    ):
        with pytest.raises(PermissionDeniedError, match="supervisor may not"):
            change()


def test_social_worker_records_but_does_not_run_reviews(world, family):
    case, _ = family
    as_carol = open_case(world.carol, case.id)
    session_id = as_carol.sessions.new(SessionKind.RECORDING, date.today())
    with pytest.raises(PermissionDeniedError, match="social-worker may not run a shared review"):
        as_carol.sessions.add_parent_words(session_id, "1", "words")


def test_non_member_is_refused_and_the_refusal_is_audited(world, family):
    case, _ = family
    with pytest.raises(PermissionDeniedError, match="not a member"):
        open_case(world.dave, case.id)
    assert case.id not in [c.id for c in list_cases(world.dave)]
    entries = world.library.audit_log().entries(world.alice.identities)
    assert any(
        e.action == "case.open.denied" and e.object == case.id and e.user == "dave" for e in entries
    )


def test_cryptographic_wall_no_file_of_a_case_opens_for_non_members(world, family):
    """Not only a check in code: dave's and alice's keys decrypt nothing of the case."""
    case, _ = family
    case.save()
    files = [p for p in case.folder.rglob("*.age")]
    assert len(files) > 5
    for outsider in (world.dave, world.alice):
        for path in files:
            with pytest.raises(NoIdentityMatchError):
                read_encrypted(path, outsider.identities)


def test_admin_cannot_view_cases(world, family):
    case, _ = family
    with pytest.raises(PermissionDeniedError):
        open_case(world.alice, case.id)


def test_adding_and_removing_members_rewrites_only_the_key(world, family):
    """Recordings are never re-encrypted: membership lives in key.age (and the small db)."""
    case, _ = family
    (case.folder / "media").mkdir()
    write_encrypted(case.folder / "media" / "m-0123456789.age", b"a recording", case.recipients)
    case.save()
    key_before = (case.folder / "key.age").read_bytes()
    others = {
        p: p.read_bytes()
        for p in case.folder.rglob("*.age")
        if p.name not in ("key.age", "case.db.age") and "audit" not in p.parts
    }
    case.members.add("dave")
    assert (case.folder / "key.age").read_bytes() != key_before
    assert open_case(world.dave, case.id).label == "Family K"
    case.members.remove("dave")
    with pytest.raises(PermissionDeniedError):
        open_case(world.dave, case.id)
    for path, data in others.items():
        assert path.read_bytes() == data, f"{path.name} was rewritten"


def test_recovery_key_opens_every_case(world, family):
    """With its own offline secret (never the admin's passphrase) and the library key store."""
    case, _ = family
    recovery = load_identity_file(world.recovery_path, world.library.recovery_secret).identities
    keys = load_case_keys(case.folder, case.id, world.library.key_store(), recovery)
    assert read_encrypted(case.folder / "case.db.age", [keys]).startswith(b"SQLite format 3")
    with pytest.raises(NoIdentityMatchError):  # the admin's everyday passphrase opens nothing
        load_identity_file(world.recovery_path, "alice-quiet-harbour-lantern")


def test_closed_case_takes_nothing_new(world, family):
    case, _ = family
    until = case.close_case(date(2026, 3, 1))
    assert until == date(2026, 3, 31)
    with pytest.raises(LibraryError, match="closed"):
        case.goals.add("too late")


def test_a_closed_case_keeps_its_members_and_key_epoch(world, family):
    """A removal starts a key epoch whose announced key would no longer verify the closure
    (signed with the closing epoch's key): the case would outlive its retention date."""
    case, _ = family
    case.close_case(date(2026, 3, 1))
    key_file = (case.folder / "key.age").read_bytes()
    with pytest.raises(LibraryError, match="is closed; its members stay"):
        case.members.remove("carol")
    assert case.identity.epoch == 1 and (case.folder / "key.age").read_bytes() == key_file
    assert "carol" in case.members.names()


def test_supervisor_comments_and_signs_off_a_cycle(world, family):
    case, mother = family
    case.consent.set(mother, Purpose.SHARED_REVIEW, True)
    film = case.sessions.new(SessionKind.RECORDING, date(2026, 1, 12))
    review = case.sessions.new(SessionKind.REVIEW, date(2026, 1, 19))
    case.save()
    as_sue = open_case(world.sue, case.id)
    comment = as_sue.supervision.add_comment(film, "Lovely moment of waiting at 02:14")
    signoff = as_sue.supervision.sign_off(film, review)
    with pytest.raises(LibraryError, match="not a recording"):
        as_sue.supervision.sign_off(review, review)
    as_sue.save()
    again = open_case(world.bob, case.id)
    assert [c.id for c in again.supervision.comments(film)] == [comment]
    [found] = again.supervision.signoffs()
    assert found == Signoff(signoff, film, review, "sue", found.signed_at, valid=True)
    with pytest.raises(PermissionDeniedError):
        again.supervision.sign_off(film, review)  # a practitioner does not sign off their own cycle
    again.db.execute("UPDATE signoffs SET review_session = ?", (film,))
    assert again.supervision.signoffs()[0].valid is False


def test_finding_a_session_leaves_other_cases_audit_trails_alone(world, family):
    """Searching every case for an id reads the others but opens (and audits) only the match."""
    from videofeedback.library import Programme, create_case
    from videofeedback.library.media_records import find_session

    case, _ = family
    other = create_case(world.bob, "Family N", Programme.VIG, date.today())
    other_session = other.participants.add("Nina", "mother")
    other.consent.set(other_session, Purpose.FILMING, True)
    wanted = other.sessions.new(SessionKind.RECORDING, date.today())
    other.save()
    before = case.audit_log().head()
    found = find_session(world.bob, wanted)
    assert found.id == other.id
    assert case.audit_log().head() == before
    assert case.verify_audit().valid
    with pytest.raises(NotFoundError):
        find_session(world.bob, "s-0000000000")


def test_reflective_prompts_are_the_librarys_per_codebook(tmp_path):
    import pytest

    from videofeedback.library import Library, Role
    from videofeedback.library.annotating import codebooks, set_prompts
    from videofeedback.library.errors import LibraryError, PermissionDeniedError

    folder = tmp_path / "lib"
    library, admin = Library.create(
        folder, "admin", "admin-quiet-harbour-lantern", tmp_path / "r.age", 30
    )
    library.add_user(admin, "sw", Role.SOCIAL_WORKER, "sw-quiet-harbour-lantern")
    set_prompts(library, admin, "vig", {"guiding": "What helped her try again?"})
    with pytest.raises(LibraryError, match="no categories nonsense"):
        set_prompts(library, admin, "vig", {"nonsense": "?"})
    social_worker = library.unlock("sw", "sw-quiet-harbour-lantern", sleep=lambda _: None)
    with pytest.raises(PermissionDeniedError):
        set_prompts(library, social_worker, "vig", {"guiding": "?"})
    library.close()
    reopened = Library(folder)
    book = codebooks(reopened)["vig"]
    prompts = {c.id: c.prompt for c in book.categories}
    assert prompts["guiding"] == "What helped her try again?"
    assert prompts["attentive"].startswith("What do you notice")  # the others are untouched
    assert codebooks(reopened)["pup"] == codebooks(Library(folder))["pup"]
    actions = [e.action for e in reopened.audit_log().entries(admin.identities)]
    assert "codebook.prompts" in actions


def test_a_database_from_before_session_titles_is_upgraded_on_opening(tmp_path):
    """Schema 1 had no title and kept a review's reel only in its notes."""
    import sqlite3

    from encryption import X25519Identity
    from videofeedback.library.case_db import SCHEMA, get_meta, load_database

    old_schema = SCHEMA.replace(
        "created_by TEXT, created_at TEXT, title TEXT NOT NULL DEFAULT '',\n"
        "    reel TEXT NOT NULL DEFAULT '');",
        "created_by TEXT, created_at TEXT);",
    )
    assert old_schema != SCHEMA
    old = sqlite3.connect(":memory:")
    old.executescript(old_schema)
    old.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    old.execute(
        "INSERT INTO sessions VALUES ('s-1', 'recording', '2026-01-12', 'first visit', 'bob', '')"
    )
    old.execute(
        "INSERT INTO sessions VALUES ('s-2', 'review', '2026-01-19', 'Shared review of m-0a1b2c3d4e', 'bob', '')"
    )
    old.commit()
    identity = X25519Identity.generate()
    path = tmp_path / "case.db.age"
    write_encrypted(path, old.serialize(), [identity.recipient])
    db = load_database(path, [identity])
    rows = db.execute("SELECT id, title, reel FROM sessions ORDER BY id").fetchall()
    assert rows == [("s-1", "", ""), ("s-2", "", "m-0a1b2c3d4e")]
    assert get_meta(db, "schema_version") == "2"
    db.rollback()  # a failed first operation's rollback keeps the upgrade
    assert get_meta(db, "schema_version") == "2"


def test_a_member_rewriting_which_film_a_review_showed_changes_no_sign_off(world, family):
    """The database says which reel a shared review showed; a member may rewrite it there.
    The sign-off reads the signed trail instead (FORMAT.md 10.4)."""

    case, mother = family
    case.consent.set(mother, Purpose.SHARED_REVIEW, True)
    play = case.sessions.new(SessionKind.RECORDING, date(2026, 1, 12), title="Play with blocks")
    bath = case.sessions.new(SessionKind.RECORDING, date(2026, 1, 13), title="Bath time")
    reels = {s: case.media.add(s, "reel", f"media/{s}.age", {"items": []}) for s in (play, bath)}
    review = case.sessions.new(SessionKind.REVIEW, date(2026, 1, 19), reel=reels[play])
    case.save()
    assert case.sessions.film_of_review(review) == play
    with pytest.raises(LibraryError, match="showed a reel of 'Play with blocks'"):
        open_case(world.sue, case.id).supervision.sign_off(bath, review)

    case.db.execute("UPDATE sessions SET reel = ? WHERE id = ?", (reels[bath], review))
    case.save()  # bob's rewrite, saved and signed like any change of his
    as_sue = open_case(world.sue, case.id)
    assert as_sue.sessions.get(review).reel == reels[bath]  # the database was rewritten
    assert as_sue.sessions.film_of_review(review) == play  # the trail was not
    with pytest.raises(LibraryError, match="showed a reel of 'Play with blocks'"):
        as_sue.supervision.sign_off(bath, review)
    as_sue.supervision.sign_off(play, review)
