"""The fragment tracker: padding after each fragment, and the mfra's offsets corrected."""

import random
import struct
import subprocess
from fractions import Fraction

import pytest

from clips.ffmpeg import AAC_PRIMING_TRIM, OWN_MEDIA, ffmpeg_exe, video_encoder_args
from clips.fmp4 import FragmentTracker, StoredFragments, fragment_times, free_box
from clips.normalise import FRAGMENTED_MP4
from tests.media.conftest import packet_times

CHUNK = 4096


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def mfra(offsets: list[int], version: int) -> bytes:
    pair = ">QQ" if version else ">II"
    entries = b"".join(
        struct.pack(pair, n * 512, o) + b"\x01\x01\x01" for n, o in enumerate(offsets)
    )
    tfra = box(
        b"tfra", bytes([version, 0, 0, 0]) + struct.pack(">III", 1, 0, len(offsets)) + entries
    )
    body = tfra + box(b"mfro", struct.pack(">II", 0, 8 + len(tfra) + 16))
    return box(b"mfra", body)


def film(version: int) -> tuple[bytes, list[int]]:
    """ftyp, moov, three fragments of odd sizes, then the mfra pointing at their moofs."""
    stream = box(b"ftyp", b"isom" * 4) + box(b"moov", b"m" * 700)
    offsets = []
    for n, size in enumerate((5000, 123, 9000)):
        offsets.append(len(stream))
        stream += box(b"moof", bytes([n]) * 90) + box(b"mdat", b"d" * size)
    return stream + mfra(offsets, version), offsets


@pytest.mark.parametrize("version", [0, 1])
@pytest.mark.parametrize("seed", range(5))
def test_padding_and_a_corrected_mfra_whatever_the_reads(version, seed):
    stream, _ = film(version)
    rng = random.Random(seed)
    tracker, out, position, ends = FragmentTracker(CHUNK), bytearray(), 0, []
    while position < len(stream):
        step = rng.choice([1, 3, 7, 8, 100, 5000])
        for piece, padding in tracker.feed(stream[position : position + step]):
            out += piece
            if padding:
                ends.append(len(out))
                out += free_box(padding)
        position += step
    assert len(ends) == 3
    assert all(
        (e + struct.unpack(">I", out[e : e + 4])[0]) % CHUNK == 0 for e in ends
    )  # each fragment ends on a chunk boundary
    tfra = out.rindex(b"tfra") + 4
    pair = ">QQ" if version else ">II"
    step = struct.calcsize(pair) + 3
    moved = [struct.unpack_from(pair, out, tfra + 16 + n * step)[1] for n in range(3)]
    assert [bytes(out[o + 4 : o + 8]) for o in moved] == [b"moof"] * 3
    assert [out[o + 8] for o in moved] == [0, 1, 2]
    assert out.endswith(stream[-16:])  # the mfro is unchanged


# --- the mfra's times -------------------------------------------------------------------------


def traf(track: int, tfdt: int, first_offset: int | None = None) -> bytes:
    tfhd = box(b"tfhd", struct.pack(">II", 0x020000, track))
    decode_time = box(b"tfdt", struct.pack(">IQ", 1 << 24, tfdt))
    if first_offset is None:  # durations only
        trun = box(b"trun", struct.pack(">III", 0x000100, 2, 1024) + struct.pack(">I", 1024))
    else:  # data offset, first-sample flags, then duration and a signed offset per sample
        trun = box(
            b"trun",
            struct.pack(">III", 1 << 24 | 0x000905, 1, 100)
            + struct.pack(">I", 0x02000000)
            + struct.pack(">Ii", 512, first_offset),
        )
    return box(b"traf", tfhd + decode_time + trun)


def two_track_film() -> tuple[bytes, list[tuple[int, int]]]:
    """Three fragments of a picture track (1, with composition offsets) and a sound track (2);
    the mfra's times for the sound are ffmpeg's: 1,024 ticks before each fragment's own."""
    stream = box(b"ftyp", b"isom" * 4) + box(b"moov", b"m" * 300)
    rows: dict[int, list[tuple[int, int]]] = {1: [], 2: []}
    expected = []
    for n in range(3):
        offset = len(stream)
        mfhd = box(b"mfhd", struct.pack(">II", 0, n + 1))
        moof = box(b"moof", mfhd + traf(1, n * 15360, first_offset=1024) + traf(2, n * 48128))
        stream += moof + box(b"mdat", b"d" * 7000)
        rows[1].append((n * 15360 + 1024, offset))
        rows[2].append((max(n * 48128 - 1024, 0), offset))
        expected.append((n * 48128, offset))
    tfras = b""
    for track, entries in rows.items():
        body = b"".join(struct.pack(">II", t, o) + b"\x01\x01\x01" for t, o in entries)
        tfras += box(b"tfra", struct.pack(">IIII", 0, track, 0, len(entries)) + body)
    stream += box(b"mfra", tfras + box(b"mfro", struct.pack(">II", 0, 8 + len(tfras) + 16)))
    return stream, expected


def tfra_rows(data: bytes, track: int) -> list[tuple[int, int]]:
    at = data.rindex(b"mfra") + 4
    while True:
        at = data.index(b"tfra", at) + 4
        if struct.unpack_from(">I", data, at + 4)[0] == track:
            count = struct.unpack_from(">I", data, at + 12)[0]
            return [struct.unpack_from(">II", data, at + 16 + 11 * n) for n in range(count)]


def test_fragment_times_are_the_tfdt_plus_the_first_composition_offset():
    moof = box(b"moof", traf(1, 30720, first_offset=1024) + traf(2, 96256))
    assert fragment_times(moof) == {1: 31744, 2: 96256}
    assert fragment_times(box(b"moof", b"\x00" * 40)) == {}  # not boxes: nothing, no error
    version_0 = box(b"tfhd", struct.pack(">II", 0, 3)) + box(b"tfdt", struct.pack(">II", 0, 7))
    assert fragment_times(box(b"moof", box(b"traf", version_0))) == {3: 7}  # last, 8 bytes
    cut_short = box(b"tfhd", struct.pack(">II", 0, 3)) + box(
        b"tfdt", struct.pack(">II", 1 << 24, 7)
    )
    assert fragment_times(box(b"moof", box(b"traf", cut_short))) == {}  # version 1 needs 12


@pytest.mark.parametrize("chunk", [0, CHUNK])
def test_the_mfra_gets_each_fragments_own_times(chunk):
    stream, expected = two_track_film()
    out = bytearray()
    fragments = StoredFragments(out.extend, chunk)
    for start in range(0, len(stream), 333):  # moofs arrive in pieces
        fragments(stream[start : start + 333])
    fragments.finish()
    sound = tfra_rows(bytes(out), 2)
    assert [t for t, _ in sound] == [t for t, _ in expected]
    assert [bytes(out[o + 4 : o + 8]) for _, o in sound] == [b"moof"] * 3
    assert [t for t, _ in tfra_rows(bytes(out), 1)] == [1024, 16384, 31744]
    if not chunk:
        assert len(out) == len(stream)  # no padding: only the times changed


def test_what_never_completes_is_still_passed_on():
    stream, _ = two_track_film()
    out = bytearray()
    fragments = StoredFragments(out.extend)
    cut = stream.rindex(b"mfra") + 20
    fragments(stream[:cut])
    assert bytes(out) == stream[: cut - 24]  # the torn mfra is held back …
    fragments.finish()
    assert bytes(out) == stream[:cut]  # … and passed on as it came at the end


def test_sound_reads_the_same_with_the_mfra_as_without(tmp_path):
    """ffmpeg's own mfra puts its AAC sound's times 1,024 samples (21.3 ms) early; read with
    -use_mfra_for pts (as videofeedback reads its files) every later fragment's sound moved."""
    made = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=160x90:r=30",
         "-f", "lavfi", "-i", "sine=f=440:r=48000", "-t", "4", *AAC_PRIMING_TRIM,
         *video_encoder_args(Fraction(30)), "-c:a", "aac", "-use_editlist", "1",
         *FRAGMENTED_MP4, "pipe:1"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    raw, stored = tmp_path / "raw.mp4", tmp_path / "stored.mp4"
    raw.write_bytes(made)
    with stored.open("wb") as file:
        fragments = StoredFragments(file.write)
        fragments(made)
        fragments.finish()
    assert packet_times(raw) != packet_times(raw, *OWN_MEDIA), "ffmpeg's mfra is right now"
    assert packet_times(stored, *OWN_MEDIA) == packet_times(stored) == packet_times(raw)
