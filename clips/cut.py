"""Frame-accurate cuts by "smart cut", and draft reels of plain clips, all in memory.

Recordings and imports have a keyframe exactly every round(fps) frames (1 s GOPs, no
B-frames), so a cut [a, b) copies the GOPs from its first keyframe on (the last one cut short)
and re-encodes only the partial GOP before that keyframe. Video pieces are H.264 Annex B
streams (each begins with an IDR and its own SPS/PPS), so they join by concatenation. The
sound is the recordings' own AAC packets (see copied_sound), or, when they cannot be copied,
the clips' sound joined and encoded once. The result is muxed into the same fragmented MP4 as
a recording.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from functools import partial

from .errors import MediaError
from .ffmpeg import (
    OWN_MEDIA,
    PRIMING_TRIM,
    Cancel,
    base_args,
    run,
    spawn,
    video_encoder_args,
)
from .fmp4 import Seekable, StoredFragments
from .gops import START_CODE, GopError, GopIndex, index_gops, index_spans
from .muxer import access_units, adts_packets, fragmented_mp4

AAC_PACKET = 1024  # samples per AAC packet
AAC_RATE = 48_000
ADTS_48K = 3  # the sampling frequency index of 48 kHz
#: A draft's re-encoded partial GOPs: ultrafast is ~1.6× quicker than veryfast for them (bigger
#: but as sharp at the same CRF); only a few frames at each cut are affected.
DRAFT_PRESET = "ultrafast"
BATCHES = 2  # partial GOPs are encoded in this many ffmpeg runs (one per core)


@dataclass(frozen=True)
class Clip:
    url: str  # where ffmpeg reads the (decrypted) recording: the loopback server
    start: int  # first frame
    end: int  # frame after the last
    open: Callable[[], Seekable] | None = None  # the recording itself, for reading whole GOPs


@dataclass(frozen=True)
class Piece:
    start: int
    end: int
    copy: bool  # whole GOPs, stream-copied; otherwise re-encoded


def plan_pieces(start: int, end: int, gop: int) -> list[Piece]:
    """Split [start, end) into a re-encoded head and stream-copied GOPs. Only a start
    inside a GOP needs re-encoding: with no B-frames, a GOP cut short at its end still
    decodes, since its frames refer only to frames before them."""
    if not 0 <= start < end:
        raise MediaError(f"a cut needs 0 <= start < end (got frames {start} to {end})")
    first_key = -(-start // gop) * gop
    if first_key >= end:
        return [Piece(start, end, False)]
    head = [Piece(start, first_key, False)] if start < first_key else []
    return [*head, Piece(first_key, end, True)]


def _seek(frame: int, fps: Fraction) -> list[str]:
    """Input seek to half a frame before ``frame``: the first frame decoded is ``frame``."""
    return ["-ss", f"{float(max(Fraction(0), (frame - Fraction(1, 2)) / fps)):.6f}"]


def prepare_piece(url: str, piece: Piece, fps: Fraction) -> list[str]:
    base = base_args()
    count = ["-frames:v", str(piece.end - piece.start), "-fps_mode", "passthrough"]
    if piece.copy:  # without the mfra index: with it, ffmpeg repeats the first GOP in copy mode
        return [
            *base,
            "-ss",
            f"{float(piece.start / fps):.6f}",
            "-i",
            url,
            "-map",
            "0:v:0",
            *count,
            "-c:v",
            "copy",
            "-bsf:v",
            "h264_mp4toannexb",
            "-f",
            "h264",
            "pipe:1",
        ]
    return [
        *base,
        *_seek(piece.start, fps),
        *OWN_MEDIA,
        "-i",
        url,
        "-map",
        "0:v:0",
        *count,
        *video_encoder_args(fps, crf=20, preset=DRAFT_PRESET),
        "-f",
        "h264",
        "pipe:1",
    ]


def prepare_partials(keep: list[tuple[int, int]], fps: Fraction) -> list[str]:
    """Re-encode the frames ``keep`` ([first, last] input frame numbers, each range one partial
    GOP) of whole GOPs fed as Annex B on stdin, each range beginning with an IDR (pure)."""
    chosen = "+".join(f"between(n,{a},{b})" for a, b in keep)
    starts, position = [], 0
    for a, b in keep:
        starts.append(position)
        position += b - a + 1
    idrs = "+".join(f"eq(n,{n})" for n in starts)
    return [
        *base_args(stdin=True), "-f", "h264", "-framerate", str(fps), "-i", "pipe:0",
        "-vf", f"select='{chosen}',setpts=N/FRAME_RATE/TB", "-fps_mode", "passthrough",
        "-force_key_frames", f"expr:{idrs}", "-forced-idr", "1",
        *video_encoder_args(fps, crf=20, preset=DRAFT_PRESET), "-f", "h264", "pipe:1",
    ]  # fmt: skip


def prepare_sound(clips: list[Clip], fps: Fraction) -> list[str]:
    """All the clips' sound, joined sample-exactly and encoded once (pure). Encoding each clip
    apart put 1024 samples of AAC priming and a padded last frame into every clip: the sound
    fell ~26 ms further behind the picture with each clip (measured with clips.sync)."""
    argv = base_args()
    for clip in clips:
        seconds = Fraction(clip.end - clip.start) / fps
        start = f"{float(clip.start / fps):.6f}"
        argv += ["-ss", start, "-t", f"{float(seconds):.6f}", *OWN_MEDIA, "-i", clip.url]
    inputs = "".join(f"[{n}:a:0]" for n in range(len(clips)))
    joined = f"{inputs}concat=n={len(clips)}:v=0:a=1,aresample=48000,{PRIMING_TRIM}[a]"
    return [
        *argv, "-filter_complex", joined, "-map", "[a]",
        "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-f", "adts", "pipe:1",
    ]  # fmt: skip


def prepare_mux(fps: Fraction, audio_fd: int) -> list[str]:
    return [
        *base_args(stdin=True),
        "-fflags",
        "+genpts",
        "-f",
        "h264",
        "-framerate",
        str(fps),
        "-i",
        "pipe:0",
        "-f",
        "aac",
        "-i",
        f"pipe:{audio_fd}",
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-c",
        "copy",
        "-bsf:a",
        "aac_adtstoasc",
        "-use_editlist",
        "1",
        # raw H.264 gets 1/1200000 timestamps that drift by a tick; a timescale of
        # 512 ticks per frame rounds every one back onto its frame
        "-video_track_timescale",
        str(round(fps) * 512),
        "-movflags",
        "+frag_keyframe+empty_moov+default_base_moof+delay_moov",
        "-f",
        "mp4",
        "pipe:1",
    ]


def render_clips(
    clips: list[Clip],
    fps: Fraction,
    sink: Callable[[bytes], object],
    progress: Callable[[float], None] | None = None,
    cancel: Cancel | None = None,
) -> int:
    """Smart-cut every clip, join them, write a fragmented MP4 to ``sink``; return frames."""
    gop = round(fps)
    indexes: dict[str, GopIndex | None] = {}
    for clip in clips:  # once per recording, before the pieces run side by side
        if clip.open is not None and clip.url not in indexes:
            spans = [(c.start / fps, c.end / fps) for c in clips if c.url == clip.url]
            indexes[clip.url] = _index(clip.open, spans)
    pieces = [(c, p) for c in clips for p in plan_pieces(c.start, c.end, gop)]
    batched = [n for n, (c, p) in enumerate(pieces) if not p.copy and indexes.get(c.url)]
    jobs: list[Callable[[], dict[int, bytes]]] = []  # the longest first: the encodes
    for batch in (batched[k::BATCHES] for k in range(BATCHES)):
        if batch:
            chosen = [(n, *pieces[n]) for n in batch]
            jobs.append(partial(_partials, chosen, fps, indexes, cancel))
    jobs.append(lambda: {-1: _sound(clips, fps, indexes, cancel)})
    for n, (clip, piece) in enumerate(pieces):
        if n not in batched:
            jobs.append(partial(_numbered, n, clip, piece, fps, indexes, cancel))
    results: dict[int, bytes] = {}
    for result in _side_by_side(jobs, progress):
        results.update(result)
    pictures = b"".join(results[n] for n in range(len(pieces)))
    frames = sum(c.end - c.start for c in clips)
    _join(pictures, results[-1], fps, frames, indexes.get(clips[0].url), sink, cancel)
    if progress:
        progress(1.0)
    return frames


def _sound(
    clips: list[Clip], fps: Fraction, indexes: dict[str, GopIndex | None], cancel: Cancel | None
) -> bytes:
    """The recordings' own sound packets when they can be copied; else ffmpeg encodes it."""
    try:
        return copied_sound(clips, fps, indexes)
    except GopError:
        pass
    return run(prepare_sound(clips, fps), cancel=cancel, what="cutting sound").stdout


def copied_sound(clips: list[Clip], fps: Fraction, indexes: dict[str, GopIndex | None]) -> bytes:
    """The clips' sound as the recordings' own AAC packets, neither decoded nor encoded: each
    packet slot of the draft gets the packet recorded nearest the moment its picture shows.
    Sound stays within half a packet (10.7 ms) of the picture and never drifts; a cut may
    click faintly, as in any stream-copying cutter. GopError when a recording has no sound
    track that can be copied, or the recordings' sound differs in kind."""
    tracks = {_copyable_sound(indexes.get(c.url), c) for c in clips}
    if len(tracks) != 1:
        raise GopError("the recordings' sound differs; it is encoded instead")
    out = bytearray()
    reel_start, slot = Fraction(0), 0
    for clip in clips:
        index = indexes[clip.url]
        assert index is not None and clip.open is not None
        reel_end = reel_start + Fraction(clip.end - clip.start) / fps
        targets = []
        while (at := Fraction(slot * AAC_PACKET, AAC_RATE)) < reel_end:
            targets.append(float(Fraction(clip.start) / fps + at - reel_start))
            slot += 1
        with _reading(clip.open) as stream:
            out += index.adts(stream, index.sound_near(targets))
        reel_start = reel_end
    return bytes(out)


def _copyable_sound(index: GopIndex | None, clip: Clip) -> tuple[int, int, int]:
    if index is None or index.sound is None or not len(index.sound_table) or clip.open is None:
        raise GopError("no sound track to copy")
    if index.sound.rate_index != ADTS_48K:
        raise GopError("the sound is not at 48 kHz")
    return index.sound.profile, index.sound.rate_index, index.sound.channels


def _side_by_side(
    jobs: list[Callable[[], dict[int, bytes]]], progress: Callable[[float], None] | None
) -> list[dict[int, bytes]]:
    """Run the jobs side by side, results in order. Twice as many threads as cores: ffmpeg
    runs in its own processes, so the GOP reads go on while it encodes."""
    results: list[dict[int, bytes]] = [{}] * len(jobs)
    with ThreadPoolExecutor(max_workers=2 * max(2, os.cpu_count() or 2)) as pool:
        futures = {pool.submit(job): n for n, job in enumerate(jobs)}
        for done, future in enumerate(as_completed(futures), start=1):
            results[futures[future]] = future.result()
            if progress:
                progress(done / (len(jobs) + 1))
    return results


def _piece(
    clip: Clip,
    piece: Piece,
    fps: Fraction,
    indexes: dict[str, GopIndex | None],
    cancel: Cancel | None,
) -> bytes:
    """Whole GOPs read directly when the recording can be indexed; else ffmpeg."""
    if piece.copy:
        try:
            return _read_gops(clip, indexes.get(clip.url), piece.start, piece.end, fps)
        except GopError:
            pass  # ffmpeg below
    if cancel is not None:
        cancel.check()
    return run(prepare_piece(clip.url, piece, fps), cancel=cancel, what="cutting").stdout


def _numbered(
    n: int,
    clip: Clip,
    piece: Piece,
    fps: Fraction,
    indexes: dict[str, GopIndex | None],
    cancel: Cancel | None,
) -> dict[int, bytes]:
    return {n: _piece(clip, piece, fps, indexes, cancel)}


def _partials(
    batch: list[tuple[int, Clip, Piece]],
    fps: Fraction,
    indexes: dict[str, GopIndex | None],
    cancel: Cancel | None,
) -> dict[int, bytes]:
    """Partial GOPs re-encoded in one ffmpeg run, fed from the recordings' GOP index (no
    seeking, no process per piece); each piece one at a time by ffmpeg if that fails."""
    gop = round(fps)
    try:
        data, keep, count = bytearray(), [], 0
        for _, clip, piece in batch:
            first = piece.start - piece.start % gop
            data += _read_gops(clip, indexes[clip.url], first, piece.end, fps)
            keep.append((count + piece.start - first, count + piece.end - 1 - first))
            count += piece.end - first
        if cancel is not None:
            cancel.check()
        out = run(prepare_partials(keep, fps), stdin=bytes(data), cancel=cancel, what="cutting")
        parts = split_at_idrs(out.stdout)
        if len(parts) != len(batch):
            raise GopError(f"{len(parts)} pieces came back for {len(batch)}")
    except GopError:
        return {n: _piece(c, p, fps, {}, cancel) for n, c, p in batch}
    return {n: part for (n, _, _), part in zip(batch, parts, strict=True)}


def _read_gops(clip: Clip, index: GopIndex | None, start: int, end: int, fps: Fraction) -> bytes:
    if index is None:
        raise GopError("no index")
    with _reading(clip.open) as stream:
        return index.annex_b(stream, start, end, fps)


@contextmanager
def _reading(open_: Callable[[], Seekable] | None) -> Iterator[Seekable]:
    """The recording, opened for reading and closed after."""
    if open_ is None:
        raise GopError("the recording cannot be read directly")
    stream = open_()
    try:
        yield stream
    finally:
        getattr(stream, "close", lambda: None)()


def split_at_idrs(stream: bytes) -> list[bytes]:
    """An Annex B stream cut before each SPS (x264 repeats SPS and PPS before every IDR)."""
    starts = [m for m in _nal_starts(stream) if stream[m + 4] & 0x1F == 7]
    if not starts or starts[0] != 0:
        raise GopError("the encoded pieces do not begin with an SPS")
    return [stream[a:b] for a, b in zip(starts, [*starts[1:], len(stream)], strict=True)]


def _nal_starts(stream: bytes) -> list[int]:
    """Where each 4-byte start code begins (x264 writes 4-byte codes before SPS and PPS)."""
    found, at = [], stream.find(START_CODE)
    while at != -1 and at + 4 < len(stream):
        found.append(at)
        at = stream.find(START_CODE, at + 4)
    return found


def _index(
    open_: Callable[[], Seekable], spans: list[tuple[Fraction, Fraction]]
) -> GopIndex | None:
    """The fragments around the clips, through the mfra; else every fragment; else None."""
    with _reading(open_) as stream:
        size = stream.seek(0, 2)
        try:
            return index_spans(stream, size, spans)
        except GopError:
            pass
        try:
            return index_gops(stream, size)
        except GopError:
            return None


def _join(
    video: bytes,
    audio: bytes,
    fps: Fraction,
    frames: int,
    index: GopIndex | None,
    sink: Callable[[bytes], object],
    cancel: Cancel | None,
) -> None:
    """Picture and sound into one fragmented MP4: by clips.muxer, with the sample entries of
    the first clip's recording; by ffmpeg when those are unknown or anything does not fit."""
    try:
        if index is None or index.sound is None:
            raise GopError("the recording's sample entries are unknown")
        pictures = access_units(video)
        if len(pictures) != frames:
            raise GopError(f"{len(pictures)} frames came back for {frames}")
        packets = adts_packets(audio, index.sound)
        chunks = fragmented_mp4(index.track, index.sound, fps, pictures, packets)
    except GopError:
        _mux(video, audio, fps, sink, cancel)
        return
    for chunk in chunks:
        if cancel is not None:
            cancel.check()
        sink(chunk)


def _mux(
    video: bytes,
    audio: bytes,
    fps: Fraction,
    sink: Callable[[bytes], object],
    cancel: Cancel | None,
) -> None:
    read_fd, write_fd = os.pipe()
    process = spawn(prepare_mux(fps, read_fd), stdin=subprocess.PIPE, pass_fds=(read_fd,))
    os.close(read_fd)
    if cancel is not None:
        cancel.watch(process)

    def feed(data: bytes, pipe: object) -> None:
        try:
            pipe.write(data)  # type: ignore[attr-defined]
        except BrokenPipeError:
            pass
        finally:
            pipe.close()  # type: ignore[attr-defined]

    feeders = [
        threading.Thread(target=feed, args=(video, process.stdin), daemon=True),
        threading.Thread(target=feed, args=(audio, os.fdopen(write_fd, "wb")), daemon=True),
    ]
    for feeder in feeders:
        feeder.start()
    assert process.stdout is not None and process.stderr is not None
    fragments = StoredFragments(sink)
    while chunk := process.stdout.read(1 << 16):
        fragments(chunk)
    fragments.finish()
    stderr = process.stderr.read().decode(errors="replace")
    code = process.wait()
    for feeder in feeders:
        feeder.join()
    if cancel is not None:
        cancel.check()
    if code != 0:
        raise MediaError(f"joining the cut failed: {stderr.strip().splitlines()[-1:]}")
