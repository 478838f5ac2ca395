"""Key epochs, the key store and crypto-shredding, attacked (docs/FORMAT.md, section 10.2)."""

import shutil
from datetime import date

import pytest

from encryption import (
    NoIdentityMatchError,
    X25519Identity,
    load_identity_file,
    read_encrypted,
    write_encrypted,
)
from encryption.header import read_header
from tests.agetool import AGE, age
from videofeedback.library import Library, Role, create_case, open_case
from videofeedback.library.keyring import (
    RECIPIENT_BUCKET,
    KeysDestroyedError,
    KeyStore,
    load_case_keys,
    read_key_parts,
    upgrade_to_epochs,
)
from videofeedback.library.local_state import LocalState
from videofeedback.library.passphrases import WeakPassphraseError, load_recovery_key

needs_age = pytest.mark.skipif(AGE is None, reason="the age tool is not installed")


def _still(case, name: str) -> str:
    """A still as the media layer writes one: encrypted to the case's recipients."""
    (case.folder / "media").mkdir(exist_ok=True)
    write_encrypted(case.folder / "media" / name, b"\x89PNG a still", case.recipients)
    return name


def _age_cannot_open(identity: X25519Identity, path, tmp_path) -> bool:
    key_file = tmp_path / "kept-case-key.txt"
    key_file.write_text(str(identity) + "\n")
    try:
        age("-d", "-i", key_file, path)
    except AssertionError:
        return True
    return False


@needs_age
def test_a_removed_member_reads_nothing_written_after_removal(world, family, tmp_path):
    """dave is a member, keeps every case key he had and his own identity, is removed; a
    participant and a still are added. Neither the stock age tool nor our API opens them."""
    case, _ = family
    case.members.add("dave")
    kept = world.dave.case_identity(case.id)  # what dave copies while a member
    old_still = _still(case, "m-0000000001.age")
    assert not _age_cannot_open(kept.newest, case.folder / "case.db.age", tmp_path)

    case.members.remove("dave")
    case.participants.add("Ola", "child", age_band="0-1")
    new_still = _still(case, "m-0000000002.age")
    case.save()

    for path in (case.folder / "case.db.age", case.folder / "media" / new_still):
        for identity in kept.identities:
            assert _age_cannot_open(identity, path, tmp_path), path.name
        with pytest.raises(NoIdentityMatchError):
            read_encrypted(path, [kept, *world.dave.identities])
    with pytest.raises(NoIdentityMatchError):  # his identity no longer opens key.age
        read_encrypted(case.folder / "key.age", world.dave.identities)
    # what he already had is out of our hands (the docs say so) ...
    assert read_encrypted(case.folder / "media" / old_still, [kept]) == b"\x89PNG a still"
    # ... and current members still open old and new files
    sue_keys = world.sue.case_identity(case.id)
    assert sue_keys.epoch == kept.epoch + 1
    for name in (old_still, new_still):
        assert read_encrypted(case.folder / "media" / name, [sue_keys]) == b"\x89PNG a still"
    assert [p.name for p in open_case(world.sue, case.id).participants.all()] == ["Kasia", "Ola"]


def test_audit_entries_after_removal_use_the_new_epoch(world, family):
    case, _ = family
    case.members.add("dave")
    kept = world.dave.case_identity(case.id)
    case.members.remove("dave")
    case.goals.add("Notice the baby's cues")
    case.save()
    newest = sorted((case.folder / "audit" / "entries").iterdir())[-1]
    with pytest.raises(NoIdentityMatchError):
        read_encrypted(newest, [kept])
    again = open_case(world.bob, case.id)  # reads entries of both epochs
    again.save()
    assert again.verify_audit().valid


def test_key_file_does_not_show_the_member_count(world):
    small = create_case(world.bob, "Family S", _vig(), date(2026, 1, 5))
    large = create_case(world.bob, "Family L", _vig(), date(2026, 1, 5), ["sue", "carol", "dave"])
    counts = []
    for case in (small, large):
        with open(case.folder / "key.age", "rb") as file:
            counts.append(len(read_header(file).stanzas))
    assert counts == [RECIPIENT_BUCKET, RECIPIENT_BUCKET]
    sizes = {(c.folder / "key.age").stat().st_size for c in (small, large)}
    assert len(sizes) == 1


def _vig():
    from videofeedback.library import Programme

    return Programme.VIG


# --- purge: every copy unreadable ----------------------------------------------------------


def _purgeable_library(tmp_path):
    folder = tmp_path / "lib"
    library, admin = Library.create(
        folder, "admin", "admin-quiet-harbour-lantern", tmp_path / "recovery.age", 0
    )
    library.add_user(admin, "pat", Role.PRACTITIONER, "pat-quiet-harbour-lantern")
    pat = library.unlock("pat", "pat-quiet-harbour-lantern", sleep=lambda _: None)
    case = create_case(pat, "Family P", _vig(), date(2026, 1, 5))
    case.participants.add("Piotr", "father")
    case.save()
    recovery = load_identity_file(tmp_path / "recovery.age", library.recovery_secret).identities
    return library, admin, case, recovery


def test_purge_makes_every_copy_unreadable(tmp_path):
    """Attackers: a holder of a backup of the folder (taken as the README says: without
    keys/) plus the recovery key, and of an earlier key.age left on another inode."""
    library, admin, case, recovery = _purgeable_library(tmp_path)
    backup = tmp_path / "backup"
    shutil.copytree(library.folder, backup, ignore=shutil.ignore_patterns("keys"))
    earlier_key = (case.folder / "key.age").read_bytes()
    # before the purge the backup restores, with the live key store: the test can fail
    live = KeyStore(library.folder)
    keys = load_case_keys(backup / "cases" / case.id, case.id, live, recovery)
    assert read_encrypted(backup / "cases" / case.id / "case.db.age", [keys])

    case.close_case(date(2026, 1, 6))
    case.save()
    assert library.purge(admin, date(2026, 2, 1)) == [case.id]

    restored = backup / "cases" / case.id
    with pytest.raises(KeysDestroyedError):
        load_case_keys(restored, case.id, live, recovery)
    (restored / "key.age").write_bytes(earlier_key)
    parts = read_key_parts(restored / "key.age", recovery)  # opens, but holds only parts
    assert case.id not in live.read(recovery)
    assert not _opens_with_any_kek(parts, restored, case.id, live.read(recovery))


def _opens_with_any_kek(parts, folder, case_id, keks) -> bool:
    from videofeedback.library.keyring import CaseKeys

    for kek in keks.values():
        try:
            read_encrypted(folder / "case.db.age", [CaseKeys(case_id, kek, parts)])
            return True
        except NoIdentityMatchError:
            continue
    return False


def test_the_key_store_is_rewritten_in_place(tmp_path):
    """No earlier version of the key store is left on another inode by our writes."""
    library, admin, case, recovery = _purgeable_library(tmp_path)
    store = library.folder / "keys"
    inodes = {p.name: p.stat().st_ino for p in store.iterdir()}
    case.close_case(date(2026, 1, 6))
    case.save()
    library.purge(admin, date(2026, 2, 1))
    assert {p.name: p.stat().st_ino for p in store.iterdir()} == inodes
    for slot in store.iterdir():
        assert case.id not in read_encrypted(slot, recovery).decode()


def test_a_torn_key_store_copy_falls_back_to_the_other(tmp_path):
    library, _admin, case, recovery = _purgeable_library(tmp_path)
    slot = library.folder / "keys" / "a.age"
    slot.write_bytes(slot.read_bytes()[:100])  # a crash while copy a was written
    assert case.id in KeyStore(library.folder).read(recovery)


# --- passphrases and the recovery secret ----------------------------------------------------


@pytest.mark.parametrize("weak", ["a", "1111", "password1", "alice2026", "qwertyuiop"])
def test_weak_passphrases_are_refused_everywhere_in_the_library(tmp_path, world, weak):
    with pytest.raises(WeakPassphraseError, match="10\\^10 guesses"):
        Library.create(tmp_path / "lib", "alice", weak, tmp_path / "r.age", 30)
    assert not (tmp_path / "r.age").exists()
    with pytest.raises(WeakPassphraseError):
        world.library.add_user(world.alice, "mallory", Role.PRACTITIONER, weak)
    assert "mallory" not in world.library.manifest.users


def test_the_user_name_does_not_make_a_passphrase_strong(world):
    with pytest.raises(WeakPassphraseError):
        world.library.add_user(world.alice, "kowalczykowa", Role.PRACTITIONER, "kowalczykowa1")


def test_the_recovery_key_has_its_own_printed_secret(world):
    secret = world.library.recovery_secret
    assert len(secret.split("-")) == 8
    keys = load_recovery_key(world.recovery_path, secret.lower().replace("-", " "))
    assert str(keys.recipient) == world.library.manifest.recovery_recipient


# --- upgrading a library from before epochs -------------------------------------------------


def _make_legacy(library: Library, case) -> X25519Identity:
    """Rewrite a case as the old format had it: key.age holding one AGE-SECRET-KEY, every file
    encrypted to it, and no key store."""
    legacy = X25519Identity.generate()
    db = case.db.serialize()
    write_encrypted(case.folder / "case.db.age", db, [legacy.recipient])
    recipients = [library.recipient_of(m) for m in case.members.names()]
    recipients.append(library.recovery_recipient())
    write_encrypted(case.folder / "key.age", str(legacy).encode(), recipients)
    shutil.rmtree(library.folder / "keys")
    # a library of that age had no head of this case on this computer (format 2 began those)
    state = LocalState(library.manifest.library_id)
    state._data["heads"].pop(case.id, None)
    state._save()
    return legacy


def test_upgrade_to_epochs_in_place(tmp_path):
    library, admin, case, recovery = _purgeable_library(tmp_path)
    legacy = _make_legacy(library, case)
    assert upgrade_to_epochs(library, recovery) == [case.id]
    assert upgrade_to_epochs(library, recovery) == []  # done once
    pat = library.unlock("pat", "pat-quiet-harbour-lantern", sleep=lambda _: None)
    upgraded = open_case(pat, case.id)
    assert upgraded.identity.epoch == 2
    assert upgraded.identity.epoch_identity(1).recipient == legacy.recipient
    upgraded.participants.add("Zofia", "mother")
    upgraded.save()  # written to the fresh epoch: the old single key no longer opens it
    with pytest.raises(NoIdentityMatchError):
        read_encrypted(case.folder / "case.db.age", [legacy])
    assert [p.name for p in open_case(pat, case.id).participants.all()] == ["Piotr", "Zofia"]


def test_a_member_opening_an_old_case_upgrades_it(tmp_path):
    library, _admin, case, _recovery = _purgeable_library(tmp_path)
    _make_legacy(library, case)
    pat = library.unlock("pat", "pat-quiet-harbour-lantern", sleep=lambda _: None)
    assert open_case(pat, case.id).identity.epoch == 2
    assert KeyStore(library.folder).exists()
