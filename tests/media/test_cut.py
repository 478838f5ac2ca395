"""Smart cuts: the pieces, and reels whose frames are exactly the ones asked for."""

from fractions import Fraction

import pytest

from annotations import ReelItem, ReelPlan
from clips.cut import Piece, plan_pieces, prepare_piece, split_at_idrs
from clips.errors import MediaError
from clips.gops import GopError
from clips.synthetic import SyntheticSource, read_pattern
from tests.media.conftest import AS_FAST_AS_IT_ENCODES, decode_frames
from videofeedback import media
from videofeedback.library import LibraryError


def test_pieces_reencode_only_a_start_inside_a_gop():
    assert plan_pieces(17, 100, 30) == [Piece(17, 30, False), Piece(30, 100, True)]
    assert plan_pieces(30, 90, 30) == [Piece(30, 90, True)]
    assert plan_pieces(30, 45, 30) == [Piece(30, 45, True)]  # a GOP cut short still decodes
    assert plan_pieces(5, 25, 30) == [Piece(5, 25, False)]
    assert plan_pieces(29, 31, 30) == [Piece(29, 30, False), Piece(30, 31, True)]
    with pytest.raises(MediaError):
        plan_pieces(10, 10, 30)


def test_prepare_piece_is_pure():
    copy = prepare_piece("http://x/y", Piece(30, 90, True), Fraction(30))
    assert copy[copy.index("-c:v") + 1] == "copy" and "h264_mp4toannexb" in copy
    assert copy[copy.index("-frames:v") + 1] == "60"
    encode = prepare_piece("http://x/y", Piece(17, 30, False), Fraction(30))
    assert encode[encode.index("-c:v") + 1] == "libx264"
    assert encode[encode.index("-ss") + 1] == f"{16.5 / 30:.6f}"


@pytest.fixture(scope="module")
def recording(studio):
    media_id, _ = media.record(
        studio.case, studio.session_id, SyntheticSource(640, 360), Fraction(8),
        options=AS_FAST_AS_IT_ENCODES,
    )
    studio.case.save()
    return media_id


def clip(media_id: str, start_frame: int, end_frame: int) -> ReelItem:
    return ReelItem("clip", media_id, Fraction(start_frame, 30), Fraction(end_frame, 30))


@pytest.mark.parametrize(
    "spans",
    [[(17, 100)], [(30, 90)], [(0, 1)], [(5, 25), (200, 239), (61, 62)], [(89, 91), (0, 240)]],
)
def test_draft_reel_has_exactly_the_frames_asked_for(studio, recording, spans):
    plan = ReelPlan(tuple(clip(recording, a, b) for a, b in spans), fade=Fraction(0))
    reel = media.draft_reel(studio.case, studio.session_id, plan)
    frames = decode_frames(studio.case, reel)  # also: the decoder reports no error
    assert [read_pattern(f) for f in frames] == [n for a, b in spans for n in range(a, b)]
    info = studio.case.media.get(reel).info
    assert info["draft"] and Fraction(info["duration"]) == Fraction(
        sum(b - a for a, b in spans), 30
    )


def test_draft_needs_clips_of_one_shape(studio, recording):
    other, _ = media.record(studio.case, studio.session_id, SyntheticSource(320, 180), Fraction(1))
    plan = ReelPlan((clip(recording, 0, 10), clip(other, 0, 10)), fade=Fraction(0))
    with pytest.raises(LibraryError, match="different sizes"):
        media.draft_reel(studio.case, studio.session_id, plan)
    studio.case.save()


def test_whole_gops_are_read_from_the_recording_not_by_ffmpeg(studio, recording, monkeypatch):
    """The draft's GOPs come from the GOP index, the last one cut short; ffmpeg only re-encodes
    the partial GOP at the start, fed from the index too (never a seek of its own); the sound
    is copied; the file is written by clips.muxer."""
    import clips.cut

    asked, batches, encoded, muxed = [], [], [], []
    real_partials = clips.cut.prepare_partials
    monkeypatch.setattr(clips.cut, "prepare_piece", lambda *a: asked.append(a))
    monkeypatch.setattr(
        clips.cut,
        "prepare_partials",
        lambda keep, fps: batches.append(keep) or real_partials(keep, fps),
    )
    monkeypatch.setattr(clips.cut, "prepare_sound", lambda *a: encoded.append(a))
    monkeypatch.setattr(clips.cut, "_mux", lambda *a: muxed.append(a))
    plan = ReelPlan((clip(recording, 17, 200),), fade=Fraction(0))
    reel = media.draft_reel(studio.case, studio.session_id, plan)
    assert asked == [] and encoded == [] and muxed == []  # written by clips.muxer
    assert batches == [[(17, 29)]]  # frames 17-29 of GOP 0; 180-199 are copied
    frames = decode_frames(studio.case, reel)
    assert [read_pattern(f) for f in frames] == list(range(17, 200))


def test_ffmpeg_muxes_the_draft_when_clips_muxer_cannot(studio, recording, monkeypatch):
    import clips.cut

    def refuse(*_):
        raise GopError("refused for the test")

    monkeypatch.setattr(clips.cut, "fragmented_mp4", refuse)
    spans = [(17, 100), (5, 40)]
    plan = ReelPlan(tuple(clip(recording, a, b) for a, b in spans), fade=Fraction(0))
    reel = media.draft_reel(studio.case, studio.session_id, plan)
    frames = decode_frames(studio.case, reel)
    assert [read_pattern(f) for f in frames] == [n for a, b in spans for n in range(a, b)]


def test_split_at_idrs():
    sps, pps, idr, p = (b"\x00\x00\x00\x01" + bytes([t]) + b"x" for t in (0x67, 0x68, 0x65, 0x41))
    stream = sps + pps + idr + p + sps + pps + idr
    assert split_at_idrs(stream) == [sps + pps + idr + p, sps + pps + idr]
    with pytest.raises(GopError):
        split_at_idrs(p + sps)


def test_gop_index_of_a_recording(studio, recording):
    import subprocess

    import numpy as np

    from clips.ffmpeg import ffmpeg_exe
    from clips.gops import GopError, index_gops
    from encryption import AgeReader

    record = studio.case.media.get(recording)
    with AgeReader(studio.case.folder / record.file, [studio.case.identity]) as reader:
        index = index_gops(reader, reader.size())
        assert len(index.samples) == 240
        assert [i for i, s in enumerate(index.samples) if s.key] == list(range(0, 240, 30))
        annex_b = index.annex_b(reader, 30, 90, Fraction(30))
        with pytest.raises(GopError, match="not whole GOPs"):
            index.annex_b(reader, 31, 90, Fraction(30))
    done = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "h264", "-i", "pipe:0", "-f", "rawvideo",
         "-pix_fmt", "bgr24", "pipe:1"],
        input=annex_b,
        capture_output=True,
        check=True,
    )  # fmt: skip
    assert done.stderr == b""
    frames = np.frombuffer(done.stdout, np.uint8).reshape(-1, 360, 640, 3)
    assert [read_pattern(f) for f in frames] == list(range(30, 90))


def test_a_cancelled_draft_leaves_nothing(studio, recording):
    from clips.errors import CancelledError
    from clips.ffmpeg import Cancel
    from tests.media.conftest import media_files

    cancel = Cancel()
    before = media_files(studio.case)
    plan = ReelPlan((clip(recording, 17, 200), clip(recording, 5, 70)), fade=Fraction(0))
    with pytest.raises(CancelledError):
        media.draft_reel(
            studio.case, studio.session_id, plan, progress=lambda _: cancel.cancel(), cancel=cancel
        )
    assert media_files(studio.case) == before


def test_the_index_reads_only_the_fragments_around_the_clips(studio, recording):
    """Through the mfra: a cut's index costs the same however long the recording."""
    import io

    from clips.gops import GopError, index_spans
    from encryption import AgeReader

    record = studio.case.media.get(recording)
    with AgeReader(studio.case.folder / record.file, [studio.case.identity]) as reader:
        whole = reader.read()
        index = index_spans(reader, reader.size(), [(Fraction(3), Fraction(4))])
        frames = index.table.times * 30 // index.track.timescale
        assert frames[0] <= 60 and frames[-1] >= 149 and len(frames) < 240
        assert list(frames) == list(range(frames[0], frames[-1] + 1))
        assert index.annex_b(reader, 90, 120, Fraction(30)).startswith(b"\x00\x00\x00\x01")
        assert len(index.sound_table) and len(index.sound_table) < 8 * 48_000 / 1024
    recovered = io.BytesIO(whole[: len(whole) // 2])  # no mfra, as after a crash
    with pytest.raises(GopError, match="no mfra"):
        index_spans(recovered, len(whole) // 2, [(Fraction(1), Fraction(2))])


def test_a_track_run_with_only_default_sample_values():
    """Other muxers may leave every per-sample field to the defaults in the tfhd/trex."""
    import struct

    from clips.boxes import Box
    from clips.gops import _read_trun

    run_box = bytes(8) + bytes([0, 0, 0, 1]) + struct.pack(">Ii", 3, 50)  # data offset only
    tables = []
    trun = Box(run_box, b"trun", 0, 8, len(run_box))
    end = _read_trun(trun, 1000, 0, (512, 100, 0), tables)
    assert end == 1536 and list(tables[0].times) == [0, 512, 1024]
    assert list(tables[0].offsets) == [1050, 1150, 1250] and all(tables[0].keys)
