"""The import fast path: a file whose picture already fits the normalised form is stream-copied
(bit for bit), its sound re-encoded; anything else is re-encoded. Frames stay exact."""

import subprocess
from fractions import Fraction

import pytest

from clips.ffmpeg import ffmpeg_exe, video_encoder_args
from clips.fit import FrameScan, gops_fit, parse_frames, picture_fits, sound_fits
from clips.normalise import prepare_import
from clips.probe import parse_probe
from clips.serve import serving
from clips.synthetic import read_pattern
from tests.media.conftest import decode_frames
from tests.media.test_import_and_stills import make_variant
from videofeedback import media
from videofeedback.media import opener

PROBED = """
  Duration: 00:00:02.00, start: 0.000000, bitrate: 500 kb/s
  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive), 640x360, 400 kb/s, 30 fps, 30 tbr, 15360 tbn (default)
  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, mono, fltp, 69 kb/s (default)
"""


def picture_md5(url: str) -> str:
    done = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", url, "-map", "0:v:0", "-c", "copy", "-f", "md5", "-"],
        capture_output=True,
        check=True,
    )
    return done.stdout.decode().strip()


def test_what_fits_is_decided_by_headers_then_by_the_gops():
    info = parse_probe(PROBED)
    assert picture_fits(info) and not sound_fits(info)  # 44.1 kHz mono
    assert sound_fits(parse_probe(PROBED.replace("44100 Hz, mono", "48000 Hz, stereo")))
    for changed in ("hevc (Main)", "yuv420p10le", "1920x1080", "29.97 fps"):
        original = {
            "hevc (Main)": "h264 (High)",
            "yuv420p10le": "yuv420p(progressive)",
            "1920x1080": "640x360",
            "29.97 fps": "30 fps",
        }[changed]
        assert not picture_fits(parse_probe(PROBED.replace(original, changed))), changed
    assert gops_fit(FrameScan([Fraction(0), Fraction(1)], False), Fraction(2))
    assert not gops_fit(FrameScan([Fraction(0), Fraction(1)], True), Fraction(2))  # B-frames
    assert not gops_fit(FrameScan([Fraction(0)], False), Fraction(5))  # a 5 s GOP
    assert not gops_fit(FrameScan([Fraction(0), Fraction(3, 2)], False), Fraction(2))  # off 1 s
    assert parse_frames("n:0 pts:0 pts_time:0 ... iskey:1 type:I\nn:1 pts_time:1.5 type:B") == [
        (Fraction(0), "I"),
        (Fraction(3, 2), "B"),
    ]


def test_prepare_import_copies_the_picture_and_encodes_the_sound():
    argv, fps, size = prepare_import("in.mp4", parse_probe(PROBED), copy_picture=True)
    assert argv[argv.index("-c:v") + 1] == "copy" and "-vf" not in argv
    assert argv[argv.index("-c:a") + 1] == "aac" and argv[argv.index("-ar") + 1] == "48000"
    assert (fps, size) == (30, (640, 360))
    argv, _, _ = prepare_import("in.mp4", parse_probe(PROBED), True, copy_sound=True)
    assert argv[argv.index("-c:a") + 1] == "copy"


@pytest.mark.parametrize(
    ("sound_args", "sound"),
    [(["-ar", "48000", "-ac", "2"], "copied"), (["-ar", "44100", "-ac", "1"], "re-encoded")],
)
def test_a_fitting_file_is_copied_bit_for_bit(studio, tmp_path, sound_args, sound):
    path = make_variant(
        tmp_path, "fits.mp4", *video_encoder_args(Fraction(30)), "-c:a", "aac", *sound_args
    )
    media_id = media.import_file(studio.case, studio.session_id, path)
    studio.case.save()
    record = studio.case.media.get(media_id)
    assert (record.info["picture"], record.info["sound"]) == ("copied", sound)
    with serving(opener(studio.case, record)) as (url,):
        assert picture_md5(url) == picture_md5(str(path))
        assert "48000 Hz, stereo" in probe_text(url)
    frames = decode_frames(studio.case, media_id)
    assert [read_pattern(f) for f in frames] == list(range(60))


def probe_text(url: str) -> str:
    done = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", url], capture_output=True)
    return done.stderr.decode()


def test_b_frames_or_long_gops_are_re_encoded(studio, tmp_path):
    """Each file differs from a fitting one in that one respect only."""
    b_frames = make_variant(
        tmp_path, "b.mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-bf", "2", "-g", "30"
    )
    long_gop = tmp_path / "long-gop.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
         "-t", "5", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-bf", "0", "-g", "300",
         "-keyint_min", "300", str(long_gop)],
        check=True,
    )  # fmt: skip
    for path, frames in ((b_frames, 60), (long_gop, 150)):
        media_id = media.import_file(studio.case, studio.session_id, path)
        record = studio.case.media.get(media_id)
        assert record.info["picture"] == "re-encoded", path.name
        decoded = decode_frames(studio.case, media_id)
        assert len(decoded) == frames
        if path is b_frames:
            assert [read_pattern(f) for f in decoded] == list(range(60))
    studio.case.save()
