from dataclasses import dataclass
from datetime import date

import pytest

from videofeedback.library import Library, Programme, Purpose, Role, UserSession, create_case


@dataclass
class World:
    library: Library
    alice: UserSession  # admin
    bob: UserSession  # practitioner, creates cases
    sue: UserSession  # supervisor
    carol: UserSession  # social worker
    dave: UserSession  # practitioner who is a member of nothing
    recovery_path: object


@pytest.fixture(scope="package")
def world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("library") / "lib"
    recovery = folder.parent / "recovery.age"
    library, alice = Library.create(folder, "alice", "alice-quiet-harbour-lantern", recovery, retention_days=30)
    for name, role in (
        ("bob", Role.PRACTITIONER),
        ("sue", Role.SUPERVISOR),
        ("carol", Role.SOCIAL_WORKER),
        ("dave", Role.PRACTITIONER),
    ):
        library.add_user(alice, name, role, f"{name}-quiet-harbour-lantern")
    sessions = {n: library.unlock(n, f"{n}-quiet-harbour-lantern") for n in ("bob", "sue", "carol", "dave")}
    yield World(library, alice, recovery_path=recovery, **sessions)
    library.close()


@pytest.fixture
def family(world):
    """A fresh case by bob, supervised by sue, with carol; a mother who consented to filming."""
    case = create_case(world.bob, "Family K", Programme.VIG, date(2026, 1, 5), ["sue", "carol"])
    mother = case.participants.add("Kasia", "mother", language="pl")
    case.consent.set(mother, Purpose.FILMING, True)
    case.save()
    return case, mother
