import subprocess
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from clips.ffmpeg import ffmpeg_exe
from clips.record import RecordOptions
from clips.serve import serving
from videofeedback.library import Library, Programme, Purpose, Role, SessionKind, create_case

#: For a recording a test only needs to exist: its frames go to the encoder as fast as it
#: takes them instead of at the clock's pace (a 10 s recording took 10 s of waiting). The
#: tests of the pace itself record in real time (REALTIME in tests/conftest.py).
AS_FAST_AS_IT_ENCODES = RecordOptions(realtime=False)


@dataclass
class Studio:
    library: Library
    case: object
    session_id: str
    mother: str


@pytest.fixture(scope="package")
def studio(tmp_path_factory):
    """A library, case and session the package's tests share (and add media to)."""
    made = make_studio(tmp_path_factory.mktemp("media") / "lib")
    yield made
    made.library.close()


@pytest.fixture
def own_studio(tmp_path):
    """A studio of the test's own, for tests that close, kill or reopen the library."""
    made = make_studio(tmp_path / "lib")
    yield made
    made.library.close()


def make_studio(folder: Path) -> Studio:
    library, alice = Library.create(
        folder, "alice", "alice-quiet-harbour-lantern", folder.parent / "r.age", 30
    )
    library.add_user(alice, "bob", Role.PRACTITIONER, "bob-quiet-harbour-lantern")
    bob = library.unlock("bob", "bob-quiet-harbour-lantern")
    case = create_case(bob, "Family R", Programme.VIG, date.today())
    mother = case.participants.add("Rosa", "mother")
    case.consent.set(mother, Purpose.FILMING, True)
    session_id = case.sessions.new(SessionKind.RECORDING, date.today())
    case.save()
    return Studio(library, case, session_id, mother)


def decode_frames(case, media_id: str) -> np.ndarray:
    """Every frame of an encrypted recording, decoded by ffmpeg through the loopback server."""
    from videofeedback.media import opener  # Qt's GUI (captions): not for the clips-only tests

    record = case.media.get(media_id)
    width, height = int(record.info["width"]), int(record.info["height"])
    with serving(opener(case, record)) as (url,):
        done = subprocess.run(
            [
                ffmpeg_exe(),
                "-v",
                "error",
                "-i",
                url,
                "-f",
                "rawvideo",
                "-pix_fmt",
                "bgr24",
                "pipe:1",
            ],
            capture_output=True,
            timeout=300,
        )
    assert done.returncode == 0, done.stderr.decode()
    assert not done.stderr.strip(), f"decoder complained: {done.stderr.decode()[:500]}"
    return np.frombuffer(done.stdout, np.uint8).reshape(-1, height, width, 3)


def seconds(value: str) -> Fraction:
    return Fraction(value)


def media_files(case) -> set[Path]:
    folder = case.folder / "media"
    return set(folder.iterdir()) if folder.exists() else set()


def packet_times(path_or_url: object, *options: str) -> list[str]:
    """Stream, dts, pts and duration of every packet, as ffmpeg's demuxer reads them."""
    done = subprocess.run(
        [ffmpeg_exe(), "-v", "error", *options, "-i", str(path_or_url), "-map", "0",
         "-c", "copy", "-f", "framecrc", "-"],
        capture_output=True, check=True, text=True,
    )  # fmt: skip
    rows = [line.split(",") for line in done.stdout.splitlines() if not line.startswith("#")]
    return [",".join(field.strip() for field in row[:4]) for row in rows]
