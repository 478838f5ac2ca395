"""A fragmented MP4 written in memory from H.264 Annex B and ADTS AAC, for draft reels.

ffmpeg's mp4 muxer took a sixth of a draft's time, after everything else had finished, to
turn the joined Annex B back into the length-prefixed samples the recordings already hold.
This writes the same layout a recording has: ftyp, an empty moov (sample entries taken from
the source recording), one moof + mdat per keyframe with the sound of that second, and an
mfra so cuts and seeks find the fragments. Every keyframe carries its SPS and PPS in band:
a draft joins x264's re-encoded heads to the recording's own GOPs, and each sets its own.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from itertools import chain

from .boxes import boxes
from .errors import BoxError, GopError
from .gops import NON_SYNC, SoundTrack, VideoTrack

SYNC = 0x02000000  # sample_depends_on = 2 (an I picture)
NOT_SYNC = NON_SYNC | 0x01000000  # sample_depends_on = 1, sample_is_non_sync_sample
TICKS_PER_FRAME = 512  # as the recorder's -video_track_timescale: whole ticks per frame
AAC_PACKET = 1024
_VCL = range(1, 6)
_HIGH_PROFILES = (100, 110, 122, 144)  # their avcC carries chroma format and bit depths
_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


@dataclass(frozen=True)
class Frame:
    data: bytes  # NAL units, each behind a 4-byte length
    key: bool


def access_units(stream: bytes) -> list[Frame]:
    """Split Annex B into frames (a new one at a slice with first_mb_in_slice 0, or at an SEI,
    SPS, PPS or delimiter after a slice); delimiters are dropped."""
    frames: list[Frame] = []
    current: list[bytes] = []
    has_slice = key = False
    for nal in _nal_units(stream):
        kind = nal[0] & 0x1F
        starts = kind in (6, 7, 8, 9) or (kind in _VCL and len(nal) > 1 and nal[1] & 0x80)
        if has_slice and starts:
            frames.append(Frame(b"".join(current), key))
            current, has_slice, key = [], False, False
        if kind == 9:
            continue
        current.append(struct.pack(">I", len(nal)) + nal)
        has_slice |= kind in _VCL
        key |= kind == 5
    if current:
        if not has_slice:
            raise GopError("the picture stream ends without a slice")
        frames.append(Frame(b"".join(current), key))
    return frames


def _nal_units(stream: bytes) -> Iterator[bytes]:
    """The NAL units of an Annex B stream (3- or 4-byte start codes; trailing zeros go)."""
    at = stream.find(b"\x00\x00\x01")
    while at != -1:
        begin = at + 3
        at = stream.find(b"\x00\x00\x01", begin)
        nal = stream[begin : len(stream) if at == -1 else at].rstrip(b"\x00")
        if nal:
            yield nal


def adts_packets(stream: bytes, sound: SoundTrack) -> list[bytes]:
    """The raw AAC packets behind ADTS headers; GopError unless each header matches the
    sample entry the draft will carry."""
    packets, at = [], 0
    while at + 7 <= len(stream):
        header = stream[at : at + 7]
        if header[0] != 0xFF or header[1] & 0xF0 != 0xF0:
            raise GopError("the sound is not ADTS")
        config = (header[2] >> 6, (header[2] >> 2) & 0x0F, (header[2] & 1) << 2 | header[3] >> 6)
        if config != (sound.profile, sound.rate_index, sound.channels):
            raise GopError("the sound differs from the recording's sample entry")
        length = (header[3] & 3) << 11 | header[4] << 3 | header[5] >> 5
        header_size = 7 if header[1] & 1 else 9  # protection_absent, else a CRC follows
        if length < header_size or at + length > len(stream):
            raise GopError("an ADTS packet is cut short")
        packets.append(stream[at + header_size : at + length])
        at += length
    return packets


def fragmented_mp4(
    video: VideoTrack, sound: SoundTrack, fps: Fraction, frames: list[Frame], packets: list[bytes]
) -> Iterator[bytes]:
    """The whole file, a fragment at a time; GopError before anything is written if it
    cannot be made."""
    if fps.denominator != 1 or not frames or not frames[0].key:
        raise GopError("the draft must start with a keyframe at a whole frame rate")
    if not video.entry or not sound.entry:
        raise GopError("the recording's sample entries are unknown")
    if sound.timescale != 48_000:
        raise GopError("the sound's timescale is not its 48 kHz sample rate")
    layout = _Layout(int(fps) * TICKS_PER_FRAME, sound.timescale)
    head = _box(b"ftyp", b"iso5", struct.pack(">I", 512), b"iso5iso6mp41")
    head += _moov(video, sound, layout, frames[0])
    return chain([head], _fragments(layout, frames, packets, len(head)))


def _fragments(
    layout: _Layout, frames: list[Frame], packets: list[bytes], offset: int
) -> Iterator[bytes]:
    """A moof + mdat from each keyframe to the next, with the sound packets that begin in
    that time; then the mfra."""
    keys = [n for n, frame in enumerate(frames) if frame.key] + [len(frames)]
    entries = []
    for number, (first, last) in enumerate(zip(keys, keys[1:], strict=False), start=1):
        first_packet = layout.packets_before(first, len(packets))
        last_packet = layout.packets_before(last, len(packets)) if last < len(frames) else None
        sound = packets[first_packet:last_packet]
        chunk = _fragment(number, layout, first, frames[first:last], first_packet, sound)
        entries.append((first * TICKS_PER_FRAME, offset))
        offset += len(chunk)
        yield chunk
    yield _mfra(entries)


@dataclass(frozen=True)
class _Layout:
    video_scale: int
    sound_scale: int

    def packets_before(self, frame: int, count: int) -> int:
        """How many sound packets begin before picture frame ``frame`` begins."""
        at = Fraction(frame * TICKS_PER_FRAME, self.video_scale) * self.sound_scale
        return min(count, -(-at // AAC_PACKET))


def _fragment(
    number: int,
    layout: _Layout,
    first_frame: int,
    frames: list[Frame],
    first_packet: int,
    packets: list[bytes],
) -> bytes:
    video_sizes = [len(f.data) for f in frames]
    sound_sizes = [len(p) for p in packets]

    def moof(video_at: int, sound_at: int) -> bytes:
        trafs = _traf(
            1, first_frame * TICKS_PER_FRAME, TICKS_PER_FRAME, NOT_SYNC, video_sizes, video_at, SYNC
        )
        if packets:
            trafs += _traf(
                2, first_packet * AAC_PACKET, AAC_PACKET, SYNC, sound_sizes, sound_at, None
            )
        return _box(b"moof", _full(b"mfhd", 0, struct.pack(">I", number)), trafs)

    size = len(moof(0, 0))
    video_at = size + 8
    head = moof(video_at, video_at + sum(video_sizes))
    mdat = struct.pack(">I4s", 8 + sum(video_sizes) + sum(sound_sizes), b"mdat")
    return b"".join([head, mdat, *(f.data for f in frames), *packets])


def _traf(
    track: int,
    time: int,
    duration: int,
    flags: int,
    sizes: list[int],
    data_offset: int,
    first_flags: int | None,
) -> bytes:
    tfhd = _full(b"tfhd", 0x020028, struct.pack(">III", track, duration, flags))
    tfdt = _full(b"tfdt", 0, struct.pack(">Q", time), version=1)
    run_flags = 0x201 | (0x004 if first_flags is not None else 0)
    fields = struct.pack(">Ii", len(sizes), data_offset)
    if first_flags is not None:
        fields += struct.pack(">I", first_flags)
    trun = _full(b"trun", run_flags, fields, struct.pack(f">{len(sizes)}I", *sizes))
    return _box(b"traf", tfhd, tfdt, trun)


def _moov(video: VideoTrack, sound: SoundTrack, layout: _Layout, first: Frame) -> bytes:
    width, height = struct.unpack(">HH", video.entry[32:36])
    mvhd = _full(
        b"mvhd",
        0,
        struct.pack(">IIIIIH10x", 0, 0, 1000, 0, 0x10000, 0x100),
        _MATRIX,
        bytes(24),
        struct.pack(">I", 3),
    )
    picture = _trak(
        1, b"vide", layout.video_scale, _picture_entry(video.entry, first), width, height
    )
    audio = _trak(2, b"soun", layout.sound_scale, sound.entry, 0, 0)
    trex = [_full(b"trex", 0, struct.pack(">IIIII", track, 1, 0, 0, 0)) for track in (1, 2)]
    return _box(b"moov", mvhd, picture, audio, _box(b"mvex", *trex))


def _trak(track: int, handler: bytes, scale: int, entry: bytes, width: int, height: int) -> bytes:
    sound = handler == b"soun"
    tkhd = _full(
        b"tkhd",
        3,  # enabled, in the movie
        struct.pack(">IIIII8xHHH2x", 0, 0, track, 0, 0, 0, int(sound), 0x100 if sound else 0),
        _MATRIX,
        struct.pack(">II", width << 16, height << 16),
    )
    mdhd = _full(b"mdhd", 0, struct.pack(">IIIIHH", 0, 0, scale, 0, 0x55C4, 0))  # "und"
    name = b"SoundHandler\0" if sound else b"VideoHandler\0"
    hdlr = _full(b"hdlr", 0, struct.pack(">I4s12x", 0, handler), name)
    header = _full(b"smhd", 0, bytes(4)) if sound else _full(b"vmhd", 1, bytes(8))
    dinf = _box(b"dinf", _full(b"dref", 0, struct.pack(">I", 1), _full(b"url ", 1, b"")))
    empty = [_full(b"stts", 0, bytes(4)), _full(b"stsc", 0, bytes(4))]
    empty += [_full(b"stsz", 0, bytes(8)), _full(b"stco", 0, bytes(4))]
    stbl = _box(b"stbl", _full(b"stsd", 0, struct.pack(">I", 1), entry), *empty)
    minf = _box(b"minf", header, dinf, stbl)
    return _box(b"trak", tkhd, _box(b"mdia", mdhd, hdlr, minf))


def _picture_entry(entry: bytes, first: Frame) -> bytes:
    """The recording's avc1 entry with its avcC made from the draft's first SPS and PPS
    (the first frame may be x264's re-encoded head, with other parameters)."""
    sets = {nal[0] & 0x1F: nal for nal in _length_prefixed(first.data) if nal[0] & 0x1F in (7, 8)}
    if set(sets) != {7, 8}:
        raise GopError("the first keyframe has no SPS and PPS")
    sps, pps = sets[7], sets[8]
    avcc = bytes([1, sps[1], sps[2], sps[3], 0xFF, 0xE1]) + struct.pack(">H", len(sps)) + sps
    avcc += b"\x01" + struct.pack(">H", len(pps)) + pps
    if sps[1] in _HIGH_PROFILES:
        avcc += bytes([0xFD, 0xF8, 0xF8, 0])  # 4:2:0, 8-bit, no SPS extensions
    fields, children = entry[8:86], entry[86:]
    try:
        kept = [box.whole() for box in boxes(children, parent=entry[4:8].decode("latin-1"))]
    except BoxError as error:
        raise GopError(f"the recording's sample entry is damaged: {error}") from error
    kept = [box for box in kept if box[4:8] != b"avcC"]
    return _box(entry[4:8], fields, _box(b"avcC", avcc), *kept)


def _length_prefixed(data: bytes) -> Iterator[bytes]:
    at = 0
    while at + 4 <= len(data):
        size = struct.unpack(">I", data[at : at + 4])[0]
        yield data[at + 4 : at + 4 + size]
        at += 4 + size


def _mfra(entries: list[tuple[int, int]]) -> bytes:
    """tfra of the picture track (version 1; 1-byte traf, trun and sample numbers)."""
    rows = b"".join(struct.pack(">QQBBB", time, offset, 1, 1, 1) for time, offset in entries)
    tfra = _full(b"tfra", 0, struct.pack(">III", 1, 0, len(entries)), rows, version=1)
    mfro = _full(b"mfro", 0, struct.pack(">I", 8 + len(tfra) + 16))
    return _box(b"mfra", tfra, mfro)


def _box(kind: bytes, *parts: bytes) -> bytes:
    payload = b"".join(parts)
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _full(kind: bytes, flags: int, *parts: bytes, version: int = 0) -> bytes:
    return _box(kind, struct.pack(">I", version << 24 | flags), *parts)
