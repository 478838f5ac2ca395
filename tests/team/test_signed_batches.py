"""Change batches signed one by one (videofeedback/team/signed_batches.py, FORMAT §12.3):
a batch's author is its signer, not the user who signed the head that brought it. Real
SeaweedFS, real crypto."""

from __future__ import annotations

import pytest

from encryption import UserKeys
from tests.team.laptops import sync_ok as _ok
from tests.team.laptops import two_laptops_with_a_goal
from videofeedback.team.case_sync import CaseSync
from videofeedback.team.signed_batches import check_signed, sign_batch
from videofeedback.team.sync import open_for_sync

DEV = "d" * 32


def _goals(laptop, case_id):
    with laptop.session() as (_, session):
        return sorted(g.text for g in open_for_sync(session, case_id).goals.all())


def _authors(laptop, case_id, device):
    with laptop.session() as (_, session):
        engine = CaseSync(open_for_sync(session, case_id), None)
        return [b.author for b in engine.batches() if b.device == device]


def _device(laptop):
    with laptop.session() as (library, _):
        return library.local.device_id()


def test_two_users_of_one_laptop_are_each_the_author_of_their_own_batches(tmp_path, store):
    """pat and sam (a supervisor) share laptop a; sam rewrites a goal (not her role) and
    syncs, then pat adds a goal and syncs; laptop b pulls both at once. Before batches were
    signed, both were "pat's" on b (the head's signer), so sam's rewrite was merged there."""
    a, b, case_id = two_laptops_with_a_goal(tmp_path, store)
    with a.session("sam") as (_, sam):
        case = open_for_sync(sam, case_id)
        case.db.execute("UPDATE goals SET text = 'rewritten by the supervisor'")
        case.save()
    _ok(a, "sam")
    with a.session() as (_, pat):
        case = open_for_sync(pat, case_id)
        case.goals.add("pat's second goal")
        case.save()
    _ok(a)
    _ok(b)
    device = _device(a)
    assert _authors(b, case_id, device)[-2:] == ["sam", "pat"]
    assert _goals(b, case_id) == ["pat's goal", "pat's second goal"]
    assert _goals(a, case_id) == _goals(b, case_id)


def _body(author="pat", number=3, device=DEV):
    return {
        "format": "videofeedback-changes",
        "version": 2,
        "device": device,
        "number": number,
        "author": author,
        "seen": f"{DEV}:4:2",
        "ops": [],
    }


def test_a_batch_signed_by_another_user_or_moved_elsewhere_counts_nowhere():
    pat, cat = UserKeys.generate(), UserKeys.generate()
    keys = {
        "pat": pat.require_signing_key().verify_key,
        "cat": cat.require_signing_key().verify_key,
    }
    good = sign_batch(_body(), "case-1", pat.require_signing_key())
    assert check_signed(good, "case-1", DEV, 3, keys).author == "pat"
    assert check_signed(good, "case-1", DEV, 3, keys).seen == {DEV: (4, 2)}
    forged = sign_batch(_body(), "case-1", cat.require_signing_key())  # cat, saying "pat"
    assert check_signed(forged, "case-1", DEV, 3, keys).author is None
    assert check_signed(good, "case-2", DEV, 3, keys).author is None  # another case
    assert check_signed(good, "case-1", DEV, 4, keys).author is None  # another number
    assert check_signed(good, "case-1", "e" * 32, 3, keys).author is None  # another device
    edited = {**good, "ops": [{"id": "x"}]}
    assert check_signed(edited, "case-1", DEV, 3, keys).author is None


def test_an_unsigned_batch_after_signed_ones_counts_nowhere(tmp_path, store):
    """sam's patched program on pat's laptop writes an old-style unsigned batch naming pat
    (a goal rewritten: not her role); pat's next sync signs the head over it (the older rule
    made it pat's). The device already signs its batches, so it is merged nowhere."""
    from tests.team.test_review_attacks import _write_batch_as

    a, b, case_id = two_laptops_with_a_goal(tmp_path, store)
    with a.session("sam") as (_, sam):
        case = open_for_sync(sam, case_id)
        case.db.execute("UPDATE goals SET text = 'rewritten in pat''s name'")
        _write_batch_as(case, "pat")
        # only the batch: a change left in the database would be diffed and signed by
        # whoever syncs next (FORMAT §10.6, "Not guaranteed yet")
        case.db.execute("UPDATE goals SET text = 'pat''s goal'")
        case.save()
    report = _ok(a)
    assert any("not signed" in n for n in report.cases[0].notes), report.to_json()
    _ok(b)
    assert _goals(b, case_id) == ["pat's goal"]
    with b.session() as (_, cat):
        counted = CaseSync(open_for_sync(cat, case_id), None).ops()
    assert not [o for o in counted if "in pat's name" in str(o.value)]


def test_a_change_saved_offline_is_signed_by_its_author_not_by_the_next_user_who_syncs(
    tmp_path, store
):
    """sam (a supervisor) on pat's laptop rewrites a goal while the store cannot be reached;
    her sync fails, but seals her change into a batch she signs (and merges it locally: not
    her role, so it is reverted). pat syncs later from the same laptop: the rewrite is not
    in his batch, and laptop b merges nothing of it."""
    from videofeedback.team.errors import StoreUnreachableError
    from videofeedback.team.remotes import Remote, save_remote
    from videofeedback.team.store import StoreLocation
    from videofeedback.team.sync import sync_library

    a, b, case_id = two_laptops_with_a_goal(tmp_path, store)
    with a.session("sam") as (library, sam):
        save_remote(
            sam, Remote("away", StoreLocation("http://127.0.0.1:9", "team"), store._credentials)
        )
        case = open_for_sync(sam, case_id)
        case.db.execute("UPDATE goals SET text = 'rewritten offline by the supervisor'")
        case.save()
        with pytest.raises(StoreUnreachableError):
            sync_library(library, sam, "away")
    assert _goals(a, case_id) == ["pat's goal"]  # her change was sealed, and not hers to make
    _ok(a)
    _ok(b)
    assert _goals(b, case_id) == ["pat's goal"]
    assert "sam" in _authors(b, case_id, _device(a))


def test_the_apps_sync_seals_an_offline_change_too(tmp_path, store):
    """The app syncs through ``sync_status.run_sync``, which checks the store itself first:
    with the store unreachable (the indicator says "offline") it must seal the change in its
    author's name as ``sync_library`` does, or the next user's sync signs it."""
    from videofeedback.team.remotes import Remote
    from videofeedback.team.store import StoreLocation
    from videofeedback.team.sync_status import SyncState, SyncStatus, run_sync

    a, b, case_id = two_laptops_with_a_goal(tmp_path, store)
    with a.session("sam") as (library, sam):
        away = Remote("away", StoreLocation("http://127.0.0.1:9", "team"), store._credentials)
        case = open_for_sync(sam, case_id)
        case.db.execute("UPDATE goals SET text = 'rewritten offline by the supervisor'")
        case.save()
        status = SyncStatus()
        assert run_sync(library, sam, away, status) is None
        assert status.snapshot.state is SyncState.OFFLINE
    assert _goals(a, case_id) == ["pat's goal"]  # sealed as hers, and not hers to make
    _ok(a)
    _ok(b)
    assert _goals(b, case_id) == ["pat's goal"]
