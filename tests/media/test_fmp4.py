"""The fragment tracker: padding after each fragment, and the mfra's offsets corrected."""

import random
import struct

import pytest

from clips.fmp4 import FragmentTracker, free_box

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
