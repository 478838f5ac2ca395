"""The demo library a newcomer starts with: made-up people, a synthetic recording, VIG moments.

It holds no personal data, so its passphrases may be shown on the unlock screen. It is created
once (in well under a minute: the recording is encoded faster than real time) and reused. The app
builds it in the background on first run, its window already open (``fraction`` reports how far).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

from clips.record import RecordOptions
from clips.synthetic import SyntheticSource
from encryption import atomic_file
from videofeedback import media, redaction
from videofeedback.library.annotating import open_annotations
from videofeedback.library.cases import Case, Programme, Purpose, SessionKind, create_case
from videofeedback.library.errors import LibraryError
from videofeedback.library.library import Library, UserSession
from videofeedback.library.roles import Role

MARKER = "DEMO.txt"  # beside manifest.json: tells the unlock screen to show the passphrases
ADMIN = ("admin", "admin-demo-passphrase")
USERS = {
    "pat": (Role.PRACTITIONER, "pat-demo-passphrase"),
    "sam": (Role.SUPERVISOR, "sam-demo-passphrase"),
}
RECORDING_SECONDS = 120
MOMENTS = [  # (start, end, codes, caption for the parent)
    (8, 14, ("attentive.looking",), "You were looking at her, and she knew you were there."),
    (22, 29, ("encouraging.waiting",), "You waited, and she showed you the block."),
    (41, 47, ("receiving.noticed",), "You noticed her reaching out and took her hand."),
    (58, 66, ("attuned.turn",), "You took turns: she built, you built."),
    (79, 85, ("guiding.extending",), "You showed her one more way to stack them."),
    (101, 108, ("receiving.words",), "You named what she felt: 'you did it!'"),
]


@dataclass(frozen=True)
class DemoLibrary:
    folder: Path
    passphrases: dict[str, str]  # user name → passphrase, admin included


def passphrases() -> dict[str, str]:
    return {ADMIN[0]: ADMIN[1], **{name: secret for name, (_, secret) in USERS.items()}}


def is_demo(folder: Path) -> bool:
    return (folder / MARKER).is_file()


def ensure_demo_library(
    folder: Path,
    progress: Callable[[str], None] = lambda _: None,
    fraction: Callable[[float], None] = lambda _: None,
) -> DemoLibrary:
    """The demo library at ``folder``: reused if it exists, else built beside it and moved in
    place when complete (an interrupted build leaves only its own scratch folder)."""
    if not is_demo(folder):
        if folder.exists() and any(folder.iterdir()):
            raise LibraryError(f"{folder} is not empty and is not a demo library; choose another")
        building = folder.with_name(folder.name + ".building")
        shutil.rmtree(building, ignore_errors=True)
        build_demo_library(building, progress, RECORDING_SECONDS, fraction=fraction)
        if folder.exists():
            folder.rmdir()
        building.rename(folder)
    return DemoLibrary(folder, passphrases())


def build_demo_library(
    folder: Path,
    progress: Callable[[str], None],
    seconds: int = RECORDING_SECONDS,
    source: SyntheticSource | None = None,
    fraction: Callable[[float], None] = lambda _: None,
) -> None:
    """Tests make a shorter, smaller one; the moments that do not fit are left out."""
    progress("creating the library and its users")
    recovery = folder / "demo-recovery-key.age"
    library, admin = Library.create(folder, ADMIN[0], ADMIN[1], recovery, 730)
    recovery_secret = library.recovery_secret  # a real library prints it once; a demo keeps it
    with library:
        for name, (role, secret) in USERS.items():
            library.add_user(admin, name, role, secret)
        practitioner = library.unlock("pat", USERS["pat"][1], sleep=lambda _: None)
        case = _family_case(practitioner)
        progress(f"recording a {seconds} s synthetic play session")
        session_id = case.sessions.new(
            SessionKind.RECORDING, date.today(), title="Play with blocks"
        )
        media_id, _ = media.record(
            case,
            session_id,
            source or SyntheticSource(voice=True),
            Fraction(seconds),
            media.RecordHooks(on_status=lambda status: fraction(float(status.elapsed / seconds))),
            options=RecordOptions(realtime=False),
        )
        progress("filmstrip, waveform and moments")
        media.build_overview(case, media_id)
        _code_moments(case, media_id, seconds)
        # the shared review and the family copy need the film's people found and the plan
        # reviewed (videofeedback/redacted.py); the demo's film has nobody in it
        progress("looking for people in the film (the demo's has nobody in it)")
        redaction.find_people(case, media_id)
        redaction.approve(case, media_id)
        case.save()
    with atomic_file(folder / MARKER) as marker:  # 0600, like everything in a library
        marker.write(
            (
                "A demo library: made-up people and a synthetic recording, no personal data.\n"
                + "".join(f"{user}: {secret}\n" for user, secret in passphrases().items())
                + f"recovery key ({recovery.name}) secret: {recovery_secret}\n"
            ).encode()
        )


def _family_case(practitioner: UserSession) -> Case:
    start = date.today() - timedelta(days=42)
    case = create_case(practitioner, "Family A (demo)", Programme.VIG, start, members=["sam"])
    mother = case.participants.add("Amira (demo)", "parent", language="en")
    baby = case.participants.add("Lily (demo)", "child", age_band="0-2")
    for person in (mother, baby):
        for purpose in Purpose:
            case.consent.set(person, purpose, True)
    goal = case.goals.add("Follow Lily's lead in play")
    for weeks, score in ((6, -1), (4, 0), (2, 0), (0, 1)):
        case.goals.score(goal, score, date.today() - timedelta(weeks=weeks))
    calm = case.goals.add("Stay calm when she cries")
    for weeks, score in ((6, -2), (3, -1), (0, 0)):
        case.goals.score(calm, score, date.today() - timedelta(weeks=weeks))
    case.save()
    return case


def _code_moments(case: Case, media_id: str, seconds: int) -> None:
    notes = open_annotations(case, media_id)
    for start, end, codes, caption in MOMENTS:
        if end <= seconds:
            notes.editor.add_moment(Fraction(start), Fraction(end), codes, caption)
    if seconds > 44:
        notes.editor.add_still(Fraction(44), "Her hand in yours")
    notes.save()
