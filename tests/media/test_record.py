"""Recording the synthetic source: frame-exact, markers, killed and recovered, disk full."""

import os
import resource
import signal
import subprocess
import sys
import textwrap
import time
from fractions import Fraction

import numpy as np
import pytest

from clips.ffmpeg import ffmpeg_exe
from clips.frames import frame_at
from clips.probe import probe
from clips.record import Recorder, RecordOptions, prepare_record
from clips.serve import serving
from clips.synthetic import SyntheticSource, read_pattern
from encryption import AgeReader, DurableEncryptedFile, X25519Identity
from tests import fast_scrypt
from tests.media.conftest import decode_frames
from tests.paths import REPO
from videofeedback import media
from videofeedback.library import ConsentError, Purpose


def test_prepare_record_is_pure_and_fragmented():
    argv = prepare_record(SyntheticSource(), 7, RecordOptions())
    assert "pipe:7" in argv and "pipe:1" == argv[-1]
    assert "+frag_keyframe+empty_moov+default_base_moof" in argv
    assert argv[argv.index("-g") + 1] == "30" and argv[argv.index("-bf") + 1] == "0"


def test_recording_is_frame_exact_with_markers(studio):
    marks = []

    def on_start(recorder: Recorder) -> None:
        marks.append(recorder)

    statuses = []
    source = SyntheticSource(640, 360, Fraction(30))
    hooks = media.RecordHooks(on_status=statuses.append, on_start=on_start)

    import threading

    def mark_later():
        time.sleep(1.2)
        marks[0].mark()

    threading.Thread(target=mark_later).start()
    media_id, result = media.record(studio.case, studio.session_id, source, Fraction(3), hooks)
    assert result.duration == 3 and result.dropped == 0
    assert len(result.markers) == 1 and 1 <= result.markers[0] <= 2
    info = studio.case.media.get(media_id).info
    assert info["state"] == "sealed" and info["markers"] == [str(result.markers[0])]
    assert statuses and statuses[-1].frames >= 80 and statuses[-1].audio_level_db > -20
    frames = decode_frames(studio.case, media_id)
    assert [read_pattern(f) for f in frames] == list(range(90))


def test_colours_are_bt709_and_tagged(tmp_path):
    """Decoded as BT.709 (what players assume for HD) and as stills are read, the picture
    has the camera's colours."""
    identity = X25519Identity.generate()
    sink = DurableEncryptedFile(tmp_path / "rec.mp4.age", [identity.recipient])
    source = SyntheticSource(640, 360)
    Recorder(source, sink, RecordOptions(realtime=False)).record(Fraction(1))
    with serving(lambda: AgeReader(tmp_path / "rec.mp4.age", [identity])) as (url,):
        assert probe(url).main_video.transfer == "bt709"
        decoded = subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-i", url, "-frames:v", "1",
             "-vf", "scale=in_color_matrix=bt709:in_range=tv,format=bgr24",
             "-f", "rawvideo", "pipe:1"],
            capture_output=True, check=True,
        ).stdout  # fmt: skip
        still = frame_at(url, Fraction(0), Fraction(30), (640, 360))
    made = source.frame(0)
    square = (slice(150, 200), slice(20, 70))  # inside the yellow square of frame 0
    background = (slice(100, 120), slice(300, 400))
    for frame in (np.frombuffer(decoded, np.uint8).reshape(360, 640, 3), still):
        for place in (square, background):
            assert np.abs(frame[place].mean((0, 1)) - made[place].mean((0, 1))).max() <= 4


def test_no_recording_without_filming_consent(studio):
    studio.case.consent.set(studio.mother, Purpose.FILMING, False)
    try:
        with pytest.raises(ConsentError, match="withdrew consent to filming"):
            media.record(studio.case, studio.session_id, SyntheticSource(320, 180), Fraction(1))
    finally:
        studio.case.consent.set(studio.mother, Purpose.FILMING, True)


KILLED = textwrap.dedent("""
    import sys
    from fractions import Fraction
    from pathlib import Path
    from clips.synthetic import SyntheticSource
    from videofeedback import media
    from videofeedback.library import Library, open_case
    folder, case_id, session_id = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    library = Library.open(folder)
    case = open_case(library.unlock("bob", "bob-quiet-harbour-lantern"), case_id)
    print("recording", flush=True)
    media.record(case, session_id, SyntheticSource(640, 360), Fraction(60))
""")


def test_a_killed_recording_is_recovered_to_a_playable_file(own_studio):
    studio = own_studio  # it closes and reopens the library
    library = studio.library
    folder = library.folder
    library.close()  # the child takes the lock, as another process would
    try:
        env = {**os.environ, "PYTHONPATH": fast_scrypt.child_pythonpath(str(REPO))}
        child = subprocess.Popen(
            [sys.executable, "-c", KILLED, str(folder), studio.case.id, studio.session_id],
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        assert child.stdout.readline().strip() == "recording"
        time.sleep(4.5)
        child.send_signal(signal.SIGKILL)
        child.wait()
    finally:
        library._lock.acquire()
    from videofeedback.library import open_case

    case = open_case(library.unlock("bob", "bob-quiet-harbour-lantern"), studio.case.id)
    recording = [
        m
        for m in case.db.execute("SELECT id, info FROM media").fetchall()
        if '"state": "recording"' in m[1]
    ]
    assert len(recording) == 1
    result = media.recover_media(case, recording[0][0])
    case.save()
    assert 2.0 <= result["duration"] <= 4.5, result  # at most ~2 s lost
    frames = decode_frames(case, recording[0][0])
    assert [read_pattern(f) for f in frames] == list(range(len(frames)))


FULL_DISK = textwrap.dedent("""
    import resource, signal, sys
    from fractions import Fraction
    from pathlib import Path
    from clips.errors import DiskFullError
    from clips.synthetic import SyntheticSource
    from videofeedback import media
    from videofeedback.library import Library, open_case
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
    folder, case_id, session_id = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    library = Library.open(folder)
    case = open_case(library.unlock("bob", "bob-quiet-harbour-lantern"), case_id)
    resource.setrlimit(resource.RLIMIT_FSIZE, (400_000, 400_000))
    try:
        media.record(case, session_id, SyntheticSource(640, 360), Fraction(120))
    except DiskFullError as exc:
        print("DISKFULL", exc)
""")


def test_a_full_disk_stops_cleanly_and_keeps_what_was_recorded(own_studio):
    studio = own_studio  # it closes and reopens the library
    library = studio.library
    library.close()
    try:
        env = {**os.environ, "PYTHONPATH": fast_scrypt.child_pythonpath(str(REPO))}
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                FULL_DISK,
                str(library.folder),
                studio.case.id,
                studio.session_id,
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
    finally:
        library._lock.acquire()
    assert "DISKFULL" in done.stdout, done.stdout + done.stderr
    assert "were kept and sealed" in done.stdout
    from videofeedback.library import open_case

    case = open_case(library.unlock("bob", "bob-quiet-harbour-lantern"), studio.case.id)
    recovered = [
        m[0]
        for m in case.db.execute("SELECT id, info FROM media").fetchall()
        if '"state": "recovered"' in m[1]
    ]
    assert recovered
    frames = decode_frames(case, recovered[-1])
    assert len(frames) >= 30 and [read_pattern(f) for f in frames] == list(range(len(frames)))
    assert resource.getrlimit(resource.RLIMIT_FSIZE)[0] == resource.RLIM_INFINITY  # parent
