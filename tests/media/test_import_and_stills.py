"""Import of real phone/camera files and generated variants; exact stills; family copies;
and after it all, no plaintext media anywhere."""

import subprocess
from fractions import Fraction
from pathlib import Path

import pytest

from clips.errors import UnreadableMediaError
from clips.ffmpeg import ffmpeg_exe
from clips.normalise import output_rate, output_size, prepare_import
from clips.probe import parse_probe
from clips.synthetic import SyntheticSource, read_pattern
from tests import plaintext
from tests.media.conftest import AS_FAST_AS_IT_ENCODES, decode_frames, media_files
from tests.paths import DATA, media_file, real_media_names
from videofeedback import media, redaction
from videofeedback.redaction import ReviewPendingError

REAL = real_media_names()
EXPECTED_PORTRAIT = {
    "iphone_hevc10_dolbyvision_hlg_portrait_vfr_editlist.mp4",
    "android12_h264_4k60_portrait.mp4",
    "ipadmini_hevc_portrait_mono44k.mov",
    "iphone14pro_hevc10_dolbyvision_hlg_portrait.MOV",
    "pixel_motionphoto_2hevc_tracks_vfr_noaudio.mp4",
}


def test_output_choices():
    assert output_rate(Fraction(2997, 100)) == 30 and output_rate(Fraction(50)) == 25
    assert output_size(3840, 2160) == (1280, 720) and output_size(1080, 1920) == (720, 1280)
    assert output_size(176, 144) == (176, 144)


def test_prepare_import_maps_the_main_stream_and_adds_silence(tmp_path):
    text = "/corpus/pixel_motionphoto_2hevc_tracks_vfr_noaudio.mp4"  # only its text is used
    info = parse_probe(
        "  Duration: 00:00:02.10, start: 0.000000\n"
        "  Stream #0:0[0x1](eng): Video: hevc (Main), yuvj420p(pc), 1024x768, 27.61 fps, 120 tbr\n"
        "    Side data:\n      Display Matrix: rotation of -90.00 degrees\n"
        "  Stream #0:1[0x2](eng): Video: hevc (Main), yuvj420p(pc), 2048x1536, 2.14 fps, 2.14 tbr\n"
    )
    argv, fps, size = prepare_import(text, info)
    assert argv[argv.index("-map") + 1] == "0:0" and "anullsrc=r=48000:cl=stereo" in argv
    assert size == (720, 960) and fps == 30 and argv[-1] == "pipe:1"


@pytest.mark.parametrize("name", REAL)
def test_every_real_file_imports(studio, name):
    path = media_file(name)
    before = path.read_bytes()
    media_id = media.import_file(studio.case, studio.session_id, path)
    studio.case.save()
    info = studio.case.media.get(media_id).info
    frames = decode_frames(studio.case, media_id)
    assert len(frames) == round(Fraction(info["duration"]) * Fraction(info["fps"]))
    assert len(frames) >= 2
    assert (info["height"] > info["width"]) == (path.name in EXPECTED_PORTRAIT)
    assert path.read_bytes() == before, "the original must never change"


def test_damaged_file_is_refused_and_leaves_nothing(studio):
    before = media_files(studio.case)
    with pytest.raises(UnreadableMediaError, match="not a video|damaged"):
        media.import_file(studio.case, studio.session_id, DATA / "MANIFEST.md")
    assert media_files(studio.case) == before
    truncated = media_file("truncated_panasonic_ag_hmc151.mts")  # GPL: from the corpus
    with pytest.raises(UnreadableMediaError, match="no picture could be decoded"):
        media.import_file(studio.case, studio.session_id, truncated)
    assert media_files(studio.case) == before


def make_variant(folder: Path, name: str, *args: str, audio: bool = True) -> Path:
    """A short synthetic film with the frame-number pattern, made with ffmpeg."""
    source = SyntheticSource(640, 360, Fraction(30))
    raw = b"".join(source.frame(n).tobytes() for n in range(60))
    out = folder / name
    argv = [
        ffmpeg_exe(),
        "-v",
        "error",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "bgr24",
        "-s",
        "640x360",
        "-framerate",
        "30",
        "-i",
        "pipe:0",
    ]
    if audio:
        argv += ["-f", "lavfi", "-i", "sine=f=440:sample_rate=44100:duration=2", "-shortest"]
    subprocess.run([*argv, *args, str(out)], input=raw, check=True)
    return out


@pytest.mark.parametrize(
    ("name", "args", "audio", "check"),
    [
        ("rotated.mp4", ["-c:v", "libx264"], True, "portrait"),
        (
            "vfr.mkv",
            [
                "-c:v",
                "libx264",
                "-vf",
                "setpts='if(eq(mod(N,3),0),PTS+0.01/TB,PTS)'",
                "-fps_mode",
                "vfr",
            ],
            True,
            "count",
        ),
        ("silent.mp4", ["-c:v", "libx264"], False, "count"),
        ("old.avi", ["-c:v", "mjpeg", "-q:v", "3"], True, "count"),
        ("web.webm", ["-c:v", "libvpx", "-b:v", "1M"], False, "count"),
        ("dvd.mpg", ["-c:v", "mpeg2video", "-q:v", "2"], True, "count"),
    ],
)
def test_generated_variants(studio, tmp_path, name, args, audio, check):
    try:
        path = make_variant(tmp_path, name, *args, audio=audio)
    except subprocess.CalledProcessError:
        pytest.skip(f"this ffmpeg build cannot write {name}")
    if check == "portrait":  # a phone held upright: same pixels, a display matrix of 90°
        rotated = tmp_path / f"r-{name}"
        subprocess.run(
            [
                ffmpeg_exe(),
                "-v",
                "error",
                "-display_rotation",
                "90",
                "-i",
                str(path),
                "-c",
                "copy",
                str(rotated),
            ],
            check=True,
        )
        path = rotated
    media_id = media.import_file(studio.case, studio.session_id, path)
    studio.case.save()
    info = studio.case.media.get(media_id).info
    frames = decode_frames(studio.case, media_id)
    if check == "portrait":
        assert (info["width"], info["height"]) == (360, 640)
    else:
        assert 55 <= len(frames) <= 62
        numbers = [read_pattern(f) for f in frames]
        assert numbers[0] == 0 and numbers == sorted(numbers)  # in order, none invented


def test_still_is_the_exact_frame(studio):
    media_id, _ = media.record(
        studio.case, studio.session_id, SyntheticSource(640, 360), Fraction(3),
        options=AS_FAST_AS_IT_ENCODES,
    )
    for at, expected in (
        (Fraction(0), 0),
        (Fraction(1), 30),
        (Fraction(2.51), 75),
        (Fraction(89, 30), 89),
    ):
        still_id = media.still(studio.case, media_id, at)
        record = studio.case.media.get(still_id)
        import cv2
        import numpy as np

        from encryption import read_encrypted

        png = read_encrypted(studio.case.folder / record.file, [studio.case.identity])
        image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
        assert read_pattern(image) == expected == record.info["frame"]
    studio.case.save()


def test_family_copy_is_redacted_only_after_review_and_is_audited(studio, tmp_path):
    media_id, _ = media.record(
        studio.case, studio.session_id, SyntheticSource(320, 180), Fraction(1),
        options=AS_FAST_AS_IT_ENCODES,
    )
    out = tmp_path / "for-the-family.mp4"
    with pytest.raises(ReviewPendingError, match="people find"):
        media.export_for_family(studio.case, media_id, out)  # nobody looked for people yet
    assert not out.exists()
    redaction.find_people(studio.case, media_id)
    with pytest.raises(ReviewPendingError, match="not been reviewed"):
        media.export_for_family(studio.case, media_id, out)
    assert not out.exists()
    redaction.approve(studio.case, media_id)
    media.export_for_family(studio.case, media_id, out)
    assert out.read_bytes()[4:8] == b"ftyp"
    entries = studio.case.audit_log().entries([studio.case.identity])
    done = entries[-1]
    assert done.action == "media.export" and done.detail["to"] == "family-copy"
    assert done.detail["redacted"] == "yes"
    out.unlink()
    studio.case.save()


def test_no_plaintext_media_in_the_library(studio):
    """After recording, importing and stills: every stored file is age ciphertext."""
    files = [p for p in studio.library.folder.rglob("*") if p.is_file()]
    assert len(files) > 20
    for path in files:
        data = path.read_bytes()
        if path.name == "manifest.json":
            continue
        assert data.startswith(b"age-encryption.org/v1\n"), path
        for marker in (*plaintext.MEDIA, *plaintext.names("Rosa", "Family R")):
            assert marker not in data, f"{marker!r} in {path}"


def test_cancelled_import_leaves_nothing(studio):
    """Cancel as soon as progress starts: a clear error, no file, no record."""
    from clips.errors import CancelledError
    from clips.ffmpeg import Cancel

    gopro = media_file("gopro_max_heromode_gpmf.mp4")
    cancel = Cancel()
    before = media_files(studio.case)
    rows = studio.case.db.execute("SELECT count(*) FROM media").fetchone()[0]
    with pytest.raises(CancelledError, match="cancelled"):
        media.import_file(
            studio.case,
            studio.session_id,
            gopro,
            progress=lambda share: cancel.cancel(),
            cancel=cancel,
        )
    assert media_files(studio.case) == before
    assert studio.case.db.execute("SELECT count(*) FROM media").fetchone()[0] == rows


def test_still_with_a_caption_in_bengali(studio, qt_gui):
    import cv2
    import numpy as np

    from encryption import read_encrypted

    media_id, _ = media.record(
        studio.case, studio.session_id, SyntheticSource(640, 360), Fraction(1),
        options=AS_FAST_AS_IT_ENCODES,
    )

    def decoded(still_id):
        record = studio.case.media.get(still_id)
        png = read_encrypted(studio.case.folder / record.file, [studio.case.identity])
        return cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR), record.info

    plain, _ = decoded(media.still(studio.case, media_id, Fraction(1, 2)))
    captioned, info = decoded(media.still(studio.case, media_id, Fraction(1, 2), "তুমি অপেক্ষা করেছ"))
    assert info["caption"] and read_pattern(captioned) == read_pattern(plain) == 15
    band = slice(240, 350)
    assert (np.abs(captioned[band].astype(int) - plain[band]).sum(axis=2) > 60).sum() > 3000
    assert (captioned[:200] == plain[:200]).all()  # only the lower third changes
    studio.case.save()


HLG_LINE = (
    "  Stream #0:0: Video: hevc (Main 10), yuv420p10le(tv, bt2020nc/bt2020/{}), 1920x1080, 30 fps"
)


def test_hdr_is_recognised_and_tone_mapped():
    for transfer, hdr in (("arib-std-b67", True), ("smpte2084", True), ("bt709", False)):
        info = parse_probe(HLG_LINE.format(transfer))
        assert info.main_video is not None and info.main_video.hdr is hdr, transfer
        argv, _, _ = prepare_import("in.mp4", info)
        assert ("tonemap=tonemap=hable" in argv[argv.index("-vf") + 1]) is hdr
        assert ("-color_trc" in argv) is hdr
    sdr = parse_probe(HLG_LINE.replace("(tv, bt2020nc/bt2020/{})", "(tv, bt709, progressive)"))
    assert sdr.main_video is not None and sdr.main_video.transfer == "bt709"
    plain = parse_probe(HLG_LINE.replace("(tv, bt2020nc/bt2020/{})", "(progressive)"))
    assert plain.main_video is not None and plain.main_video.transfer == ""


def test_an_hlg_phone_film_keeps_its_colours(studio):
    """Android's HLG test film shows a colour chart. Without tone mapping its patches come out
    grey and washed out (mean chroma ~120 of 255); mapped, they are vivid (~190)."""
    media_id = media.import_file(
        studio.case, studio.session_id, media_file("android14_hevc10_hlg.mp4")
    )
    studio.case.save()
    info = studio.case.media.get(media_id).info
    assert info["colour"] == "HLG tone-mapped to SDR"
    frame = decode_frames(studio.case, media_id)[0].astype(int)  # 1280×720, BGR
    patches = {"red": (524, 414), "blue": (200, 414), "green": (360, 414),
               "yellow": (680, 414), "orange": (200, 250), "white": (190, 570)}  # fmt: skip
    chroma = {}
    for name, (x, y) in patches.items():
        colour = frame[y - 10 : y + 10, x - 10 : x + 10].reshape(-1, 3).mean(axis=0)
        chroma[name] = colour.max() - colour.min()
    vivid = [chroma[n] for n in ("red", "blue", "green", "yellow", "orange")]
    assert sum(vivid) / len(vivid) > 160, chroma
    assert chroma["white"] < 30, chroma
