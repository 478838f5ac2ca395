"""A laptop that joined finds the cases its user is a member of (FORMAT §12.5), on the
real SeaweedFS server: invitations in the store, nothing readable to anyone else."""

from __future__ import annotations

import json
from datetime import date
from fractions import Fraction

import pytest

from encryption import X25519Recipient
from tests.cli.conftest import run_cli
from tests.team.laptops import (
    CANARY_NAME,
    CANARY_TITLE,
    PASSPHRASES,
    Laptop,
    fake_recording,
    remote_of,
    state_dir,
)
from videofeedback.library import Library
from videofeedback.library.annotating import open_annotations
from videofeedback.library.audit import _KEY_PREFIX as NOTE_KEY
from videofeedback.library.cases import Programme, Purpose, create_case
from videofeedback.library.roles import Role
from videofeedback.team.invites import Invitation, _inbox, slot_name
from videofeedback.team.joining import join, publish
from videofeedback.team.remotes import save_remote
from videofeedback.team.sync import open_for_sync, sync_library


@pytest.fixture
def team(tmp_path, store, seaweed):
    """alice's office library (pat, sam, cat), `team init` published; pat's laptop joined,
    made case A (pat, sam: a recording with a moment) and case B (pat alone), synced."""
    with state_dir(tmp_path / "office-state"):
        library, alice = Library.create(
            tmp_path / "office", "alice", PASSPHRASES["alice"], tmp_path / "recovery.age", 30
        )
        library.add_user(alice, "pat", Role.PRACTITIONER, PASSPHRASES["pat"])
        library.add_user(alice, "sam", Role.SUPERVISOR, PASSPHRASES["sam"])
        library.add_user(alice, "cat", Role.PRACTITIONER, PASSPHRASES["cat"])
        remote = remote_of(store)
        save_remote(alice, remote)
        published = publish(alice, remote)
        code, admin_key = published.code, published.fingerprint
        library.close()
    with state_dir(tmp_path / "pat-state"):
        _, library, pat = join(tmp_path / "pat", remote, "pat", PASSPHRASES["pat"], code)
        try:
            case = create_case(pat, CANARY_TITLE, Programme.VIG, date(2026, 11, 1), ["sam"])
            participant = case.participants.add(CANARY_NAME, "parent")
            for purpose in (Purpose.FILMING, Purpose.SHARED_REVIEW):
                case.consent.set(participant, purpose, True)
            media_id = fake_recording(case, "first visit")
            case.save()
            work = open_annotations(open_for_sync(pat, case.id), media_id)
            work.editor.add_moment(Fraction(3), Fraction(4), caption="pat's moment")
            work.save()
            alone = create_case(pat, "Pat alone", Programme.VIG, date(2026, 11, 1))
            report = sync_library(library, pat, "office")
            assert report.ok, report.to_json()
        finally:
            library.close()
    info = {"code": code, "admin_key": admin_key, "remote": remote, "store": store,
            "seaweed": seaweed}  # fmt: skip
    return info | {"a": case.id, "b": alone.id, "media": media_id}


def _join_cli(team, tmp_path, user):
    env = {
        "VIDEOFEEDBACK_LIBRARY": str(tmp_path / user),
        "VIDEOFEEDBACK_PASSPHRASE": PASSPHRASES[user],
        "VIDEOFEEDBACK_STATE_DIR": str(tmp_path / f"{user}-state"),
        "VIDEOFEEDBACK_S3_ACCESS_KEY": team["seaweed"].credentials.access_key,
        "VIDEOFEEDBACK_S3_SECRET_KEY": team["seaweed"].credentials.secret_key,
        "VIDEOFEEDBACK_TEAM_CODE": team["code"],
    }
    location = team["store"].location
    where = ["--endpoint", location.endpoint, "--bucket", location.bucket]
    joined = run_cli(
        "--user", user, "team", "join", "--remote", "office", *where,
        "--prefix", location.prefix, "--admin-key", team["admin_key"], "--json", env=env,
    )  # fmt: skip
    assert joined.code == 0, joined.err
    assert json.loads(joined.out)["synced"], joined.out
    listed = run_cli("--user", user, "case", "list", "--json", env=env)
    assert listed.code == 0, listed.err
    return env, json.loads(listed.out)


def _case_ids(listing) -> list[str]:
    rows = listing["cases"] if isinstance(listing, dict) else listing
    return sorted(r["id"] for r in rows)


def test_a_joined_laptop_finds_exactly_its_cases(team, tmp_path):
    # sam (a member of A only) joins: the first sync pulls A, with pat's moment
    _, listing = _join_cli(team, tmp_path, "sam")
    assert _case_ids(listing) == [team["a"]]
    sam = Laptop(tmp_path / "sam", tmp_path / "sam-state", "sam")
    with sam.session() as (_, session):
        case = open_for_sync(session, team["a"])
        assert case.label == CANARY_TITLE
        work = open_annotations(case, team["media"])
        assert [m.caption for m in work.annotations.moments] == ["pat's moment"]
        assert case.verify_audit().valid
    assert (tmp_path / "sam" / "cases" / team["a"] / "media" / "r.age").exists()
    # a sync again finds nothing new and changes nothing
    with sam.session() as (library, session):
        again = sync_library(library, session, "office")
    assert again.ok and again.found == []
    # cat, in no case, joins: sees none; her laptop holds no case folder at all
    _, listing = _join_cli(team, tmp_path, "cat")
    assert _case_ids(listing) == []
    assert not list((tmp_path / "cat" / "cases").glob("c-*"))
    # the store: no title, participant name, case id or user name in any name or byte
    store = team["store"]
    # a user name is three letters: random ciphertext holds them by chance (one in 2^24 per
    # byte), so in the bytes they are looked for as plaintext would carry them: quoted (JSON)
    # and in a signed note's signature line (§9)
    users = ["sam", "pat", "cat"]
    needles = [CANARY_TITLE, CANARY_NAME, team["a"], team["b"]]
    for info in store.list():
        if info.name.startswith("probe/"):
            continue
        data = store.get(info.name)
        for needle in needles + users:
            assert needle not in info.name, (needle, info.name)
        quoted = [f'"{user}"' for user in users] + [f"\u2014 {NOTE_KEY}{user} " for user in users]
        for needle in needles + quoted:
            assert needle.encode() not in data, (needle, info.name)


def test_a_forged_or_misaddressed_invitation_is_skipped(team, tmp_path):
    """cat (a user of the team, not a member of A) writes into sam's inbox: an invitation
    to her own case (its key file is not to sam), one addressed to herself but encrypted to
    sam, and bytes that are no invitation. sam's laptop takes none of them, and still finds
    the case it was invited to."""
    store = team["store"]
    cat = Laptop(tmp_path / "cat", tmp_path / "cat-state", "cat")
    _join_cli(team, tmp_path, "cat")
    with cat.session() as (library, session):
        own = create_case(session, "Cat's case", Programme.VIG, date(2026, 11, 1))
        key_file = (own.folder / "key.age").read_bytes()
        sam_recipient = X25519Recipient.parse(library.user_record("sam").recipient)
        forged = [
            Invitation(own.id, "sam", own.identity.kek, key_file).seal(session, sam_recipient),
            Invitation(own.id, "cat", own.identity.kek, key_file).seal(session, sam_recipient),
        ]
        inbox = _inbox(library, "sam")
    # pat's invitation of sam to A is in slot 1; cat's go after it
    for number, data in zip((2, 3), forged, strict=True):
        store.put_new(slot_name(inbox, number), data)
    store.put_new(slot_name(inbox, 4), b"age-encryption.org/v1\nnot an invitation")
    _, listing = _join_cli(team, tmp_path, "sam")
    assert _case_ids(listing) == [team["a"]]
    assert not (tmp_path / "sam" / "cases" / own.id).exists()


def test_a_member_removed_before_joining_gets_nothing_and_later_cases_still_come(team, tmp_path):
    """pat invites cat to case C, then removes her (a new key epoch) before her laptop ever
    joined, then invites her to case D. Her joining laptop has C's invitation (epoch 1) but
    nothing of C written afterwards opens: C is not made (no folder, no key kept), and the
    invitation after it, D, is taken."""
    pat = Laptop(tmp_path / "pat", tmp_path / "pat-state", "pat")
    with pat.session() as (library, session):
        gone = create_case(session, "Cat leaves", Programme.VIG, date(2026, 11, 1), ["cat"])
        assert sync_library(library, session, "office").ok
        case = open_for_sync(session, gone.id)
        case.members.remove("cat")
        case.save()
        assert sync_library(library, session, "office").ok
        kept = create_case(session, "Cat stays", Programme.VIG, date(2026, 11, 1), ["cat"])
        assert sync_library(library, session, "office").ok
    _, listing = _join_cli(team, tmp_path, "cat")
    assert _case_ids(listing) == [kept.id]
    assert not (tmp_path / "cat" / "cases" / gone.id).exists()
    cat = Laptop(tmp_path / "cat", tmp_path / "cat-state", "cat")
    with cat.session() as (library, session):
        held = library.key_store().read(session.identities)
        assert kept.id in held and gone.id not in held
