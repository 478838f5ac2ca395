"""clips.boxes: one checked box reader. Fuzzed with hypothesis (random box trees, truncated
and mutated recordings and drafts): every reader of boxes (the GOP index, the mfra path,
the recovered-prefix scan, the fragment tracker, fragment_times) raises nothing but the
project's own error; errors name the box; the draft's fallback engages on a damaged file."""

from __future__ import annotations

import functools
import io
import struct
import subprocess
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clips.boxes import Box, boxes, parse_tfra, stream_boxes, tfdt_time
from clips.errors import BoxError, GopError, MediaError
from clips.ffmpeg import AAC_PRIMING_TRIM, ffmpeg_exe, video_encoder_args
from clips.fmp4 import FragmentTracker, complete_prefix, fragment_times
from clips.gops import index_gops, index_spans
from clips.muxer import access_units, fragmented_mp4
from clips.record import FRAGMENTED_MP4
from vferrors import VideofeedbackError

CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"mvex", b"moof", b"traf", b"mfra"}
KINDS = sorted(CONTAINERS) + [
    b"ftyp", b"mvhd", b"tkhd", b"mdhd", b"hdlr", b"stsd", b"trex", b"mfhd", b"tfhd",
    b"tfdt", b"trun", b"tfra", b"mfro", b"mdat", b"free", b"avc1", b"avcC", b"mp4a", b"esds",
]  # fmt: skip
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def box(kind: bytes, *parts: bytes) -> bytes:
    payload = b"".join(parts)
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


@functools.cache
def seeds() -> list[bytes]:
    """A second of picture and sound as the recorder writes it, and a draft clips.muxer
    writes from it (version-1 tfdt and tfra, an mfra)."""
    done = subprocess.run(
        [
            ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=64x36:r=10:d=2",
            "-f", "lavfi", "-i", "sine=f=440:r=48000:d=2", *AAC_PRIMING_TRIM,
            *video_encoder_args(Fraction(10)), "-c:a", "aac", "-ac", "1",
            *FRAGMENTED_MP4, "pipe:1",
        ],
        capture_output=True,
        check=True,
    )  # fmt: skip
    recording = done.stdout
    index = index_gops(io.BytesIO(recording), len(recording))
    assert index.sound is not None
    stream = io.BytesIO(recording)
    frames = access_units(index.annex_b(stream, 0, len(index.table), Fraction(10)))
    packets = [
        stream.seek(s.offset) and stream.read(s.size)
        for s in index.sound_table.between(0, len(index.sound_table))
    ]
    draft = b"".join(fragmented_mp4(index.track, index.sound, Fraction(10), frames, packets))
    return [recording, draft]


def box_starts(data: bytes, start: int = 0, end: int | None = None) -> list[int]:
    """Where every box header of ``data`` is, through the containers."""
    found = []
    for inner in boxes(data, start, end, strict=False):
        found.append(inner.start)
        if inner.kind in CONTAINERS:
            skip = 4 if inner.kind in (b"mfra",) else 0
            found += box_starts(data, inner.payload + skip, inner.end)
    return found


def read_everything(data: bytes) -> None:
    """Every reader of boxes over ``data``: only the project's own errors may come out."""
    size = len(data)
    readers = [
        lambda: index_gops(io.BytesIO(data), size),
        lambda: index_spans(io.BytesIO(data), size, [(Fraction(0), Fraction(1))]),
        lambda: complete_prefix(io.BytesIO(data), size),
        lambda: list(stream_boxes(io.BytesIO(data), size)),
        lambda: walk(data),
        lambda: tracker(data),
    ]
    for top in boxes(data, strict=False):
        if top.kind == b"moof":
            readers.append(lambda top=top: fragment_times(top.whole()))
    for reader in readers:
        try:
            reader()
        except VideofeedbackError:
            pass


def walk(data: bytes, start: int = 0, end: int | None = None) -> None:
    for inner in boxes(data, start, end):
        if inner.kind == b"tfdt":
            tfdt_time(inner)
        elif inner.kind == b"tfra":
            parse_tfra(inner)
        elif inner.kind in CONTAINERS:
            walk(data, inner.payload, inner.end)


def tracker(data: bytes) -> None:
    follow = FragmentTracker(4096)
    for at in range(0, len(data), 1000):
        follow.feed(data[at : at + 1000])
    follow.rest()


@FUZZ
@given(st.data())
def test_truncated_and_mutated_files_raise_only_project_errors(data):
    original = seeds()[data.draw(st.integers(0, len(seeds()) - 1), label="seed")]
    mutated = bytearray(original)
    starts = box_starts(original)
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        how = data.draw(st.sampled_from(["size", "byte", "kind", "cut"]), label="how")
        if how == "size":
            at = data.draw(st.sampled_from(starts))
            value = data.draw(
                st.sampled_from([0, 1, 7, 8, 9, 12, 2**31, 2**32 - 1]) | st.integers(0, 4000)
            )
            mutated[at : at + 4] = struct.pack(">I", value)
        elif how == "kind":
            at = data.draw(st.sampled_from(starts))
            mutated[at + 4 : at + 8] = data.draw(st.sampled_from(KINDS))
        elif how == "byte" and mutated:
            at = data.draw(st.integers(0, len(mutated) - 1))
            mutated[at] = data.draw(st.integers(0, 255))
        elif how == "cut":
            del mutated[data.draw(st.integers(0, len(mutated))) :]
    read_everything(bytes(mutated))


def trees(depth: int = 3) -> st.SearchStrategy[bytes]:
    leaf = st.builds(
        lambda kind, payload, lie: _sized(kind, payload, lie),
        st.sampled_from(KINDS),
        st.binary(max_size=48),
        st.sampled_from([None, None, None, 0, 1, 4, 7, 2**32 - 1]),
    )
    return st.recursive(
        leaf,
        lambda inner: st.builds(
            lambda kind, parts, prefix: box(kind, prefix, *parts),
            st.sampled_from(sorted(CONTAINERS)),
            st.lists(inner, max_size=4),
            st.sampled_from([b"", b"\x00" * 4]),
        ),
        max_leaves=12,
    )


def _sized(kind: bytes, payload: bytes, lie: int | None) -> bytes:
    whole = box(kind, payload)
    return whole if lie is None else struct.pack(">I", lie) + whole[4:]


@FUZZ
@given(st.lists(trees(), min_size=1, max_size=5))
def test_random_box_trees_raise_only_project_errors(tree):
    read_everything(b"".join(tree))


def test_errors_name_the_box():
    short_tkhd = box(b"trak", box(b"tkhd", bytes(8)), box(b"mdia", box(b"hdlr", bytes(12))))
    moov = box(b"moov", short_tkhd)
    with pytest.raises(BoxError, match="tkhd"):
        index_gops(io.BytesIO(moov), len(moov))
    tfdt = box(b"tfdt", b"\x01\x00\x00\x00" + bytes(4))  # version 1 needs 8 bytes of time
    with pytest.raises(BoxError, match="tfdt"):
        tfdt_time(Box(tfdt, b"tfdt", 0, 8, len(tfdt)))
    with pytest.raises(BoxError, match="tfra"):
        tfra = box(b"tfra", struct.pack(">IIII", 0, 1, 0, 5))  # five entries, none there
        parse_tfra(Box(tfra, b"tfra", 0, 8, len(tfra)))
    with pytest.raises(BoxError, match=r"mdat box runs past the end of its parent \(moof\)"):
        list(boxes(box(b"moof", struct.pack(">I4s", 99, b"mdat")), 8, parent="moof"))
    assert issubclass(BoxError, GopError) and issubclass(BoxError, MediaError)


def test_the_draft_falls_back_on_a_damaged_recording():
    """A short tkhd raised struct.error before, which passed the draft's fallback by: now the
    index is None (ffmpeg cuts instead) and a draft is still written."""
    from clips.cut import _index

    recording = bytearray(seeds()[0])
    moov = next(b for b in boxes(recording) if b.kind == b"moov")
    trak = next(b for b in boxes(recording, moov.payload, moov.end) if b.kind == b"trak")
    tkhd = next(b for b in boxes(recording, trak.payload, trak.end) if b.kind == b"tkhd")
    length = tkhd.end - tkhd.start  # a tkhd of version and flags only, then free space
    short = box(b"tkhd", bytes(recording[tkhd.payload : tkhd.payload + 4]))
    recording[tkhd.start : tkhd.end] = short + box(b"free", bytes(length - 12 - 8))
    damaged = bytes(recording)
    with pytest.raises(BoxError, match="tkhd"):
        index_gops(io.BytesIO(damaged), len(damaged))
    assert _index(lambda: io.BytesIO(damaged), [(Fraction(0), Fraction(1))]) is None
