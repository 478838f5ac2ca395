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

from .boxes import Box, Seekable, parse_tfra, read_box, reading, stream_boxes, tfdt_time
from .errors import BoxError
from .errors import GopError as GopError

START_CODE = b"\x00\x00\x00\x01"
NON_SYNC = 0x00010000  # sample_is_non_sync_sample in the sample flags


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


def _tracks(moov: Box) -> tuple[VideoTrack, SoundTrack | None]:
    """The picture track and, when it is AAC-LC that can be copied, the sound track."""
    defaults: dict[int, tuple[int, int, int]] = {}
    for mvex in moov.children():
        if mvex.kind == b"mvex":
            for trex in mvex.children():
                if trex.kind == b"trex":
                    track_id, _, duration, size, flags = trex.unpack(">IIIII", 4)
                    defaults[track_id] = (duration, size, flags)
    video: VideoTrack | None = None
    sound: SoundTrack | None = None
    for trak in moov.children():
        if trak.kind != b"trak":
            continue
        mdia = trak.child(b"mdia")
        handler = mdia.child(b"hdlr").bytes_at(8, 4)
        tkhd = trak.child(b"tkhd")
        track_id = tkhd.u32(20 if tkhd.version else 12)
        mdhd = mdia.child(b"mdhd")
        timescale = mdhd.u32(20 if mdhd.version else 12)
        stsd = mdia.child(b"minf").child(b"stbl").child(b"stsd")
        entry = next(stsd.children(skip=8), None)  # after version/flags and entry count
        if entry is None:
            raise BoxError("the stsd box has no sample entry")
        base = Track(track_id, timescale, *defaults.get(track_id, (0, 0, 0)), entry.whole())
        if handler == b"vide" and video is None:
            video = _video_entry(entry, base)
        elif handler == b"soun" and sound is None:
            sound = _sound_entry(entry, base)
    if video is None:
        raise GopError("the recording has no picture track")
    return video, sound


def _video_entry(entry: Box, base: Track) -> VideoTrack:
    if entry.kind not in (b"avc1", b"avc3"):
        raise GopError(f"the picture is {entry.name}, not H.264")
    avcc = entry.child(b"avcC", skip=78)
    with reading("avcC"):
        sets, length_size = _parameter_sets(avcc.content())
    return VideoTrack(**vars(base), parameter_sets=sets, length_size=length_size)


def _sound_entry(entry: Box, base: Track) -> SoundTrack | None:
    """AAC-LC in an mp4a entry (version 0, as ffmpeg's mp4 muxer writes), else None."""
    if entry.kind != b"mp4a":
        return None
    try:
        esds = entry.child(b"esds", skip=28)
        with reading("esds"):
            object_type, rate_index, channels = _audio_config(esds.content())
    except GopError:
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
            if len(sets[-1]) != size:
                raise GopError("a parameter set runs past the avcC box")
            position += 2 + size
    return sets, length_size


def _fragment_samples(moof: Box, moof_offset: int, track: Track) -> list[SampleTable]:
    for traf in moof.children():
        if traf.kind != b"traf":
            continue
        tfhd = traf.child(b"tfhd")
        flags = tfhd.flags
        if tfhd.u32(4) != track.track_id:
            continue
        position = 8
        base = moof_offset
        if flags & 0x01:
            base = tfhd.u64(position)
            position += 8
        if flags & 0x02:
            position += 4  # sample description index
        defaults = [track.default_duration, track.default_size, track.default_flags]
        for n, bit in enumerate((0x08, 0x10, 0x20)):
            if flags & bit:
                defaults[n] = tfhd.u32(position)
                position += 4
        time = tfdt_time(traf.child(b"tfdt"))
        tables: list[SampleTable] = []
        for trun in traf.children():
            if trun.kind == b"trun":
                time = _read_trun(trun, base, time, (defaults[0], defaults[1], defaults[2]), tables)
        return tables
    return []


_TRUN_FIELDS = (0x100, 0x200, 0x400, 0x800)  # per-sample duration, size, flags, CT offset


def _read_trun(
    trun: Box,
    base: int,
    time: int,
    defaults: tuple[int, int, int],
    tables: list[SampleTable],
) -> int:
    """Append the run's samples to ``tables``; return the decode time after it."""
    flags = trun.flags
    count = trun.u32(4)
    position = 8
    offset = base
    if flags & 0x01:
        offset = base + trun.unpack(">i", position)[0]
        position += 4
    first_flags = None
    if flags & 0x04:
        first_flags = trun.u32(position)
        position += 4
    present = [bit for bit in _TRUN_FIELDS if flags & bit]
    if position + 4 * len(present) * count > trun.size:
        raise BoxError("the trun box is cut short (fewer samples than it counts)")
    table = np.frombuffer(trun.data, ">u4", len(present) * count, trun.payload + position)
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
    only; a torn fragment at the end of a recovered recording is left out)."""
    tracks: tuple[VideoTrack, SoundTrack | None] | None = None
    samples: list[SampleTable] = []
    sound: list[SampleTable] = []
    for top in stream_boxes(stream, size):
        if top.kind == b"moov":
            tracks = _tracks(read_box(stream, top, b"moov"))
        elif top.kind == b"moof" and tracks is not None:
            moof = read_box(stream, top, b"moof")
            samples += _fragment_samples(moof, top.start, tracks[0])
            if tracks[1] is not None:
                sound += _fragment_samples(moof, top.start, tracks[1])
    if tracks is None:
        raise GopError("not a fragmented MP4 recording (no moov)")
    return GopIndex(tracks[0], SampleTable.joined(samples), tracks[1], SampleTable.joined(sound))


def index_spans(stream: Seekable, size: int, spans: list[tuple[Fraction, Fraction]]) -> GopIndex:
    """Index only the fragments that hold ``spans`` (seconds, with a second to spare each
    side), found through the file's mfra: a cut's index costs the same in a 10-minute and
    a 60-minute recording. GopError when there is no mfra (a recovered recording)."""
    video, sound = _tracks(read_box(stream, _moov_offset(stream, size), b"moov", size))
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
        moof = read_box(stream, offset, b"moof", size)
        pictures += _fragment_samples(moof, offset, video)
        if sound is not None:
            sounds += _fragment_samples(moof, offset, sound)
    return GopIndex(video, SampleTable.joined(pictures), sound, SampleTable.joined(sounds))


def _moov_offset(stream: Seekable, size: int) -> int:
    for top in stream_boxes(stream, size):
        if top.kind == b"moov":
            return top.start
    raise GopError("not a fragmented MP4 recording (no moov)")


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
    mfra = read_box(stream, size - mfra_size, b"mfra", size)
    for tfra in mfra.children():
        if tfra.kind == b"tfra" and (parsed := parse_tfra(tfra)).track_id == track_id:
            return [(entry.time, entry.moof_offset) for entry in parsed.entries]
    raise GopError("the mfra does not index the picture")
