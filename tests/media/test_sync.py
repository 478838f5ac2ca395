"""The sync check: measures zero drift on a recording, and a known shift when there is one."""

import io
import subprocess
from fractions import Fraction

import pytest

import clips.cut
from clips.cut import Clip, render_clips
from clips.ffmpeg import OWN_MEDIA, ffmpeg_exe, run
from clips.gops import GopError
from clips.record import Recorder, RecordOptions
from clips.reel_render import RenderItem, prepare_reel
from clips.serve import serving
from clips.sync import _starts, measure, prepare_keyframe_bands
from clips.synthetic import SyntheticSource
from encryption import AgeReader, DurableEncryptedFile, X25519Identity
from tests.media.conftest import packet_times
from videofeedback import media

SIZE = (640, 360)


@pytest.fixture(scope="module")
def ticking(tmp_path_factory):
    """An encrypted 8 s recording of the ticking synthetic source, made as fast as possible."""
    folder = tmp_path_factory.mktemp("sync")
    identity = X25519Identity.generate()
    sink = DurableEncryptedFile(folder / "rec.mp4.age", [identity.recipient])
    source = SyntheticSource(*SIZE, ticks=True)
    Recorder(source, sink, RecordOptions(realtime=False)).record(Fraction(8))
    return folder, lambda: AgeReader(folder / "rec.mp4.age", [identity])


def test_ticks_beep_at_whole_seconds_only():
    source = SyntheticSource(*SIZE, ticks=True)
    import numpy as np

    second = np.frombuffer(source.audio(48_000 - 100, 48_000), "<i2")
    loud = np.flatnonzero(np.abs(second) > 1000)
    assert loud[0] >= 100 and loud[-1] < 100 + 2400  # 50 ms from the whole second


def test_starts_need_quiet_before():
    import numpy as np

    loud = np.zeros(2000, bool)
    loud[500:550] = loud[560:600] = loud[1500:1550] = True
    assert _starts(loud) == [500, 1500]  # 560 follows too soon after a beep


def test_prepare_keyframe_bands_is_pure():
    argv = prepare_keyframe_bands("http://x/1", (1280, 720))
    assert argv[argv.index("-skip_frame") + 1] == "nokey"
    assert "crop=1280:57:0:0,scale=320:16,showinfo" in argv


def test_a_recording_is_in_sync(ticking):
    _, opener = ticking
    with serving(opener) as (url,):
        report = measure(url, SIZE, Fraction(30))
    assert report.seconds == list(range(1, 8))
    assert report.worst_ms < 5, report.summary()


def test_a_shifted_sound_is_measured(ticking):
    folder, opener = ticking
    shifted = folder / "shifted.mp4"
    with serving(opener) as (url,):
        subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-i", url, "-map", "0:v", "-map", "0:a",
             "-c:v", "copy", "-af", "adelay=120:all=1", "-c:a", "aac", "-y", str(shifted)],
            check=True,
        )  # fmt: skip
    report = measure(str(shifted), SIZE, Fraction(30))
    assert len(report.seconds) >= 6
    assert all(115 < d < 125 for d in report.drift_ms), report.summary()


@pytest.mark.parametrize("copied", [True, False], ids=["sound copied", "sound encoded"])
def test_a_draft_reel_keeps_sound_with_picture(ticking, monkeypatch, copied):
    """Each clip's sound starts with its picture, however many clips came before. The
    recordings' own sound packets are copied (within half a packet, 10.7 ms); when they
    cannot be, the sound is joined and encoded once, its AAC priming trimmed (exact)."""
    if not copied:
        monkeypatch.setattr(clips.cut, "copied_sound", fail_to_copy)
    _, opener = ticking
    out = io.BytesIO()
    with serving(opener) as (url,):
        spans = [(10, 70), (75, 140), (35, 200), (5, 90)]
        render_clips([Clip(url, a, b, open=opener) for a, b in spans], Fraction(30), out.write)
    with serving(lambda: io.BytesIO(out.getvalue())) as (url,):
        report = measure(url, SIZE, Fraction(30))
    assert len(report.seconds) >= 8, report.summary()
    assert report.worst_ms < (11 if copied else 2), report.drift_ms


def fail_to_copy(*args):
    raise GopError("as if the sound could not be copied")


def test_a_full_reel_keeps_sound_with_picture(ticking):
    """The rendered reel's sound stays with its picture from clip to clip, from its first
    second (the clips are read with their mfra, whose sound times the recorder corrects; the
    reel's own AAC priming is trimmed)."""
    _, opener = ticking
    out = io.BytesIO()
    with serving(opener) as (url,):
        items = [
            RenderItem("clip", url, Fraction(2), Fraction(a, 30), Fraction(2))
            for a in (20, 95, 130)
        ]
        run(prepare_reel(items, SIZE, Fraction(30), Fraction(0)), sink=out.write)
    with serving(lambda: io.BytesIO(out.getvalue())) as (url,):
        report = measure(url, SIZE, Fraction(30), keyframes_only=False)
    assert len(report.seconds) >= 5, report.summary()
    assert report.worst_ms < 2, report.drift_ms


@pytest.mark.parametrize("picture", [["-c:v", "copy"], ["-c:v", "libx264", "-bf", "2"]])
def test_an_import_keeps_sound_with_picture(ticking, studio, tmp_path, picture):
    """A phone-like file (44.1 kHz mono sound; B-frames or not) is as in sync once imported."""
    _, opener = ticking
    phone = tmp_path / "phone.mp4"
    with serving(opener) as (url,):
        subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-i", url, *picture,
             "-c:a", "aac", "-ar", "44100", "-ac", "1", str(phone)],
            check=True,
        )  # fmt: skip
    media_id = media.import_file(studio.case, studio.session_id, phone)
    with serving(media.opener(studio.case, studio.case.media.get(media_id))) as (url,):
        report = measure(url, SIZE, Fraction(30))
        assert packet_times(url, *OWN_MEDIA) == packet_times(url)  # its mfra is right too
    assert len(report.seconds) >= 6, report.summary()
    assert report.worst_ms < 5, report.drift_ms
