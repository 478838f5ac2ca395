"""Frame-accurate cuts by "smart cut", and draft reels of plain clips, all in memory.

Recordings and imports have a keyframe exactly every round(fps) frames (1 s GOPs, no
B-frames), so a cut [a, b) copies the whole GOPs inside it and re-encodes only the partial
GOPs at its ends. Video pieces are H.264 Annex B streams (each begins with an IDR and its
own SPS/PPS), so they join by concatenation; the clips' sound is joined and encoded once. The
result is muxed into the same fragmented MP4 as a recording.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from fractions import Fraction
from functools import partial

from .errors import MediaError
from .ffmpeg import AAC_PRIMING_TRIM, OWN_MEDIA, Cancel, base_args, run, video_encoder_args
from .fmp4 import Seekable
from .gops import GopError, GopIndex, index_gops


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
    """Split [start, end) into re-encoded ends and stream-copied whole GOPs."""
    if not 0 <= start < end:
        raise MediaError(f"a cut needs 0 <= start < end (got frames {start} to {end})")
    first_key = -(-start // gop) * gop
    last_key = end // gop * gop
    if first_key >= last_key:
        return [Piece(start, end, False)]
    pieces = []
    if start < first_key:
        pieces.append(Piece(start, first_key, False))
    pieces.append(Piece(first_key, last_key, True))
    if last_key < end:
        pieces.append(Piece(last_key, end, False))
    return pieces


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
        *video_encoder_args(fps, crf=20),
        "-f",
        "h264",
        "pipe:1",
    ]


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
    joined = f"{inputs}concat=n={len(clips)}:v=0:a=1,aresample=48000,{AAC_PRIMING_TRIM}[a]"
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
            indexes[clip.url] = _index(clip.open)
    jobs: list[Callable[[], bytes]] = [partial(_sound, clips, fps, cancel)]
    for clip in clips:
        for piece in plan_pieces(clip.start, clip.end, gop):
            jobs.append(partial(_piece, clip, piece, fps, indexes, cancel))
    audio, *pictures = _side_by_side(jobs, progress)
    _mux(b"".join(pictures), audio, fps, sink, cancel)
    if progress:
        progress(1.0)
    return sum(c.end - c.start for c in clips)


def _sound(clips: list[Clip], fps: Fraction, cancel: Cancel | None) -> bytes:
    return run(prepare_sound(clips, fps), cancel=cancel, what="cutting sound").stdout


def _side_by_side(
    jobs: list[Callable[[], bytes]], progress: Callable[[float], None] | None
) -> list[bytes]:
    """Run the jobs on every core (each is an ffmpeg process or a read), results in order."""
    results: list[bytes] = [b""] * len(jobs)
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
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
    if piece.copy and clip.open is not None:
        index = indexes.get(clip.url)
        if index is not None:
            stream = clip.open()
            try:
                return index.annex_b(stream, piece.start, piece.end, fps)
            except GopError:
                pass  # ffmpeg below
            finally:
                getattr(stream, "close", lambda: None)()
    if cancel is not None:
        cancel.check()
    return run(prepare_piece(clip.url, piece, fps), cancel=cancel, what="cutting").stdout


def _index(open_: Callable[[], Seekable]) -> GopIndex | None:
    stream = open_()
    try:
        size = stream.seek(0, 2)
        return index_gops(stream, size)
    except GopError:
        return None
    finally:
        getattr(stream, "close", lambda: None)()


def _mux(
    video: bytes,
    audio: bytes,
    fps: Fraction,
    sink: Callable[[bytes], object],
    cancel: Cancel | None,
) -> None:
    read_fd, write_fd = os.pipe()
    process = subprocess.Popen(
        prepare_mux(fps, read_fd),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        pass_fds=(read_fd,),
    )
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
    while chunk := process.stdout.read(1 << 16):
        sink(chunk)
    stderr = process.stderr.read().decode(errors="replace")
    code = process.wait()
    for feeder in feeders:
        feeder.join()
    if cancel is not None:
        cancel.check()
    if code != 0:
        raise MediaError(f"joining the cut failed: {stderr.strip().splitlines()[-1:]}")
