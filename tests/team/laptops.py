"""Simulated laptops for the sync tests: each its own library folder and its own state
folder (VIDEOFEEDBACK_STATE_DIR, so its own device id and accepted heads), one store.

Before ``team join`` exists, the second laptop's library is a copy of the first's folder
taken after the case was created (the KEK and the members' key.age come with it); from the
copy on, the two laptops share nothing but the store.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from encryption import write_encrypted
from videofeedback.library import Library
from videofeedback.library.cases import Case, Programme, Purpose, SessionKind, create_case
from videofeedback.library.local_state import STATE_ENV
from videofeedback.library.records import MediaId
from videofeedback.team.remotes import Remote, save_remote
from videofeedback.team.store import S3Store
from videofeedback.team.sync import SyncReport, open_for_sync, sync_library

PASSPHRASES = {
    "alice": "alice-quiet-harbour-lantern",
    "pat": "pat-quiet-harbour-lantern",
    "sam": "sam-quiet-harbour-lantern",
    "cat": "cat-quiet-harbour-lantern",
}
CANARY_TITLE = "Canary-Family-Zzyzx"
CANARY_NAME = "Qwertyuiop Canaryname"


@contextlib.contextmanager
def state_dir(state: Path) -> Iterator[None]:
    """VIDEOFEEDBACK_STATE_DIR is ``state`` inside the block, and as it was after it."""
    before = os.environ.get(STATE_ENV)
    os.environ[STATE_ENV] = str(state)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(STATE_ENV, None)
        else:
            os.environ[STATE_ENV] = before


@dataclass
class Laptop:
    folder: Path
    state: Path
    user: str

    @contextlib.contextmanager
    def session(self, user: str | None = None, passphrase: str | None = None):
        """(library, session) with this laptop's state folder in force; ``passphrase``
        defaults to the user's in PASSPHRASES."""
        name = user or self.user
        with state_dir(self.state):
            library = Library.open(self.folder)
            try:
                yield (
                    library,
                    library.unlock(name, passphrase or PASSPHRASES[name], sleep=lambda _: None),
                )
            finally:
                library.close()

    def copy(self, folder: Path, state: Path, user: str) -> Laptop:
        shutil.copytree(self.folder, folder, symlinks=True)
        return Laptop(folder, state, user)


def first_laptop(tmp_path: Path, store: S3Store, members=("pat", "sam")) -> tuple[Laptop, str]:
    """alice's library with pat (practitioner), sam (supervisor), cat (practitioner); a case
    with ``members``, a participant named CANARY_NAME, titled CANARY_TITLE."""
    from videofeedback.library.roles import Role

    state = tmp_path / "state-a"
    with state_dir(state):  # this laptop's only: a later test must not inherit it
        library, alice = Library.create(
            tmp_path / "lib-a", "alice", PASSPHRASES["alice"], tmp_path / "recovery.age", 30
        )
        library.add_user(alice, "pat", Role.PRACTITIONER, PASSPHRASES["pat"])
        library.add_user(alice, "sam", Role.SUPERVISOR, PASSPHRASES["sam"])
        library.add_user(alice, "cat", Role.PRACTITIONER, PASSPHRASES["cat"])
        library.close()
    laptop = Laptop(tmp_path / "lib-a", state, members[0])
    with laptop.session() as (library, pat):
        case = create_case(pat, CANARY_TITLE, Programme.VIG, date(2026, 11, 1), members[1:])
        participant = case.participants.add(CANARY_NAME, "parent")
        for purpose in (Purpose.FILMING, Purpose.SHARED_REVIEW):
            case.consent.set(participant, purpose, True)
        case.save()
        case_id = case.id
    for user in sorted({*members, "alice"}):
        with laptop.session(user) as (_, session):
            save_remote(session, remote_of(store))
    return laptop, case_id


def two_laptops_with_a_goal(
    tmp_path: Path, store: S3Store, b_user: str = "cat"
) -> tuple[Laptop, Laptop, str]:
    """first_laptop with pat, sam and cat as members; laptop b (``b_user``) copied from it;
    pat adds "pat's goal", then a, b and a sync (each asserted ok)."""
    a, case_id = first_laptop(tmp_path, store, members=("pat", "sam", "cat"))
    b = a.copy(tmp_path / "lib-b", tmp_path / "state-b", b_user)
    with a.session() as (_, pat):
        case = open_for_sync(pat, case_id)
        case.goals.add("pat's goal")
        case.save()
    for laptop in (a, b, a):
        sync_ok(laptop)
    return a, b, case_id


def fake_recording(case: Case, notes: str = "") -> MediaId:
    """A recording session in ``case`` whose media (media/r.age) is a few encrypted bytes,
    not a video: enough for moments and for the media file to travel. Returns its media id."""
    session_id = case.sessions.new(SessionKind.RECORDING, date(2026, 11, 2), notes)
    (case.folder / "media").mkdir(mode=0o700)
    write_encrypted(case.folder / "media" / "r.age", b"not a real video", case.recipients)
    return case.media.add(session_id, "recording", "media/r.age", {"fps": "25"})


def child_env(laptop: Laptop, user: str) -> dict[str, str]:
    """The environment of a `videofeedback` child process run on ``laptop`` as ``user``:
    this process's, without its VIDEOFEEDBACK_ settings, with the laptop's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDEOFEEDBACK_")}
    env.update(
        VIDEOFEEDBACK_LIBRARY=str(laptop.folder),
        VIDEOFEEDBACK_STATE_DIR=str(laptop.state),
        VIDEOFEEDBACK_PASSPHRASE=PASSPHRASES[user],
    )
    return env


def remote_of(store: S3Store) -> Remote:
    return Remote("office", store.location, store._credentials)


def sync(laptop: Laptop, user: str | None = None) -> SyncReport:
    """One sync of every case of ``laptop`` (as ``user``) with the store named "office"."""
    with laptop.session(user) as (library, session):
        return sync_library(library, session, "office")


def sync_ok(laptop: Laptop, user: str | None = None) -> SyncReport:
    report = sync(laptop, user)
    assert report.ok, report.to_json()
    return report


def store_objects(store: S3Store) -> dict[str, bytes]:
    """Every object under the store's prefix (but the store fixture's probes), by name."""
    return {i.name: store.get(i.name) for i in store.list("") if not i.name.startswith("probe/")}
