"""`videofeedback team init|join` as people run them, against the real SeaweedFS server."""

import base64
import json
import os

import pytest

from encryption import UserKeys, load_identity_file, save_identity_file
from tests.cli.conftest import assert_one_line_error, run_cli
from videofeedback.library.roster import sign_roster
from videofeedback.team.joining import PACKAGE, _seal, fetch_package
from videofeedback.team.remotes import Remote
from videofeedback.team.store import StoreCredentials

ADMIN_PASSPHRASE = "alice-quiet-harbour-lantern"
BOB_PASSPHRASE = "bob-quiet-harbour-lantern"


@pytest.fixture
def team(seaweed, store, tmp_path):
    """Alice's library with bob, a remote on the real server, and `team init` run."""
    env = {
        "VIDEOFEEDBACK_LIBRARY": str(tmp_path / "office"),
        "VIDEOFEEDBACK_PASSPHRASE": ADMIN_PASSPHRASE,
        "VIDEOFEEDBACK_NEW_PASSPHRASE": ADMIN_PASSPHRASE,
        "VIDEOFEEDBACK_STATE_DIR": str(tmp_path / "office-state"),
        "VIDEOFEEDBACK_S3_ACCESS_KEY": seaweed.credentials.access_key,
        "VIDEOFEEDBACK_S3_SECRET_KEY": seaweed.credentials.secret_key,
    }
    assert run_cli("--user", "alice", "init", env=env, cwd=tmp_path).code == 0
    new = {**env, "VIDEOFEEDBACK_NEW_PASSPHRASE": BOB_PASSPHRASE}
    assert (
        run_cli("--user", "alice", "user", "add", "bob", "--role", "practitioner", env=new).code
        == 0
    )
    where = ["--endpoint", seaweed.endpoint, "--bucket", "team", "--prefix", store.location.prefix]
    assert run_cli("--user", "alice", "remote", "add", "office", *where, env=env).code == 0
    published = run_cli("--user", "alice", "team", "init", "--json", env=env)
    assert published.code == 0, published.err
    info = json.loads(published.out)
    remote = Remote(
        "office",
        store.location,
        StoreCredentials(seaweed.credentials.access_key, seaweed.credentials.secret_key),
    )
    return {"env": env, "where": where, "info": info, "remote": remote, "store": store}


def _join(team, tmp_path, passphrase=BOB_PASSPHRASE, code=None, extra=(), laptop="laptop"):
    env = {
        "VIDEOFEEDBACK_LIBRARY": str(tmp_path / laptop),
        "VIDEOFEEDBACK_PASSPHRASE": passphrase,
        "VIDEOFEEDBACK_STATE_DIR": str(tmp_path / f"{laptop}-state"),
        "VIDEOFEEDBACK_S3_ACCESS_KEY": team["env"]["VIDEOFEEDBACK_S3_ACCESS_KEY"],
        "VIDEOFEEDBACK_S3_SECRET_KEY": team["env"]["VIDEOFEEDBACK_S3_SECRET_KEY"],
        "VIDEOFEEDBACK_TEAM_CODE": code or team["info"]["team_code"],
    }
    if "--admin-key" not in extra:  # the fingerprint the administrator handed over
        extra = [*extra, "--admin-key", team["info"]["admin_key"]]
    result = run_cli(
        "--user", "bob", "team", "join", "--remote", "office", *team["where"], *extra, env=env
    )
    return result, env


def test_a_new_laptop_joins_and_opens_the_library(team, tmp_path):
    key = team["info"]["admin_key"]
    joined, env = _join(team, tmp_path, extra=["--admin-key", key])
    assert joined.code == 0, joined.err
    assert key in joined.text and "alice" in joined.text
    # the joined folder is a library bob unlocks, with the remote kept encrypted to him
    listed = run_cli("--user", "bob", "remote", "list", "--json", env=env)
    assert listed.code == 0, listed.err
    assert [r["name"] for r in json.loads(listed.out)["remotes"]] == ["office"]
    assert run_cli("--user", "bob", "case", "list", env=env).code == 0
    # the administrator is pinned on this laptop (outside the folder)
    state = list((tmp_path / "laptop-state").rglob("*.json"))
    assert state and "alice" in state[0].read_text()
    # only bob's identity file came (a passphrase-protected file, as in every library)
    assert sorted(p.name for p in (tmp_path / "laptop" / "users").iterdir()) == ["bob.identity"]
    # a second join into the same folder is refused before any secret is asked
    again, _ = _join(team, tmp_path)
    assert_one_line_error(again, "not empty")


def test_a_wrong_passphrase_or_code_is_a_clear_error_and_writes_nothing(team, tmp_path):
    wrong, _ = _join(team, tmp_path, passphrase="carol-quiet-harbour-lantern")
    assert_one_line_error(wrong, "wrong passphrase for bob")
    assert not (tmp_path / "laptop" / "manifest.json").exists()
    assert not list((tmp_path / "laptop").rglob("*.identity"))
    bad_code, _ = _join(team, tmp_path, code="AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH")
    assert_one_line_error(bad_code, "team code is wrong")


def _forge(team, tmp_path, change, identities=None):
    """Rewrite the published package with ``change(manifest)`` (who holds the team code:
    a member, or anyone it leaked to) and put it in the store."""
    code = team["info"]["team_code"]
    package = fetch_package(team["remote"], code)
    manifest = package.manifest
    change(manifest)
    body = {
        "format": "videofeedback-team-join",
        "version": 1,
        "manifest": json.loads(manifest.to_json()),
        "identities": {
            k: base64.b64encode(v).decode()
            for k, v in {**package.identities, **(identities or {})}.items()
        },
        "keys": {k: base64.b64encode(v).decode() for k, v in package.keys.items()},
    }
    store = team["store"]
    store.put_if(PACKAGE, _seal(json.dumps(body).encode(), code), store.head(PACKAGE).etag)


def _bob_keys(tmp_path):
    return load_identity_file(tmp_path / "office" / "users" / "bob.identity", BOB_PASSPHRASE)


def test_a_roster_signed_by_a_non_administrator_is_refused(team, tmp_path):
    bob = _bob_keys(tmp_path)

    def bob_signs(manifest):
        manifest.users["bob"].role = "admin"  # bob makes himself an administrator …
        sign_roster(manifest, "bob", bob.require_signing_key())
        manifest.users["bob"].role = "practitioner"  # … but the roster says he is not

    _forge(team, tmp_path, bob_signs)
    refused, _ = _join(team, tmp_path)
    assert_one_line_error(refused, "not signed by an administrator")
    assert not (tmp_path / "laptop" / "manifest.json").exists()


def test_a_roster_changed_after_signing_is_refused(team, tmp_path):
    eve = UserKeys.generate()

    def add_eve(manifest):
        manifest.users["bob"].recipient = str(eve.recipient)  # keys wrapped to eve

    _forge(team, tmp_path, add_eve)
    refused, _ = _join(team, tmp_path)
    assert_one_line_error(refused, "changed after an administrator signed it")


def test_a_roster_signed_by_another_key_is_refused_against_the_given_admin_key(team, tmp_path):
    mallory = UserKeys.generate()

    def replace_alice(manifest):
        manifest.users["alice"].verify_key = str(mallory.require_signing_key().verify_key)
        sign_roster(manifest, "alice", mallory.require_signing_key())

    real_key = team["info"]["admin_key"]
    # first a genuine join pins the real alice on this laptop
    first, _ = _join(team, tmp_path, laptop="pinned")
    assert first.code == 0, first.err
    _forge(team, tmp_path, replace_alice)
    # with the fingerprint handed over out of band: refused, naming the key it saw
    refused, _ = _join(team, tmp_path, extra=["--admin-key", real_key])
    assert_one_line_error(refused, "not the administrator key")
    # a laptop that pinned alice before refuses it too (a second folder, same computer)
    state = tmp_path / "pinned-state"
    env_again = {"VIDEOFEEDBACK_STATE_DIR": str(state)}
    again = run_cli(
        "--user",
        "bob",
        "team",
        "join",
        "--remote",
        "office",
        *team["where"],
        "--admin-key",
        real_key,
        env={**_join_env(team, tmp_path / "second"), **env_again},
    )
    assert_one_line_error(again, "administrator")
    assert not (tmp_path / "second" / "manifest.json").exists()


def test_an_identity_file_other_than_the_roster_names_is_refused(team, tmp_path):
    """The code holder puts in their own keys under bob's name (with a passphrase they made
    bob use, or bob's own): bob would sign and decrypt with keys the team does not know."""
    planted = UserKeys.generate()
    save_identity_file(tmp_path / "planted.identity", planted, BOB_PASSPHRASE)
    swapped = {"bob": (tmp_path / "planted.identity").read_bytes()}
    _forge(team, tmp_path, lambda manifest: None, identities=swapped)
    refused, _ = _join(team, tmp_path)
    assert_one_line_error(refused, "does not hold the keys the signed list of users names")
    assert not (tmp_path / "laptop" / "manifest.json").exists()


def _join_env(team, folder):
    return {
        "VIDEOFEEDBACK_LIBRARY": str(folder),
        "VIDEOFEEDBACK_PASSPHRASE": BOB_PASSPHRASE,
        "VIDEOFEEDBACK_S3_ACCESS_KEY": team["env"]["VIDEOFEEDBACK_S3_ACCESS_KEY"],
        "VIDEOFEEDBACK_S3_SECRET_KEY": team["env"]["VIDEOFEEDBACK_S3_SECRET_KEY"],
        "VIDEOFEEDBACK_TEAM_CODE": team["info"]["team_code"],
    }


def test_store_credentials_alone_read_nothing(team, tmp_path):
    """Eve holds valid store keys (a leaked config, the store's operator) but is no member:
    every byte under the prefix is ciphertext with no name, key or identity in it."""
    store = team["store"]
    objects = [o for o in store.list() if not o.name.startswith("probe/")]  # the fixture's
    assert [o.name for o in objects] == [PACKAGE]
    office = (tmp_path / "office" / "manifest.json").read_text()
    recipients = [u["recipient"] for u in json.loads(office)["users"].values()]
    for info in objects:
        data = store.get(info.name)
        assert data.startswith(b"age-encryption.org/v1\n")
        for needle in [b"alice", b"bob", b"videofeedback identity", b"vfsign1"]:
            assert needle not in data and needle not in info.name.encode()
        for recipient in recipients:
            assert recipient.encode() not in data
    # and with a guessed team code she gets a clear refusal, not the package
    with pytest.raises(Exception, match="team code is wrong"):
        fetch_package(team["remote"], "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH")
    assert os.environ.get("VIDEOFEEDBACK_TEAM_CODE") is None


def test_only_an_administrator_publishes_the_team(team):
    bob = {**team["env"], "VIDEOFEEDBACK_PASSPHRASE": BOB_PASSPHRASE}
    assert run_cli("--user", "bob", "remote", "add", "office", *team["where"], env=bob).code == 0
    before = team["store"].head(PACKAGE).etag
    assert_one_line_error(run_cli("--user", "bob", "team", "init", env=bob), "administrator")
    assert team["store"].head(PACKAGE).etag == before
    # publishing again (after adding users) keeps the code members were given
    again = run_cli("--user", "alice", "team", "init", "--json", env=team["env"])
    assert again.code == 0, again.err
    assert json.loads(again.out)["team_code"] == team["info"]["team_code"]
    assert team["store"].head(PACKAGE).etag != before
