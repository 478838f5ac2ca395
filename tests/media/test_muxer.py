"""clips.muxer: Annex B into frames, ADTS into packets, and a fragmented MP4 that ffmpeg
decodes without error and that the GOP index reads back, through every moof and through the
mfra."""

import bisect
import io
import struct
import subprocess
from fractions import Fraction

import pytest

from clips.ffmpeg import AAC_PRIMING_TRIM, ffmpeg_exe, video_encoder_args
from clips.gops import GopError, SoundTrack, adts_header, index_gops, index_spans
from clips.muxer import Frame, access_units, adts_packets, fragmented_mp4
from clips.record import FRAGMENTED_MP4

SPS, PPS, SEI = b"\x67\x64\x00\x1f\xac", b"\x68\xee\x3c\xb0", b"\x06\x05\x01\x80"
IDR, P, P_SECOND_SLICE = b"\x65\x88\x84\x21", b"\x41\x9a\x02", b"\x41\x40\x7f"
AUD = b"\x09\xf0"
LONG, SHORT = b"\x00\x00\x00\x01", b"\x00\x00\x01"


def prefixed(*nals: bytes) -> bytes:
    return b"".join(struct.pack(">I", len(n)) + n for n in nals)


def test_access_units_split_at_first_slices_and_parameter_sets():
    stream = (
        LONG + AUD + LONG + SPS + LONG + PPS + LONG + SEI + LONG + IDR + b"\x00"  # trailing zero
        + SHORT + AUD + SHORT + P + SHORT + P_SECOND_SLICE  # one frame, two slices
        + LONG + P
        + LONG + SPS + LONG + PPS + SHORT + IDR
    )  # fmt: skip
    assert access_units(stream) == [
        Frame(prefixed(SPS, PPS, SEI, IDR), True),
        Frame(prefixed(P, P_SECOND_SLICE), False),
        Frame(prefixed(P), False),
        Frame(prefixed(SPS, PPS, IDR), True),
    ]
    with pytest.raises(GopError, match="without a slice"):
        access_units(LONG + IDR + LONG + SPS)


def test_adts_packets_are_checked_against_the_sample_entry():
    sound = SoundTrack(2, 48_000)
    packets = [b"\x21\x10" * n for n in (3, 1, 40)]
    stream = b"".join(adts_header(sound, len(p)) + p for p in packets)
    assert adts_packets(stream, sound) == packets
    crc = bytearray(adts_header(sound, len(packets[0]) + 2))
    crc[1] &= 0xFE  # protection_absent = 0: a 2-byte CRC follows the header
    assert adts_packets(bytes(crc) + b"\xab\xcd" + packets[0], sound) == packets[:1]
    with pytest.raises(GopError, match="differs"):
        adts_packets(stream, SoundTrack(2, 48_000, channels=1))
    with pytest.raises(GopError, match="cut short"):
        adts_packets(stream[:-1], sound)
    with pytest.raises(GopError, match="not ADTS"):
        adts_packets(b"\x00" * 9, sound)


@pytest.fixture(scope="module")
def source():
    """Four seconds of 30 fps H.264 and 48 kHz AAC, written as the recorder writes."""
    done = subprocess.run(
        [
            ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=30:d=4",
            "-f", "lavfi", "-i", "sine=f=440:r=48000:d=4", *AAC_PRIMING_TRIM,
            *video_encoder_args(Fraction(30)), "-c:a", "aac", "-ac", "2",
            "-use_editlist", "1", *FRAGMENTED_MP4, "pipe:1",
        ],
        capture_output=True,
        check=True,
    )  # fmt: skip
    data = done.stdout
    return data, index_gops(io.BytesIO(data), len(data))


def test_a_written_draft_decodes_and_indexes_back(source):
    data, index = source
    assert index.sound is not None and len(index.table) == 120
    stream = io.BytesIO(data)
    frames = access_units(index.annex_b(stream, 0, 120, Fraction(30)))
    assert [f.key for f in frames] == [n % 30 == 0 for n in range(120)]
    packets = [
        stream.seek(s.offset) and stream.read(s.size)
        for s in index.sound_table.between(0, len(index.sound_table))
    ]
    written = b"".join(fragmented_mp4(index.track, index.sound, Fraction(30), frames, packets))

    decoded = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", "pipe:0", "-f", "framecrc", "pipe:1"],
        input=written,
        capture_output=True,
        check=True,
    )
    assert decoded.stderr == b""
    lines = [line for line in decoded.stdout.decode().splitlines() if not line.startswith("#")]
    assert sum(line.startswith("0,") for line in lines) == 120
    assert sum(line.startswith("1,") for line in lines) >= len(packets) - 1

    again = index_gops(io.BytesIO(written), len(written))
    assert list(again.table.times) == [n * 512 for n in range(120)]
    assert list(again.table.keys) == [n % 30 == 0 for n in range(120)]
    assert list(again.sound_table.times) == [n * 1024 for n in range(len(packets))]
    out = io.BytesIO(written)
    assert again.annex_b(out, 30, 75, Fraction(30)) == index.annex_b(stream, 30, 75, Fraction(30))
    reread = [
        out.seek(s.offset) and out.read(s.size) for s in again.sound_table.between(0, len(packets))
    ]
    assert reread == packets

    keys = [
        (o, Fraction(int(t), 15360)) for t, o, k in zip(*columns(again.table), strict=True) if k
    ]
    for time, offset, _ in zip(
        *columns(again.sound_table), strict=True
    ):  # each second's sound is with it
        n = bisect.bisect_right([o for o, _ in keys], offset) - 1
        end = keys[n + 1][1] if n + 1 < len(keys) else Fraction(10**9)
        assert keys[n][1] <= Fraction(int(time), 48_000) < end

    through_mfra = index_spans(io.BytesIO(written), len(written), [(Fraction(2), Fraction(3))])
    assert list(through_mfra.table.times) == [n * 512 for n in range(30, 120)]  # ±1 s


def columns(table):
    return table.times, table.offsets, table.keys


def test_a_draft_needs_a_keyframe_first(source):
    data, index = source
    frames = access_units(index.annex_b(io.BytesIO(data), 0, 60, Fraction(30)))
    with pytest.raises(GopError, match="keyframe"):
        fragmented_mp4(index.track, index.sound, Fraction(30), frames[1:], [])
    with pytest.raises(GopError, match="whole frame rate"):
        fragmented_mp4(index.track, index.sound, Fraction(30000, 1001), frames, [])
