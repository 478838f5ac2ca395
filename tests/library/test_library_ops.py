"""Unlocking, retention and purge, one writer at a time, killed saves, hand-over bundles."""

import os
import signal
import subprocess
import sys
import textwrap
from datetime import date, timedelta

import pytest

from tests import fast_scrypt
from tests.paths import REPO
from videofeedback.library import (
    AuthenticationError,
    Library,
    LibraryError,
    LibraryLockedError,
    PermissionDeniedError,
    Programme,
    create_case,
    export_bundle,
    open_bundle,
    open_case,
    unlock_delay,
)


def test_delay_grows_after_three_failures():
    assert [unlock_delay(n) for n in range(9)] == [0, 0, 0, 1, 2, 4, 8, 16, 30]


def test_wrong_passphrases_slow_down_and_are_audited(world):
    waits = []
    for _ in range(5):
        with pytest.raises(AuthenticationError, match="wrong passphrase for sue"):
            world.library.unlock("sue", "guess", sleep=waits.append)
    assert waits == [0, 0, 0, 1, 2]
    assert world.library.manifest.unlock_failures["sue"] == 5
    world.library.unlock("sue", "sue-quiet-harbour-lantern", sleep=waits.append)
    assert waits[-1] == 4  # the right passphrase also waits, then resets the count
    assert "sue" not in world.library.manifest.unlock_failures
    entries = world.library.audit_log().entries(world.alice.identities)
    assert sum(e.action == "unlock.failed" and e.object == "sue" for e in entries) >= 5


def test_unknown_user(world):
    with pytest.raises(AuthenticationError, match="no user 'zed'"):
        world.library.unlock("zed", "x")


def test_close_then_purge_shreds_the_key_first(world, family):
    case, _ = family
    until = case.close_case(date(2026, 6, 1))
    case.save()
    folder = case.folder
    assert case.id not in world.library.expired_cases(world.alice, until)  # not before the date
    with pytest.raises(PermissionDeniedError):
        world.library.purge(world.bob, until + timedelta(days=1))
    purged = world.library.purge(world.alice, until + timedelta(days=1))
    assert case.id in purged
    assert not folder.exists()
    assert case.id not in world.library.manifest.retention
    entries = world.library.audit_log().entries(world.alice.identities)
    assert any(e.action == "case.purge" and e.object == case.id for e in entries)


def test_a_tampered_retention_date_never_deletes(world, family):
    case, _ = family
    case.close_case(date(2026, 6, 1))
    case.save()
    world.library.manifest.retention[case.id].until = "2000-01-01"
    assert case.id not in world.library.expired_cases(world.alice, date(2026, 6, 2))
    world.library.manifest.retention[case.id].until = "2026-07-01"


def test_second_writer_gets_a_clear_error(world):
    with pytest.raises(LibraryLockedError, match="open in another videofeedback"):
        Library.open(world.library.folder)


def test_second_writer_process_gets_one_line(world):
    from tests.cli.conftest import assert_one_line_error, run_cli

    result = run_cli(
        "--library",
        world.library.folder,
        "--user",
        "bob",
        "case",
        "list",
        env={"VIDEOFEEDBACK_PASSPHRASE": "bob-quiet-harbour-lantern"},
    )
    assert_one_line_error(result, "open in another videofeedback")


KILLED_SAVE = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from videofeedback.library import Library, open_case
    folder, case_id = Path(sys.argv[1]), sys.argv[2]
    with Library.open(folder) as library:
        case = open_case(library.unlock("bob", "bob-quiet-harbour-lantern"), case_id)
        case.participants.add("Half-saved Person", "grandmother")
        real_fsync = os.fsync
        def die(fd):  # the new database is written to its temporary file: die before rename
            if os.fstat(fd).st_size > 10_000:
                os.kill(os.getpid(), signal.SIGKILL)
            real_fsync(fd)
        os.fsync = die
        case.save()
    """
)


def test_a_save_killed_half_way_leaves_the_previous_state(tmp_path):
    folder = tmp_path / "lib"
    library, alice = Library.create(folder, "alice", "alice-quiet-harbour-lantern", tmp_path / "r.age", 30)
    from videofeedback.library import Role

    library.add_user(alice, "bob", Role.PRACTITIONER, "bob-quiet-harbour-lantern")
    bob = library.unlock("bob", "bob-quiet-harbour-lantern")
    case = create_case(bob, "Family M", Programme.VIG, date.today())
    case.participants.add("Maria", "mother")
    case.save()
    library.close()

    env = {**os.environ, "PYTHONPATH": fast_scrypt.child_pythonpath(str(REPO))}
    done = subprocess.run([sys.executable, "-c", KILLED_SAVE, str(folder), case.id], env=env)
    assert done.returncode == -signal.SIGKILL
    leftovers = list(folder.rglob(".*.tmp"))
    assert leftovers, "the killed save should have left its temporary file"

    with Library.open(folder) as library:  # taking the lock removes stale temporaries
        assert not list(folder.rglob(".*.tmp"))
        again = open_case(library.unlock("bob", "bob-quiet-harbour-lantern"), case.id)
        assert [p.name for p in again.participants.all()] == ["Maria"]
        assert again.verify_audit().entries > 0


def test_bundle_for_the_supervisor(world, family, tmp_path):
    case, _ = family
    out = tmp_path / "bundle.age"
    export_bundle(case, "sue", out)
    assert b"Family K" not in out.read_bytes() and b"Kasia" not in out.read_bytes()
    bundle = open_bundle(world.sue, out)
    summary = bundle.summary()
    assert summary["label"] == "Family K" and summary["signed_by"] == "bob"
    assert summary["audit_valid"] and summary["participants"] == 1
    entries = case.audit_log().entries([case.identity])
    assert any(e.action == "export" and e.detail.get("to") == "sue" for e in entries)

    with pytest.raises(LibraryError, match="cannot be opened"):
        open_bundle(world.dave, out)  # not the recipient
    damaged = bytearray(out.read_bytes())
    damaged[-40] ^= 1
    (tmp_path / "damaged.age").write_bytes(bytes(damaged))
    with pytest.raises(LibraryError):
        open_bundle(world.sue, tmp_path / "damaged.age")


def test_social_worker_cannot_export(world, family, tmp_path):
    case, _ = family
    with pytest.raises(PermissionDeniedError):
        export_bundle(open_case(world.carol, case.id), "sue", tmp_path / "b.age")
