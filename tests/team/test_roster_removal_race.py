# ruff: noqa: F811  (the `team` fixture of test_discovery.py, used by name)
"""A removed administrator racing his removal (FORMAT §12.9, §10.7; attack 10 of round 3 is
in test_attacks_round3.py): a roster that removes the signer of the held one wins whatever
the serials, the office publishes hers again over one it refuses, and a removal that
removes the remover is reported (the limit). The real SeaweedFS store, real signatures."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from encryption import SigningKey
from tests.team.test_attacks_round3 import BOB
from tests.team.test_discovery import team  # noqa: F401  (the fixture)
from tests.team.test_roster_sync import _laptops, _publish_forged, _sync
from videofeedback.library.manifest import Manifest, UserRecord
from videofeedback.library.roles import Role
from videofeedback.library.roster import RosterError, check_roster, sign_roster, supersedes
from videofeedback.team.joining import fetch_package


def _bob_added_then_removed(team, office, pat):
    """bob is made administrator (pat's laptop pins him), then removed at the office; his
    signing key is what he kept. Returns it, with the package that removes him."""
    with office.session() as (library, alice):
        library.add_user(alice, "bob", Role.ADMIN, BOB)
    _sync(office)
    assert "bob" in _sync(pat)[1]
    with office.session("bob", BOB) as (_, bob):
        key = bob.keys.require_signing_key()
    with office.session() as (library, alice):
        library.remove_user(alice, "bob")
    assert _sync(office)[0].roster.startswith("published")
    return key, fetch_package(team["remote"], team["code"]).manifest


def _undone(manifest: Manifest, serial: int, remove: str = "") -> Manifest:
    forged = Manifest.from_json(manifest.to_json())
    forged.users["bob"] = dataclasses.replace(forged.users["bob"], removed="")
    forged.users["mallory"] = dataclasses.replace(forged.users["pat"], role="practitioner")
    if remove:
        forged.users[remove] = dataclasses.replace(forged.users[remove], removed="2026-12-01")
    forged.roster_serial = serial - 1  # sign_roster counts it up
    return forged


def test_a_removed_administrators_roster_of_the_same_serial_gives_way(team, tmp_path):
    """bob signs the very serial of alice's removal: the office refuses it and publishes
    hers again (a package of the same serial used to be left alone), and pat's laptop,
    which took his, takes hers: it removes him."""
    office, pat = _laptops(tmp_path)
    key, removal = _bob_added_then_removed(team, office, pat)
    _publish_forged(team, _undone(removal, removal.roster_serial), "bob", key)
    report, users = _sync(pat)
    assert report.roster.startswith("took") and "mallory" in users  # not heard of removal
    report, _ = _sync(office)
    assert report.roster.startswith("published"), report.roster
    report, users = _sync(pat)
    assert report.roster.startswith("took") and "signed by alice" in report.roster
    assert "mallory" not in users and users["bob"].removed
    _publish_forged(team, _undone(removal, 5000), "bob", key)  # and never again
    report, users = _sync(pat)
    assert "was refused" in report.roster and "removed" in report.roster, report.roster
    assert "mallory" not in users and users["bob"].removed


def test_a_removed_administrator_who_removes_his_remover_is_reported(team, tmp_path):
    """The limit: bob's roster also removes alice. A laptop that took it before alice's
    removal of bob cannot tell which of two administrators removing each other signed
    after his removal; it keeps the one it took and says so on every sync. The office
    never takes his, and publishes hers again."""
    office, pat = _laptops(tmp_path)
    key, removal = _bob_added_then_removed(team, office, pat)
    _publish_forged(team, _undone(removal, 1000, remove="alice"), "bob", key)
    _sync(pat)
    report, users = _sync(office)
    assert "was refused" in report.roster and users["bob"].removed
    assert "mallory" not in users and not users["alice"].removed
    report, users = _sync(pat)
    assert "removes bob, who signed this laptop's" in report.roster, report.roster
    assert "join the team again" in report.roster


KEYS = {name: SigningKey.generate() for name in ("a", "b")}


def _roster(serial: int, by: str, removed: tuple[str, ...] = ()) -> Manifest:
    """A roster of administrators a and b, signed by ``by`` with its real key."""
    manifest = Manifest("lib-1", "2026-01-01", "age1none")
    for name, key in KEYS.items():
        gone = "2026-06-01" if name in removed else ""
        manifest.users[name] = UserRecord(
            Role.ADMIN.value, "age1none", str(key.verify_key), "2026-01-01", gone
        )
    manifest.roster_serial = serial - 1
    sign_roster(manifest, by, KEYS[by])
    return manifest


def _pins(signed: dict[str, int]) -> dict[str, Any]:
    admins = {name: str(key.verify_key) for name, key in KEYS.items()}
    return {"admins": admins, "serial": max(signed.values()), "signed": signed}


def test_supersedes_puts_a_removal_of_the_signer_above_any_serial():
    held = _roster(1000, "b")  # b signed it, after a removed him at 7
    removal = _roster(7, "a", removed=("b",))
    assert supersedes(removal, held) and not supersedes(held, removal)
    assert supersedes(_roster(1001, "a"), held) and not supersedes(_roster(999, "a"), held)
    mutual = _roster(7, "b", removed=("a",))
    assert not supersedes(mutual, removal) and not supersedes(removal, mutual)


def test_a_removal_of_the_held_signer_is_taken_only_above_what_the_others_signed():
    """The rollback check gives way to a roster removing the held one's signer, and only
    above the serials this computer took from the administrators it keeps: the store
    cannot replay a roster of a's from before one of hers this computer took."""
    held, pins = _roster(1000, "b"), _pins({"a": 9, "b": 1000})
    taken = check_roster(_roster(10, "a", removed=("b",)), pins, held=held)
    assert taken["serial"] == 10 and list(taken["admins"]) == ["a"]
    assert taken["signed"] == {"a": 10, "b": 1000}
    with pytest.raises(RosterError, match="rolled back"):
        check_roster(_roster(9, "a", removed=("b",)), pins, held=held)
    with pytest.raises(RosterError, match="rolled back"):  # b is not removed in it
        check_roster(_roster(10, "a"), pins, held=held)
    with pytest.raises(RosterError, match="rolled back"):  # without the held roster
        check_roster(_roster(10, "a", removed=("b",)), pins)
    with pytest.raises(RosterError, match="whom the one this computer holds"):
        check_roster(_roster(2000, "b"), taken, held=_roster(10, "a", removed=("b",)))
