"""Filmstrip and waveform: one pass each, cached encrypted, right times and levels."""

from fractions import Fraction

import cv2
import numpy as np

from clips.overview import Filmstrip, Peaks, prepare_filmstrip
from clips.synthetic import SyntheticSource, read_pattern
from tests.media.conftest import AS_FAST_AS_IT_ENCODES
from tests.paths import media_file
from videofeedback import media


def test_prepare_filmstrip_decodes_keyframes_only():
    argv = prepare_filmstrip("http://x/y", Fraction(2), 160)
    assert argv[argv.index("-skip_frame") + 1] == "nokey" and "scale=160:-2" in " ".join(argv)
    assert argv[argv.index("-discard") + 1] == "nokey"  # the other frames are not even read


def test_overview_of_a_recording(studio):
    media_id, _ = media.record(
        studio.case, studio.session_id, SyntheticSource(640, 360), Fraction(9),
        options=AS_FAST_AS_IT_ENCODES,
    )
    summary = media.build_overview(studio.case, media_id, Fraction(2))
    assert summary["thumbnails"] == 5  # at 0, 2, 4, 6, 8 s
    strip, levels = media.load_overview(studio.case, media_id)
    assert (strip.width, strip.height) == (160, 90)
    for k, png in enumerate(strip.thumbnails):
        image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
        assert read_pattern(image) == k * 2 * 30
    assert abs(len(levels.minimum) - 9 * 50) <= 3  # AAC pads the last frame
    tone = levels.maximum[50:400]  # the tone is 0.3 of full scale, mono→stereo→mono: ×1/√2
    assert 0.18 * 32767 < tone.mean() < 0.25 * 32767
    assert levels.minimum[50:400].mean() < -0.18 * 32767
    info = studio.case.media.get(media_id).info
    for name in ("filmstrip", "peaks"):
        assert (studio.case.folder / info["overview"][name]).read_bytes().startswith(b"age-")
    studio.case.save()


def test_silent_import_has_flat_peaks(studio):
    media_id = media.import_file(
        studio.case, studio.session_id, media_file("pixel_motionphoto_2hevc_tracks_vfr_noaudio.mp4")
    )
    strip, levels = media.load_overview(studio.case, media_id)
    assert len(strip.thumbnails) == 2 and strip.height > strip.width  # portrait
    assert np.abs(levels.maximum).max() < 50
    studio.case.save()


def test_caches_round_trip():
    strip = Filmstrip(Fraction(2), 4, 2, [b"a", b"bcd"])
    assert Filmstrip.from_bytes(strip.to_bytes()) == strip
    peaks = Peaks(50, np.array([-3, -1], np.int16), np.array([4, 2], np.int16))
    back = Peaks.from_bytes(peaks.to_bytes())
    assert back.buckets_per_second == 50 and back.maximum.tolist() == [4, 2]
