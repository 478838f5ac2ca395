"""What a store (or someone holding its keys) can do to a synced case, against the real
SeaweedFS: read nothing, learn no names, roll nothing back unnoticed."""

from __future__ import annotations

import io
import os

import pytest

from encryption import EncryptionError, X25519Identity, iter_decrypt
from tests.team.laptops import CANARY_NAME, CANARY_TITLE, first_laptop
from tests.team.laptops import store_objects as _objects
from tests.team.laptops import sync as _sync
from tests.team.laptops import sync_ok as _ok
from videofeedback.library.audit import _KEY_PREFIX as NOTE_KEY
from videofeedback.team.heads import PACK_MAGIC, unpack
from videofeedback.team.sync import open_for_sync


def _edit(laptop, case_id, text):
    with laptop.session() as (_, session):
        case = open_for_sync(session, case_id)
        case.goals.add(text)
        case.save()


@pytest.fixture
def two(tmp_path, store):
    a, case_id = first_laptop(tmp_path, store)
    b = a.copy(tmp_path / "lib-b", tmp_path / "state-b", "sam")
    _ok(a)
    _ok(b)
    return a, b, case_id


def test_the_store_holds_no_name_title_or_readable_byte(two, store, seaweed):
    a, b, case_id = two
    _edit(a, case_id, "a goal")
    _ok(a)
    _ok(b)
    objects = _objects(store)
    assert any(name.startswith("h/") for name in objects)
    assert sum(name.startswith("o/") for name in objects) >= 4
    eve = X25519Identity.generate()  # not a member; she holds the store's keys
    for name, data in objects.items():
        for secret in (CANARY_NAME, CANARY_TITLE, case_id, "pat", "sam", "a goal"):
            assert secret not in name
        # a three-letter user name turns up in random ciphertext by chance (one in 2^24 per
        # byte): in the bytes it is looked for as plaintext carries it (JSON, a note's line)
        users = [f'"{u}"'.encode() for u in ("pat", "sam")]
        users += [f"\u2014 {NOTE_KEY}{u} ".encode() for u in ("pat", "sam")]
        for secret in [s.encode() for s in (CANARY_NAME, CANARY_TITLE, case_id, "a goal")] + users:
            assert secret not in data
        for item in unpack(data) if data.startswith(PACK_MAGIC) else [data]:
            assert item.startswith(b"age-encryption.org/v1\n"), name
            with pytest.raises(EncryptionError):
                b"".join(iter_decrypt(io.BytesIO(item), [eve]))
    # and not in any file of the server's own data folder
    for root, _, files in os.walk(seaweed.folder):
        for file in files:
            data = open(os.path.join(root, file), "rb").read()
            assert CANARY_NAME.encode() not in data and CANARY_TITLE.encode() not in data


def test_a_store_rolled_back_to_older_objects_is_refused_naming_the_case(two, store):
    a, b, case_id = two
    old = _objects(store)
    _edit(a, case_id, "second")
    _ok(a)
    _ok(b)  # b has now seen a's newer head
    _edit(a, case_id, "third")
    _ok(a)
    for name, data in old.items():  # the store puts back its older copy (no condition)
        store.s3.put_object(Bucket=store.location.bucket, Key=store.location.key(name), Body=data)
    report = _sync(b)
    (case,) = report.cases
    assert case.error and case_id in case.error and "rolled back" in case.error
    with b.session() as (_, sam):  # nothing was merged
        comments = [g.text for g in open_for_sync(sam, case_id).goals.all()]
        assert "third" not in comments


def test_a_store_hiding_an_object_a_head_names_is_refused(two, store):
    a, b, case_id = two
    _edit(a, case_id, "hidden soon")
    before = set(_objects(store))
    _ok(a)
    added = sorted(n for n in set(_objects(store)) - before if n.startswith("o/"))
    assert added
    store.delete(added[0])
    report = _sync(b)
    assert report.cases[0].error and case_id in report.cases[0].error


def test_a_removed_member_reads_nothing_written_after(tmp_path, store):
    a, case_id = first_laptop(tmp_path, store, members=("pat", "sam", "cat"))
    b = a.copy(tmp_path / "lib-b", tmp_path / "state-b", "sam")
    c = a.copy(tmp_path / "lib-c", tmp_path / "state-c", "cat")
    for laptop in (a, b, c, a, b):
        _ok(laptop)
    before = _objects(store)
    with c.session() as (_, cat):
        cat_keys = open_for_sync(cat, case_id).identity
    with a.session() as (_, pat):
        case = open_for_sync(pat, case_id)
        case.members.remove("cat")
        case.goals.add("after cat left")
        case.save()
    _ok(a)
    _ok(b)  # a remaining member takes the new epoch and reads on
    with b.session() as (_, sam):
        case = open_for_sync(sam, case_id)
        assert case.identity.epoch == 2
        assert "after cat left" in [g.text for g in case.goals.all()]
        assert "cat" not in case.members.names()
    report = _sync(c)
    assert report.cases[0].error and "removed" in report.cases[0].error
    new = {n: d for n, d in _objects(store).items() if before.get(n) != d}
    assert new
    for data in new.values():
        for item in unpack(data) if data.startswith(PACK_MAGIC) else [data]:
            with pytest.raises(EncryptionError):
                b"".join(iter_decrypt(io.BytesIO(item), cat_keys.identities))


def test_a_laptop_two_key_epochs_behind_catches_up(two):
    a, b, case_id = two
    with a.session() as (_, pat):
        case = open_for_sync(pat, case_id)
        case.members.add("cat")
        case.members.remove("cat")  # epoch 2
        case.members.add("cat")
        case.members.remove("cat")  # epoch 3
        case.goals.add("at epoch three")
        case.save()
    _ok(a)
    _ok(b)
    with b.session() as (_, sam):
        case = open_for_sync(sam, case_id)
        assert case.identity.epoch == 3
        assert "at epoch three" in [g.text for g in case.goals.all()]


def test_a_head_forged_in_another_members_name_is_refused(two, store):
    from videofeedback.team.heads import BATCH_GENESIS, CaseNames, Head

    a, b, case_id = two
    with b.session() as (_, sam):  # a member who holds the case key, signing as pat
        case = open_for_sync(sam, case_id)
        forged = Head(case_id, "f" * 32, 0, b"\0" * 32, 0, BATCH_GENESIS, "", 9, "pat")
        data = forged.seal(sam.keys.require_signing_key(), case.recipients)
        store.put_new(CaseNames.of(case.identity).head("f" * 32), data)
    report = _sync(a)
    error = report.cases[0].error
    assert error and case_id in error and "does not verify" in error
