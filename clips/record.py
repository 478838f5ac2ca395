"""Recording: frames and sound → ffmpeg (H.264/AAC, fragmented MP4, ~1 s fragments) →
the durable encrypting writer. Plaintext only in memory and pipes.

One clock drives everything: at tick n (time n/fps) the newest camera frame is written,
or the previous one again when the camera is late, so the output rate is constant and
sound (sample-counted) stays in sync for hours.
"""

from __future__ import annotations

import errno
import os
import queue
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Protocol

import numpy as np

from encryption import CHUNK_SIZE, DurableEncryptedFile

from .errors import DiskFullError, MediaError
from .ffmpeg import (
    AAC_PRIMING_TRIM,
    TAG_BT709,
    TO_BT709,
    base_args,
    spawn,
    video_encoder_args,
)
from .fmp4 import StoredFragments
from .normalise import FRAGMENTED_MP4

#: Camera frames are RGB: to BT.709 video, tagged (see clips.ffmpeg.TO_BT709).
RGB_TO_BT709 = f"scale={TO_BT709},format=yuv420p,{TAG_BT709}"

_DISK_FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


class Source(Protocol):
    @property
    def width(self) -> int: ...

    @property
    def height(self) -> int: ...

    @property
    def fps(self) -> Fraction: ...

    @property
    def sample_rate(self) -> int: ...

    def frame(self, number: int) -> np.ndarray | None:
        """The newest frame at tick ``number`` (BGR), or None if the camera has none yet."""
        ...

    def audio(self, first_sample: int, count: int) -> bytes:
        """Mono s16le samples."""
        ...

    def samples_for_frame(self, number: int) -> tuple[int, int]: ...


@dataclass(frozen=True)
class RecordOptions:
    preset: str = "veryfast"
    crf: int = 23
    audio_bitrate: str = "128k"
    realtime: bool = True  # False: as fast as the encoder goes (the demo's prepared recording)


def prepare_record(source: Source, audio_fd: int, options: RecordOptions) -> list[str]:
    """The ffmpeg arguments for a recording (pure: tested without running ffmpeg)."""
    fps = str(source.fps)
    return [
        *base_args(stdin=True),
        "-f",
        "rawvideo",
        "-pix_fmt",
        "bgr24",
        "-s",
        f"{source.width}x{source.height}",
        "-r",
        fps,
        "-i",
        "pipe:0",
        "-f",
        "s16le",
        "-ar",
        str(source.sample_rate),
        "-ac",
        "1",
        "-i",
        f"pipe:{audio_fd}",
        "-map",
        "0:v",
        "-map",
        "1:a",
        *AAC_PRIMING_TRIM,
        "-vf",
        RGB_TO_BT709,
        *video_encoder_args(source.fps, options.crf, options.preset),
        "-c:a",
        "aac",
        "-b:a",
        options.audio_bitrate,
        "-ac",
        "2",
        "-use_editlist",
        "1",
        *FRAGMENTED_MP4,
        "pipe:1",
    ]


@dataclass
class RecordingStatus:
    elapsed: Fraction
    frames: int
    dropped: int
    audio_level_db: float
    bytes_written: int


@dataclass
class RecordingResult:
    path: str
    duration: Fraction
    fps: Fraction
    size: tuple[int, int]
    video_codec: str
    audio_codec: str
    markers: list[Fraction]
    bytes: int
    dropped: int

    def info(self) -> dict[str, object]:
        return {
            "duration": str(self.duration),
            "fps": str(self.fps),
            "width": self.size[0],
            "height": self.size[1],
            "video_codec": self.video_codec,
            "audio_codec": self.audio_codec,
            "markers": [str(m) for m in self.markers],
            "dropped_frames": self.dropped,
        }


def audio_level_db(samples: bytes) -> float:
    data = np.frombuffer(samples, "<i2").astype(np.float64)
    rms = float(np.sqrt(np.mean(data * data))) if data.size else 0.0
    return -90.0 if rms < 1 else 20 * np.log10(rms / 32768)


@dataclass
class Recorder:
    """Records ``source`` into ``sink`` until ``stop()`` (or ``duration`` seconds)."""

    source: Source
    sink: DurableEncryptedFile
    options: RecordOptions = field(default_factory=RecordOptions)
    on_preview: Callable[[np.ndarray], None] | None = None  # ≥ 15 fps
    on_status: Callable[[RecordingStatus], None] | None = None
    clock: Callable[[], float] = time.monotonic
    markers: list[Fraction] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _error: BaseException | None = None
    _tick: int = 0
    _dropped: int = 0

    def mark(self) -> Fraction:
        """Drop a marker at "now" (a good moment spotted live)."""
        at = Fraction(self._tick) / self.source.fps
        self.markers.append(at)
        return at

    def stop(self) -> None:
        self._stop.set()

    def record(self, duration: Fraction | None = None) -> RecordingResult:
        """Run until stopped or ``duration`` elapsed; return the sealed recording's details."""
        read_fd, write_fd = os.pipe()
        process = spawn(
            prepare_record(self.source, read_fd, self.options),
            stdin=subprocess.PIPE,
            pass_fds=(read_fd,),
        )
        os.close(read_fd)
        video: queue.Queue[bytes | None] = queue.Queue(maxsize=8)
        audio: queue.Queue[bytes | None] = queue.Queue(maxsize=64)
        assert process.stdin is not None and process.stdout is not None
        workers = [
            threading.Thread(target=self._feed, args=(video, process.stdin), daemon=True),
            threading.Thread(
                target=self._feed, args=(audio, os.fdopen(write_fd, "wb")), daemon=True
            ),
            threading.Thread(target=self._drain, args=(process.stdout,), daemon=True),
        ]
        for worker in workers:
            worker.start()
        try:
            self._loop(video, audio, duration)
        finally:
            video.put(None)
            audio.put(None)
            for worker in workers:
                worker.join()
            stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
            code = process.wait()
        return self._finish(code, stderr)

    def _loop(
        self,
        video: queue.Queue[bytes | None],
        audio: queue.Queue[bytes | None],
        duration: Fraction | None,
    ) -> None:
        fps = self.source.fps
        start = self.clock()
        last: np.ndarray | None = None
        while not self._stop.is_set() and self._error is None:
            if duration is not None and Fraction(self._tick) / fps >= duration:
                break
            if self.options.realtime:
                self._keep_time(start + float(Fraction(self._tick) / fps), fps)
            frame = self.source.frame(self._tick)
            if frame is None:
                frame = (
                    last
                    if last is not None
                    else np.zeros((self.source.height, self.source.width, 3), np.uint8)
                )
            last = frame
            first, count = self.source.samples_for_frame(self._tick)
            samples = self.source.audio(first, count)
            video.put(frame.tobytes())
            audio.put(samples)
            if self._tick % 2 == 0:
                self._report(frame, samples)
            self._tick += 1

    def _keep_time(self, target: float, fps: Fraction) -> None:
        delay = target - self.clock()
        if delay > 0:
            time.sleep(delay)
        elif -delay > float(1 / fps):
            self._dropped += 1  # the loop is a frame late: this tick repeats a frame

    def _report(self, frame: np.ndarray, samples: bytes) -> None:
        if self.on_preview:
            self.on_preview(frame)
        if self.on_status:
            self.on_status(
                RecordingStatus(
                    Fraction(self._tick) / self.source.fps,
                    self._tick,
                    self._dropped,
                    audio_level_db(samples),
                    self.sink.plaintext_written,
                )
            )

    def _feed(self, items: queue.Queue[bytes | None], pipe: object) -> None:
        try:
            while (item := items.get()) is not None:
                pipe.write(item)  # type: ignore[attr-defined]
        except (BrokenPipeError, OSError) as exc:
            self._error = self._error or exc
            self._stop.set()
            while items.get() is not None:
                pass
        finally:
            try:
                pipe.close()  # type: ignore[attr-defined]
            except OSError:
                pass

    def _drain(self, stdout: object) -> None:
        """ffmpeg's output into the sink; each finished fragment is padded to a chunk boundary
        so that it is sealed and on disk at once (see docs/FORMAT.md, section 3)."""
        fragments = StoredFragments(self.sink.write, CHUNK_SIZE)
        try:
            while chunk := stdout.read1(1 << 16):  # type: ignore[attr-defined]
                fragments(chunk)
            fragments.finish()
        except OSError as exc:
            self._error = exc
            self._stop.set()
            while stdout.read(1 << 16):  # type: ignore[attr-defined]
                pass  # let ffmpeg finish so nothing blocks

    def _finish(self, code: int, stderr: str) -> RecordingResult:
        error = self._error
        if isinstance(error, OSError) and error.errno in _DISK_FULL:
            self.sink.abort()
            raise DiskFullError(
                "the disk is full: the recording stopped; what was recorded is kept and "
                "can be sealed with 'videofeedback media recover'"
            )
        if error is not None or code != 0:
            self.sink.abort()
            detail = stderr.strip().splitlines()[-1] if stderr.strip() else str(error)
            raise MediaError(f"recording failed: {detail}; what was recorded can be recovered")
        path = self.sink.close()
        return RecordingResult(
            str(path),
            Fraction(self._tick) / self.source.fps,
            self.source.fps,
            (self.source.width, self.source.height),
            "h264",
            "aac",
            list(self.markers),
            self.sink.plaintext_written,
            self._dropped,
        )
