# ruff: noqa: F811  (the `team` fixture of test_discovery.py, used by name)
"""Users added after ``team init`` (FORMAT §12.9), on the real SeaweedFS server: the
administrator's next sync publishes the new roster, a new user joins like the others and
sees exactly their cases, joined laptops take the roster on their next sync — never an
older one the store replays, never one signed by anyone but a pinned administrator."""

from __future__ import annotations

import base64
import json
from datetime import date

import pytest

from tests.cli.conftest import run_cli
from tests.team.laptops import PASSPHRASES, Laptop, state_dir
from tests.team.test_discovery import team  # noqa: F401  (the fixture)
from videofeedback.library.cases import Programme, create_case
from videofeedback.library.errors import AuthenticationError, PermissionDeniedError
from videofeedback.library.manifest import UserRecord
from videofeedback.library.roles import Role
from videofeedback.library.roster import sign_roster
from videofeedback.team.joining import (
    FORMAT,
    PACKAGE,
    VERSION,
    JoinError,
    _seal,
    fetch_package,
    join,
)
from videofeedback.team.sync import open_for_sync, sync_library

DAN = "dan-quiet-harbour-lantern"


def _laptops(tmp_path):
    office = Laptop(tmp_path / "office", tmp_path / "office-state", "alice")
    return office, Laptop(tmp_path / "pat", tmp_path / "pat-state", "pat")


def _sync(laptop: Laptop, user: str | None = None, passphrase: str | None = None):
    with laptop.session(user, passphrase) as (library, session):
        report = sync_library(library, session, "office")
        return report, dict(library.manifest.users)


def _join(team, tmp_path, user, passphrase) -> Laptop:
    with state_dir(tmp_path / f"{user}-state"):
        joined = join(
            tmp_path / user, team["remote"], user, passphrase, team["code"], team["admin_key"]
        )
        joined[1].close()
    return Laptop(tmp_path / user, tmp_path / f"{user}-state", user)


def _add_dan(office: Laptop) -> None:
    with office.session() as (library, alice):
        library.add_user(alice, "dan", Role.PRACTITIONER, DAN)


def test_a_user_added_after_init_joins_and_sees_exactly_their_cases(team, tmp_path):
    office, pat = _laptops(tmp_path)
    sam = _join(team, tmp_path, "sam", PASSPHRASES["sam"])  # joined before dan existed
    _add_dan(office)
    report, _ = _sync(office)
    assert report.roster.startswith("published the list of users"), report.roster
    assert _sync(office)[0].roster == ""  # published once: the next sync has nothing to do
    report, users = _sync(pat)
    assert report.ok and "took the team's list of users" in report.roster and "dan" in users
    with pat.session() as (library, session):
        open_for_sync(session, team["a"]).members.add("dan")
        assert sync_library(library, session, "office").ok  # pushes, and invites dan
    report, users = _sync(sam)
    assert "dan" in users and report.roster.startswith("took")
    dan = _join(team, tmp_path, "dan", DAN)
    report, users = _sync(dan, "dan", DAN)
    assert report.ok and report.found == [team["a"]] and report.roster == ""
    with dan.session("dan", DAN) as (library, session):
        assert library.case_ids() == [team["a"]]  # not pat's case B
        assert open_for_sync(session, team["a"]).members.names() == ["dan", "pat", "sam"]


def test_an_older_roster_replayed_by_the_store_is_ignored(team, tmp_path):
    office, pat = _laptops(tmp_path)
    store = team["store"]
    old = store.get(PACKAGE)
    _add_dan(office)
    _sync(office)
    _sync(pat)
    current = store.head(PACKAGE)
    store.put_if(PACKAGE, old, current.etag)  # the store serves the package before dan
    report, users = _sync(pat)
    assert report.ok and "older list of users" in report.roster, report.roster
    assert "dan" in users  # kept
    report, _ = _sync(office)  # the administrator's next sync puts the newer one back
    assert report.roster.startswith("published"), report.roster
    assert "dan" in fetch_package(team["remote"], team["code"]).manifest.users


def _publish_forged(team, manifest, signer: str, key) -> None:
    """Put a roster signed by ``signer`` into the team package (the code and the store's keys
    are what every joined laptop holds)."""
    package = fetch_package(team["remote"], team["code"])
    sign_roster(manifest, signer, key)
    body = {
        "format": FORMAT,
        "version": VERSION,
        "manifest": json.loads(manifest.to_json()),
        "identities": {k: base64.b64encode(v).decode() for k, v in package.identities.items()},
        "keys": {k: base64.b64encode(v).decode() for k, v in package.keys.items()},
    }
    store = team["store"]
    store.put_if(PACKAGE, _seal(json.dumps(body).encode(), team["code"]), store.head(PACKAGE).etag)


def test_a_roster_signed_by_a_non_administrator_is_refused(team, tmp_path):
    """pat holds the team code: she makes herself administrator, adds mallory (with her own
    keys) and signs the list with her own key, a version ahead; sam's laptop refuses it."""
    _, pat = _laptops(tmp_path)
    sam = _join(team, tmp_path, "sam", PASSPHRASES["sam"])
    manifest = fetch_package(team["remote"], team["code"]).manifest
    mine = manifest.users["pat"]
    manifest.users["pat"] = UserRecord(Role.ADMIN.value, mine.recipient, mine.verify_key, "x")
    manifest.users["mallory"] = UserRecord("practitioner", mine.recipient, mine.verify_key, "x")
    with pat.session() as (_, session):
        _publish_forged(team, manifest, "pat", session.keys.require_signing_key())
    report, users = _sync(sam)
    assert "was refused" in report.roster and "never known as an administrator" in report.roster
    assert "mallory" not in users and users["pat"].role == Role.PRACTITIONER.value
    report, users = _sync(pat)  # pat's own laptop (pinned alice) refuses it too
    assert "was refused" in report.roster and "mallory" not in users


def test_the_administrator_adds_a_user_syncs_and_he_joins_by_the_command_line(team, tmp_path):
    keys = team["seaweed"].credentials
    office = {
        "VIDEOFEEDBACK_LIBRARY": str(tmp_path / "office"),
        "VIDEOFEEDBACK_PASSPHRASE": PASSPHRASES["alice"],
        "VIDEOFEEDBACK_NEW_PASSPHRASE": DAN,
        "VIDEOFEEDBACK_STATE_DIR": str(tmp_path / "office-state"),
    }
    added = run_cli("--user", "alice", "user", "add", "dan", "--role", "practitioner", env=office)
    assert added.code == 0, added.err
    synced = run_cli("--user", "alice", "sync", env=office)
    assert synced.code == 0, synced.err
    assert "users: published the list of users" in synced.out.decode(), synced.out
    location = team["store"].location
    dan = {
        "VIDEOFEEDBACK_LIBRARY": str(tmp_path / "dan"),
        "VIDEOFEEDBACK_PASSPHRASE": DAN,
        "VIDEOFEEDBACK_STATE_DIR": str(tmp_path / "dan-state"),
        "VIDEOFEEDBACK_S3_ACCESS_KEY": keys.access_key,
        "VIDEOFEEDBACK_S3_SECRET_KEY": keys.secret_key,
        "VIDEOFEEDBACK_TEAM_CODE": team["code"],
    }
    joined = run_cli(
        "--user", "dan", "team", "join", "--remote", "office", "--endpoint", location.endpoint,
        "--bucket", location.bucket, "--prefix", location.prefix,
        "--admin-key", team["admin_key"], "--json", env=dan,
    )  # fmt: skip
    assert joined.code == 0, joined.err
    assert json.loads(joined.out)["synced"], joined.out


def test_a_user_removed_from_the_library_gets_nothing_new_on_any_laptop(team, tmp_path):
    office, pat = _laptops(tmp_path)
    cat = _join(team, tmp_path, "cat", PASSPHRASES["cat"])
    with office.session() as (library, alice):
        gone = library.manifest.users["cat"].recipient
        library.remove_user(alice, "cat")
        assert gone not in [str(r) for r in library.store_recipients()]
        assert "cat" in library.verify_keys()  # her old signatures still verify
    assert _sync(office)[0].roster.startswith("published")
    report, users = _sync(pat)
    assert report.ok and report.roster.startswith("took") and users["cat"].removed
    with pat.session() as (library, session):
        with pytest.raises(PermissionDeniedError, match="removed from the library"):
            open_for_sync(session, team["b"]).members.add("cat")
        with pytest.raises(PermissionDeniedError, match="removed from the library"):
            create_case(session, "Another", Programme.VIG, date(2026, 11, 3), ["cat"])
    report, users = _sync(cat)  # her own laptop takes it too: she no longer unlocks there
    assert users["cat"].removed
    with pytest.raises(AuthenticationError, match="removed"):
        _sync(cat)
    with pytest.raises(AuthenticationError, match="removed"):
        _sync(office, "cat")
    with pytest.raises(JoinError, match="removed from this team"):
        _join(team, tmp_path / "again", "cat", PASSPHRASES["cat"])
    assert not (tmp_path / "again" / "cat").exists()
