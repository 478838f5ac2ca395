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

import numpy as np

from .errors import MediaError
from .fmp4 import Seekable

START_CODE = b"\x00\x00\x00\x01"
NON_SYNC = 0x00010000  # sample_is_non_sync_sample in the sample flags


class GopError(MediaError):
    pass


@dataclass
class Track:
    track_id: int
    timescale: int
    default_duration: int = 0
    default_size: int = 0
    default_flags: int = 0
    entry: bytes = b""  # the sample entry box (avc1, mp4a…), as a draft's moov repeats it


@dataclass
class VideoTrack(Track):
    parameter_sets: list[bytes] = field(default_factory=list)  # SPS then PPS, from avcC
    length_size: int = 4


@dataclass
class SoundTrack(Track):
    """AAC-LC: enough to put an ADTS header in front of each packet."""

    profile: int = 1  # ADTS profile: the audio object type − 1 (1 = LC)
    rate_index: int = 3  # 3 = 48 kHz
    channels: int = 2


@dataclass(frozen=True)
class Sample:
    time: int  # decode time, in the track's timescale
    offset: int  # in the file
    size: int
    key: bool


@dataclass(frozen=True)
class SampleTable:
    """One track's samples as columns (an hour of picture and sound is ~280,000 samples:
    parsed with numpy, made into Sample objects only where a cut needs them)."""

    times: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    offsets: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    sizes: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    keys: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    def __len__(self) -> int:
        return len(self.times)

    def between(self, first: int, last: int) -> list[Sample]:
        """Samples [first, last) as objects."""
        return [
            Sample(int(t), int(o), int(z), bool(k))
            for t, o, z, k in zip(
                self.times[first:last],
                self.offsets[first:last],
                self.sizes[first:last],
                self.keys[first:last],
                strict=True,
            )
        ]

    @classmethod
    def joined(cls, parts: list[SampleTable]) -> SampleTable:
        if not parts:
            return cls()
        return cls(*(np.concatenate([getattr(p, n) for p in parts]) for n in _COLUMNS))


_COLUMNS = ("times", "offsets", "sizes", "keys")


@dataclass
class GopIndex:
    track: VideoTrack
    table: SampleTable = field(default_factory=SampleTable)
    sound: SoundTrack | None = None
    sound_table: SampleTable = field(default_factory=SampleTable)

    @property
    def samples(self) -> list[Sample]:
        return self.table.between(0, len(self.table))

    def sound_near(self, seconds: list[float]) -> list[Sample]:
        """For each time, the sound packet whose decode time is nearest (clamped to the
        ends of what is indexed)."""
        if self.sound is None or not len(self.sound_table):
            raise GopError("the recording has no sound track to copy from")
        times = self.sound_table.times
        targets = np.asarray(seconds, np.float64) * self.sound.timescale
        after = np.clip(np.searchsorted(times, targets), 1, len(times) - 1)
        before = after - 1
        if len(times) == 1:
            after = before = np.zeros_like(after)
        nearest = np.where(targets - times[before] <= times[after] - targets, before, after)
        return [self.sound_table.between(int(n), int(n) + 1)[0] for n in nearest]

    def adts(self, stream: Seekable, samples: list[Sample]) -> bytes:
        """The sound packets, each behind an ADTS header, read in runs of adjacent packets."""
        assert self.sound is not None
        out = bytearray()
        for run in _adjacent_runs(samples):
            stream.seek(run[0].offset)
            data = stream.read(run[-1].offset + run[-1].size - run[0].offset) or b""
            for sample in run:
                packet = data[sample.offset - run[0].offset :][: sample.size]
                if len(packet) != sample.size:
                    raise GopError("the recording ends inside a sound packet")
                out += adts_header(self.sound, len(packet)) + packet
        return bytes(out)

    def frame_samples(self, start: int, end: int, fps: Fraction) -> list[Sample]:
        """The samples of frames [start, end), by their decode time (frame k is the sample
        whose time rounds to k; half-frame bounds never fall on a sample)."""
        scale = self.track.timescale
        bounds = [float((frame - Fraction(1, 2)) * scale / fps) for frame in (start, end)]
        first, last = (int(i) for i in np.searchsorted(self.table.times, bounds))
        chosen = self.table.between(first, last)
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


def adts_header(track: SoundTrack, payload: int) -> bytes:
    """The 7-byte ADTS header (no CRC) of one AAC packet of ``payload`` bytes."""
    length = payload + 7
    return bytes(
        [
            0xFF,
            0xF1,  # MPEG-4, layer 0, no CRC
            (track.profile << 6) | (track.rate_index << 2) | (track.channels >> 2),
            ((track.channels & 3) << 6) | (length >> 11),
            (length >> 3) & 0xFF,
            ((length & 7) << 5) | 0x1F,
            0xFC,  # buffer fullness 0x7FF (variable rate), one raw data block
        ]
    )


def _adjacent_runs(samples: list[Sample]) -> list[list[Sample]]:
    runs: list[list[Sample]] = []
    for sample in samples:
        if runs and runs[-1][-1].offset + runs[-1][-1].size == sample.offset:
            runs[-1].append(sample)
        else:
            runs.append([sample])
    return runs


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


def _tracks(moov: bytes) -> tuple[VideoTrack, SoundTrack | None]:
    """The picture track and, when it is AAC-LC that can be copied, the sound track."""
    defaults: dict[int, tuple[int, int, int]] = {}
    for kind, a, b in _boxes(moov):
        if kind == b"mvex":
            for inner, x, _ in _boxes(moov, a, b):
                if inner == b"trex":
                    track_id, _, duration, size, flags = struct.unpack(
                        ">IIIII", moov[x + 4 : x + 24]
                    )
                    defaults[track_id] = (duration, size, flags)
    video: VideoTrack | None = None
    sound: SoundTrack | None = None
    for kind, a, b in _boxes(moov):
        if kind != b"trak":
            continue
        mdia = _child(moov, a, b, b"mdia")
        hdlr = _child(moov, *mdia, b"hdlr")
        handler = moov[hdlr[0] + 8 : hdlr[0] + 12]
        tkhd = _child(moov, a, b, b"tkhd")
        version = moov[tkhd[0]]
        track_id = struct.unpack(">I", moov[tkhd[0] + (20 if version else 12) :][:4])[0]
        mdhd = _child(moov, *mdia, b"mdhd")
        version = moov[mdhd[0]]
        timescale = struct.unpack(">I", moov[mdhd[0] + (20 if version else 12) :][:4])[0]
        minf = _child(moov, *mdia, b"minf")
        stsd = _child(moov, *_child(moov, *minf, b"stbl"), b"stsd")
        entry = stsd[0] + 8  # version/flags, entry count
        entry_end = entry + struct.unpack(">I", moov[entry : entry + 4])[0]
        base = Track(track_id, timescale, *defaults.get(track_id, (0, 0, 0)), moov[entry:entry_end])
        if handler == b"vide" and video is None:
            video = _video_entry(moov, entry, entry_end, base)
        elif handler == b"soun" and sound is None:
            sound = _sound_entry(moov, entry, entry_end, base)
    if video is None:
        raise GopError("the recording has no picture track")
    return video, sound


def _video_entry(moov: bytes, entry: int, entry_end: int, base: Track) -> VideoTrack:
    entry_kind = moov[entry + 4 : entry + 8]
    if entry_kind not in (b"avc1", b"avc3"):
        raise GopError(f"the picture is {entry_kind.decode(errors='replace')}, not H.264")
    avcc = _child(moov, entry + 8 + 78, entry_end, b"avcC")
    sets, length_size = _parameter_sets(moov[avcc[0] : avcc[1]])
    return VideoTrack(**vars(base), parameter_sets=sets, length_size=length_size)


def _sound_entry(moov: bytes, entry: int, entry_end: int, base: Track) -> SoundTrack | None:
    """AAC-LC in an mp4a entry (version 0, as ffmpeg's mp4 muxer writes), else None."""
    if moov[entry + 4 : entry + 8] != b"mp4a":
        return None
    try:
        esds = _child(moov, entry + 8 + 28, entry_end, b"esds")
        object_type, rate_index, channels = _audio_config(moov[esds[0] : esds[1]])
    except (GopError, IndexError):
        return None
    if object_type != 2 or rate_index > 12 or not 1 <= channels <= 7:
        return None
    return SoundTrack(
        **vars(base), profile=object_type - 1, rate_index=rate_index, channels=channels
    )


def _audio_config(esds: bytes) -> tuple[int, int, int]:
    """(audio object type, sampling frequency index, channel configuration) from the
    AudioSpecificConfig inside the esds box's descriptors (ISO 14496-1 and -3)."""

    def descriptor(at: int) -> tuple[int, int, int]:
        tag, length = esds[at], 0
        at += 1
        for _ in range(4):
            byte = esds[at]
            at += 1
            length = (length << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        return tag, length, at

    tag, _, at = descriptor(4)  # after version and flags: ES_Descriptor
    if tag != 3:
        raise GopError("no ES descriptor")
    flags = esds[at + 2]
    at += 3
    at += 2 if flags & 0x80 else 0
    at += 1 + esds[at] if flags & 0x40 else 0
    at += 2 if flags & 0x20 else 0
    tag, _, at = descriptor(at)
    if tag != 4:
        raise GopError("no decoder configuration")
    tag, length, at = descriptor(at + 13)
    if tag != 5 or length < 2:
        raise GopError("no AudioSpecificConfig")
    first, second = esds[at], esds[at + 1]
    return first >> 3, ((first & 7) << 1) | (second >> 7), (second >> 3) & 0x0F


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


def _fragment_samples(moof: bytes, moof_offset: int, track: Track) -> list[SampleTable]:
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
        tables: list[SampleTable] = []
        for inner, x, _ in _boxes(moof, a, b):
            if inner == b"trun":
                time = _read_trun(moof, x, base, time, (duration, size, sample_flags), tables)
        return tables
    return []


_TRUN_FIELDS = (0x100, 0x200, 0x400, 0x800)  # per-sample duration, size, flags, CT offset


def _read_trun(
    moof: bytes,
    at: int,
    base: int,
    time: int,
    defaults: tuple[int, int, int],
    tables: list[SampleTable],
) -> int:
    """Append the run's samples to ``tables``; return the decode time after it."""
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
    present = [bit for bit in _TRUN_FIELDS if flags & bit]
    if position + 4 * len(present) * count > len(moof):
        raise GopError("a track run runs past its fragment")
    table = np.frombuffer(moof, ">u4", len(present) * count, position)
    table = table.reshape(count, len(present)) if present else table

    def column(bit: int, default: int) -> np.ndarray:
        if bit in present:
            return table[:, present.index(bit)].astype(np.int64)
        return np.full(count, default, np.int64)

    durations, sizes, sample_flags = (
        column(bit, default) for bit, default in zip(_TRUN_FIELDS, defaults, strict=False)
    )
    if 0x400 not in present and first_flags is not None and count:
        sample_flags[0] = first_flags
    starts = np.concatenate([[0], np.cumsum(durations)[:-1]]) if count else durations
    places = np.concatenate([[0], np.cumsum(sizes)[:-1]]) if count else sizes
    keys = (sample_flags & NON_SYNC) == 0
    tables.append(SampleTable(time + starts, offset + places, sizes, keys))
    return time + int(durations.sum())


def index_gops(stream: Seekable, size: int) -> GopIndex:
    """Index the picture and sound samples of a fragmented MP4 (reads the moov and every moof
    only)."""
    position = 0
    tracks: tuple[VideoTrack, SoundTrack | None] | None = None
    samples: list[SampleTable] = []
    sound: list[SampleTable] = []
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
                tracks = _tracks(payload)
            elif tracks is not None:
                samples += _fragment_samples(payload, position, tracks[0])
                if tracks[1] is not None:
                    sound += _fragment_samples(payload, position, tracks[1])
        position += box_size
    if tracks is None:
        raise GopError("not a fragmented MP4 recording (no moov)")
    return GopIndex(tracks[0], SampleTable.joined(samples), tracks[1], SampleTable.joined(sound))


def index_spans(stream: Seekable, size: int, spans: list[tuple[Fraction, Fraction]]) -> GopIndex:
    """Index only the fragments that hold ``spans`` (seconds, with a second to spare each
    side), found through the file's mfra: a cut's index costs the same in a 10-minute and
    a 60-minute recording. GopError when there is no mfra (a recovered recording)."""
    video, sound = _tracks(_read_box(stream, _moov_offset(stream, size), b"moov"))
    entries = _fragment_starts(stream, size, video.track_id)
    margin = video.timescale
    wanted: set[int] = set()
    for first, last in spans:
        low, high = first * video.timescale - margin, last * video.timescale + margin
        for n, (time, offset) in enumerate(entries):
            end = entries[n + 1][0] if n + 1 < len(entries) else None
            if time <= high and (end is None or end > low):
                wanted.add(offset)
    pictures: list[SampleTable] = []
    sounds: list[SampleTable] = []
    for offset in sorted(wanted):
        moof = _read_box(stream, offset, b"moof")
        pictures += _fragment_samples(moof, offset, video)
        if sound is not None:
            sounds += _fragment_samples(moof, offset, sound)
    return GopIndex(video, SampleTable.joined(pictures), sound, SampleTable.joined(sounds))


def _moov_offset(stream: Seekable, size: int) -> int:
    position = 0
    while position + 8 <= size:
        stream.seek(position)
        header = stream.read(8) or b""
        box_size, kind = struct.unpack(">I4s", header) if len(header) == 8 else (0, b"")
        if kind == b"moov":
            return position
        if box_size < 8:
            break
        position += box_size
    raise GopError("not a fragmented MP4 recording (no moov)")


def _read_box(stream: Seekable, offset: int, kind: bytes) -> bytes:
    """The payload of the box of ``kind`` at ``offset`` (32-bit sizes, as ffmpeg writes)."""
    stream.seek(offset)
    header = stream.read(8) or b""
    if len(header) != 8 or header[4:8] != kind:
        raise GopError(f"no {kind.decode()} box where the index says")
    box_size = struct.unpack(">I", header[:4])[0]
    payload = stream.read(box_size - 8) or b""
    if len(payload) != box_size - 8:
        raise GopError(f"the {kind.decode()} box is cut short")
    return payload


def _fragment_starts(stream: Seekable, size: int, track_id: int) -> list[tuple[int, int]]:
    """(decode time, moof offset) of each fragment of ``track_id``, from the mfra's tfra."""
    if size < 16:
        raise GopError("no mfra")
    stream.seek(size - 16)
    tail = stream.read(16) or b""
    if len(tail) != 16 or tail[4:8] != b"mfro":
        raise GopError("no mfra")
    mfra_size = struct.unpack(">I", tail[12:16])[0]
    if not 16 <= mfra_size <= size:
        raise GopError("no mfra")
    mfra = _read_box(stream, size - mfra_size, b"mfra")
    for kind, a, b in _boxes(mfra):
        if kind == b"tfra" and struct.unpack(">I", mfra[a + 4 : a + 8])[0] == track_id:
            return _tfra_entries(mfra[a:b])
    raise GopError("the mfra does not index the picture")


def _tfra_entries(tfra: bytes) -> list[tuple[int, int]]:
    version = tfra[0]
    sizes, count = struct.unpack(">II", tfra[8:16])
    numbers = ((sizes >> 4) & 3) + ((sizes >> 2) & 3) + (sizes & 3) + 3
    pair = ">QQ" if version else ">II"
    step = struct.calcsize(pair) + numbers
    if 16 + step * count > len(tfra):
        raise GopError("the tfra is cut short")
    entries = [struct.unpack_from(pair, tfra, 16 + n * step) for n in range(count)]
    return [(int(t), int(o)) for t, o in entries]
