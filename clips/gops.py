"""Whole GOPs read straight out of a fragmented MP4, as H.264 Annex B.

The fast path of a smart cut: instead of asking ffmpeg to stream-copy the middle of a clip
(which, without an index, reads every fragment header of the recording on each call), the
recording's boxes are indexed once (moov, then each moof's trun: a few bytes per fragment)
and the wanted samples are read by offset from the decrypting reader. Each sample's
length-prefixed NAL units become start-code prefixed; every keyframe gets the SPS and PPS
from the avcC box in front, so the pieces join by concatenation like ffmpeg's
``h264_mp4toannexb`` output. Anything unexpected raises GopError and the caller falls back
to ffmpeg.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from fractions import Fraction

from .errors import MediaError
from .fmp4 import Seekable

START_CODE = b"\x00\x00\x00\x01"
NON_SYNC = 0x00010000  # sample_is_non_sync_sample in the sample flags


class GopError(MediaError):
    pass


@dataclass
class VideoTrack:
    track_id: int
    timescale: int
    parameter_sets: list[bytes]  # SPS then PPS, from avcC
    length_size: int
    default_duration: int = 0
    default_size: int = 0
    default_flags: int = 0


@dataclass(frozen=True)
class Sample:
    time: int  # decode time, in the track's timescale
    offset: int  # in the file
    size: int
    key: bool


@dataclass
class GopIndex:
    track: VideoTrack
    samples: list[Sample] = field(default_factory=list)

    def frame_samples(self, start: int, end: int, fps: Fraction) -> list[Sample]:
        """The samples of frames [start, end), by their decode time."""
        scale = self.track.timescale
        chosen = [s for s in self.samples if start <= round(s.time * fps / scale) < end]
        if len(chosen) != end - start or not chosen or not chosen[0].key:
            raise GopError(f"frames {start}–{end} are not whole GOPs of this recording")
        return chosen

    def annex_b(self, stream: Seekable, start: int, end: int, fps: Fraction) -> bytes:
        out = bytearray()
        headers = b"".join(START_CODE + nal for nal in self.track.parameter_sets)
        for sample in self.frame_samples(start, end, fps):
            stream.seek(sample.offset)
            data = stream.read(sample.size) or b""
            if len(data) != sample.size:
                raise GopError("the recording ends inside a sample")
            if sample.key:
                out += headers
            out += _to_annex_b(data, self.track.length_size)
        return bytes(out)


def _to_annex_b(data: bytes, length_size: int) -> bytes:
    out = bytearray()
    position = 0
    while position < len(data):
        size = int.from_bytes(data[position : position + length_size], "big")
        position += length_size
        nal = data[position : position + size]
        if len(nal) != size:
            raise GopError("a NAL unit runs past its sample")
        nal_type = nal[0] & 0x1F if nal else 0
        if nal_type not in (7, 8, 9):  # SPS/PPS come from avcC; access unit delimiters go
            out += START_CODE + nal
        position += size
    return bytes(out)


# --- boxes ------------------------------------------------------------------------------------


def _boxes(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the boxes in data[start:end]."""
    end = len(data) if end is None else end
    found = []
    while start + 8 <= end:
        size, kind = struct.unpack(">I4s", data[start : start + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[start + 8 : start + 16])[0], 16
        elif size == 0:
            size = end - start
        if size < header or start + size > end:
            raise GopError("a box runs past its parent")
        found.append((kind, start + header, start + size))
        start += size
    return found


def _child(data: bytes, start: int, end: int, kind: bytes) -> tuple[int, int]:
    for found, a, b in _boxes(data, start, end):
        if found == kind:
            return a, b
    raise GopError(f"no {kind.decode()} box")


def _video_track(moov: bytes) -> VideoTrack:
    defaults: dict[int, tuple[int, int, int]] = {}
    for kind, a, b in _boxes(moov):
        if kind == b"mvex":
            for inner, x, _ in _boxes(moov, a, b):
                if inner == b"trex":
                    track_id, _, duration, size, flags = struct.unpack(
                        ">IIIII", moov[x + 4 : x + 24]
                    )
                    defaults[track_id] = (duration, size, flags)
    for kind, a, b in _boxes(moov):
        if kind != b"trak":
            continue
        mdia = _child(moov, a, b, b"mdia")
        hdlr = _child(moov, *mdia, b"hdlr")
        if moov[hdlr[0] + 8 : hdlr[0] + 12] != b"vide":
            continue
        tkhd = _child(moov, a, b, b"tkhd")
        version = moov[tkhd[0]]
        track_id = struct.unpack(">I", moov[tkhd[0] + (20 if version else 12) :][:4])[0]
        mdhd = _child(moov, *mdia, b"mdhd")
        version = moov[mdhd[0]]
        timescale = struct.unpack(">I", moov[mdhd[0] + (20 if version else 12) :][:4])[0]
        minf = _child(moov, *mdia, b"minf")
        stbl = _child(moov, *_child(moov, *minf, b"stbl"), b"stsd")
        entry = stbl[0] + 8  # version/flags, entry count
        entry_kind = moov[entry + 4 : entry + 8]
        if entry_kind not in (b"avc1", b"avc3"):
            raise GopError(f"the picture is {entry_kind.decode(errors='replace')}, not H.264")
        entry_end = entry + struct.unpack(">I", moov[entry : entry + 4])[0]
        avcc = _child(moov, entry + 8 + 78, entry_end, b"avcC")
        track = VideoTrack(track_id, timescale, *_parameter_sets(moov[avcc[0] : avcc[1]]))
        track.default_duration, track.default_size, track.default_flags = defaults.get(
            track_id, (0, 0, 0)
        )
        return track
    raise GopError("the recording has no picture track")


def _parameter_sets(avcc: bytes) -> tuple[list[bytes], int]:
    length_size = (avcc[4] & 0x03) + 1
    sets, position = [], 5
    for mask in (0x1F, 0xFF):  # SPS count (low 5 bits), then PPS count
        count = avcc[position] & mask
        position += 1
        for _ in range(count):
            size = struct.unpack(">H", avcc[position : position + 2])[0]
            sets.append(avcc[position + 2 : position + 2 + size])
            position += 2 + size
    return sets, length_size


def _fragment_samples(moof: bytes, moof_offset: int, track: VideoTrack) -> list[Sample]:
    for kind, a, b in _boxes(moof):
        if kind != b"traf":
            continue
        tfhd = _child(moof, a, b, b"tfhd")
        flags = int.from_bytes(moof[tfhd[0] + 1 : tfhd[0] + 4], "big")
        track_id = struct.unpack(">I", moof[tfhd[0] + 4 : tfhd[0] + 8])[0]
        if track_id != track.track_id:
            continue
        position = tfhd[0] + 8
        base = moof_offset
        if flags & 0x01:
            base = struct.unpack(">Q", moof[position : position + 8])[0]
            position += 8
        if flags & 0x02:
            position += 4  # sample description index
        duration, size, sample_flags = (
            track.default_duration,
            track.default_size,
            track.default_flags,
        )
        for bit, name in ((0x08, "duration"), (0x10, "size"), (0x20, "flags")):
            if flags & bit:
                value = struct.unpack(">I", moof[position : position + 4])[0]
                position += 4
                if name == "duration":
                    duration = value
                elif name == "size":
                    size = value
                else:
                    sample_flags = value
        tfdt = _child(moof, a, b, b"tfdt")
        version = moof[tfdt[0]]
        time = (
            struct.unpack(">Q", moof[tfdt[0] + 4 : tfdt[0] + 12])[0]
            if version
            else struct.unpack(">I", moof[tfdt[0] + 4 : tfdt[0] + 8])[0]
        )
        samples: list[Sample] = []
        for inner, x, _ in _boxes(moof, a, b):
            if inner == b"trun":
                time = _read_trun(moof, x, base, time, (duration, size, sample_flags), samples)
        return samples
    return []


def _read_trun(
    moof: bytes,
    at: int,
    base: int,
    time: int,
    defaults: tuple[int, int, int],
    samples: list[Sample],
) -> int:
    flags = int.from_bytes(moof[at + 1 : at + 4], "big")
    count = struct.unpack(">I", moof[at + 4 : at + 8])[0]
    position = at + 8
    offset = base
    if flags & 0x01:
        offset = base + struct.unpack(">i", moof[position : position + 4])[0]
        position += 4
    first_flags = None
    if flags & 0x04:
        first_flags = struct.unpack(">I", moof[position : position + 4])[0]
        position += 4
    duration, size, sample_flags = defaults
    for index in range(count):
        this_duration, this_size, this_flags = duration, size, sample_flags
        if flags & 0x100:
            this_duration = struct.unpack(">I", moof[position : position + 4])[0]
            position += 4
        if flags & 0x200:
            this_size = struct.unpack(">I", moof[position : position + 4])[0]
            position += 4
        if flags & 0x400:
            this_flags = struct.unpack(">I", moof[position : position + 4])[0]
            position += 4
        elif index == 0 and first_flags is not None:
            this_flags = first_flags
        if flags & 0x800:
            position += 4  # composition offset: none without B-frames
        samples.append(Sample(time, offset, this_size, not this_flags & NON_SYNC))
        time += this_duration
        offset += this_size
    return time


def index_gops(stream: Seekable, size: int) -> GopIndex:
    """Index the picture samples of a fragmented MP4 (reads the moov and every moof only)."""
    position, track = 0, None
    samples: list[Sample] = []
    while position + 8 <= size:
        stream.seek(position)
        header = stream.read(16) or b""
        if len(header) < 8:
            break
        box_size, kind = struct.unpack(">I4s", header[:8])
        if box_size == 1:
            box_size = struct.unpack(">Q", header[8:16])[0]
        elif box_size == 0:
            box_size = size - position
        if box_size < 8 or position + box_size > size:
            break  # a torn fragment at the end of a recovered recording
        if kind in (b"moov", b"moof"):
            stream.seek(position + 8)
            payload = stream.read(box_size - 8) or b""
            if kind == b"moov":
                track = _video_track(payload)
            elif track is not None:
                samples += _fragment_samples(payload, position, track)
        position += box_size
    if track is None:
        raise GopError("not a fragmented MP4 recording (no moov)")
    return GopIndex(track, samples)
