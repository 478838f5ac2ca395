"""A camera and its microphone as a recording source.

Frames come from OpenCV (``cv2.VideoCapture``) on a thread of their own that keeps only the
newest frame: the recorder asks for a frame on every tick of its one clock, so a late camera
frame is repeated and a fast one dropped, and the picture never drifts. Sound comes from
ffmpeg's own device input (PulseAudio/PipeWire on Linux, AVFoundation on macOS, DirectShow on
Windows) as mono 16-bit PCM through a pipe. The microphone keeps its own clock, which drifts
from the system clock (~0.01 % is usual; 0.1 % is seen): the buffer between them starts with
a small cushion and is kept near it. While it holds, averaged over about a second, more than
CUSHION + DRIFT_ROOM, each take reads up to DRIFT_CORRECTION more samples than it gives
(evenly spaced ones left out); while it holds less, fewer, stretched. That is a pitch
change of at most 0.5 % (9 cents, below what ears notice), only while the microphone is off
the clock. Beyond that, the buffer is held between empty (silence is inserted; the recorder
never waits for sound) and MAX_AUDIO_LAG (the oldest samples are dropped), so picture and
sound stay in step for as long as the recording runs.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import IO

import cv2
import numpy as np

from .errors import MediaError
from .ffmpeg import ffmpeg_exe, spawn

#: PulseAudio's capture fragment: 20 ms of 48 kHz stereo s16 (ffmpeg's pulse input format).
#: Against a PulseAudio 16.1 server, sound reached the recording ~30 ms sooner than with the
#: server's default fragment (benchmarks/bench_microphone.py; docs/PERFORMANCE.md).
PULSE_FRAGMENT_BYTES = 3840
MAX_AUDIO_LAG = Fraction(1, 5)  # seconds of microphone sound held before dropping the oldest
CUSHION = Fraction(3, 50)  # seconds buffered before the first samples are taken (pipe jitter)
#: The buffer is kept, on average, between the cushion (so that a take does not run dry in
#: the pipe's 20 ms sawtooth) and this many seconds above it (room for jitter); beyond those
#: drift is corrected, at most this share of a take.
DRIFT_ROOM = Fraction(3, 100)
DRIFT_CORRECTION = Fraction(1, 200)
LEVEL_SMOOTHING = 1 / 30  # per take: the level is averaged over about a second
#: How long a camera and its microphone get to deliver before a recording starts without
#: them (PulseAudio's input took 0.03-1.3 s to give its first sound; docs/PERFORMANCE.md).
READY_TIMEOUT = 3.0


def microphone_input(device: str = "default", platform: str = sys.platform) -> list[str]:
    """ffmpeg's input arguments for the system's microphone (pure)."""
    if platform == "darwin":
        return ["-f", "avfoundation", "-i", f":{device if device != 'default' else '0'}"]
    if platform == "win32":
        return ["-f", "dshow", "-i", f"audio={device}"]
    return ["-f", "pulse", "-fragment_size", str(PULSE_FRAGMENT_BYTES), "-i", device]


def prepare_microphone(source_args: Sequence[str], sample_rate: int) -> list[str]:
    """Read a sound input to mono s16le on stdout (pure)."""
    return [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", *source_args,
        "-ac", "1", "-ar", str(sample_rate), "-f", "s16le", "pipe:1",
    ]  # fmt: skip


class Microphone:
    """Sound from an ffmpeg input, buffered for the recorder's clock."""

    def __init__(self, source_args: Sequence[str], sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._argv = prepare_microphone(source_args, sample_rate)
        self._buffer = bytearray()
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._primed = False
        self._low = int(CUSHION * sample_rate)  # samples
        self._high = int((CUSHION + DRIFT_ROOM) * sample_rate)
        self._level = float(CUSHION * sample_rate)  # the buffer's smoothed level, in samples
        self.dropped_samples = 0  # at MAX_AUDIO_LAG
        self.inserted_samples = 0  # silence, when the buffer was empty
        self.drift_samples = 0  # read minus given by the drift correction (+: a fast microphone)

    def start(self) -> None:
        self._process = spawn(self._argv)
        assert self._process.stdout is not None
        self.feed_from(self._process.stdout)

    def feed_from(self, stream: IO[bytes]) -> None:
        """Buffer the samples read from ``stream`` (the ffmpeg pipe; a test's own pipe)."""
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[bytes]) -> None:
        while chunk := stream.read1(4096):  # type: ignore[attr-defined]
            self.receive(chunk)

    def receive(self, chunk: bytes) -> None:
        """Samples as the microphone delivered them (s16le)."""
        limit = int(MAX_AUDIO_LAG * self.sample_rate) * 2
        with self._lock:
            self._buffer += chunk
            if len(self._buffer) > limit:
                excess = (len(self._buffer) - limit) // 2 * 2
                del self._buffer[:excess]
                self.dropped_samples += excess // 2

    @property
    def ready(self) -> bool:
        """The cushion is filled, or the input has ended (no more sound will come)."""
        with self._lock:
            filled = len(self._buffer) >= int(CUSHION * self.sample_rate) * 2
        return filled or (self._process is not None and self._process.poll() is not None)

    def take(self, count: int) -> bytes:
        """``count`` samples at once: what the microphone gave, held to the clock (see the
        module's docstring), completed with silence if it is behind (never waiting: the
        recorder keeps the time)."""
        cushion = int(CUSHION * self.sample_rate) * 2
        with self._lock:
            if not self._primed and len(self._buffer) >= cushion:
                # the recording's sound starts here: sound heard before it (while the camera
                # started, say) would stay in the buffer and make all of it late
                del self._buffer[: (len(self._buffer) - cushion) // 2 * 2]
                self.dropped_samples = 0
                self._primed = True
            read, given = (
                self._drift_plan(len(self._buffer) // 2, count) if self._primed else (0, 0)
            )
            data = bytes(self._buffer[: read * 2])
            del self._buffer[: read * 2]
        if given != read:
            self.drift_samples += read - given
            data = resampled(data, given)
        missing = count * 2 - len(data)
        self.inserted_samples += missing // 2
        return data + bytes(missing)

    def _drift_plan(self, available: int, count: int) -> tuple[int, int]:
        """(samples to read from the buffer, samples they become) for a take of ``count``.
        Decided on the buffer's level smoothed over about a second: the pipe delivers in
        20 ms pieces, and that sawtooth is not drift."""
        self._level += (available - self._level) * LEVEL_SMOOTHING
        most = max(1, int(count * DRIFT_CORRECTION))
        if self._level > self._high:  # ahead of the clock: read a few more, squeezed
            read = min(available, count + most)
            return read, min(count, read)
        if self._level < self._low:  # behind: read fewer, stretched
            read = min(available, count - most)
            return read, min(count, read + most)
        return min(available, count), min(available, count)

    def error(self) -> str:
        """Why the microphone gave no sound ('' while it works)."""
        process = self._process
        if process is None or process.poll() is None or process.returncode == 0:
            return ""
        text = process.stderr.read().decode(errors="replace").strip() if process.stderr else ""
        last = text.splitlines()[-1] if text else f"exit {process.returncode}"
        return f"the microphone gave no sound ({last}); the recording has silence instead"

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()


def resampled(data: bytes, count: int) -> bytes:
    """s16le samples as ``count`` samples: evenly spaced ones left out or repeated."""
    samples = np.frombuffer(data, "<i2")
    if not len(samples):
        return b""
    index = np.round(np.linspace(0, len(samples) - 1, count)).astype(np.int64)
    return samples[index].tobytes()


class FrameGrabber:
    """Reads a camera (or anything OpenCV opens) as fast as it delivers; keeps the newest."""

    def __init__(self, target: int | str, width: int, height: int, fps: Fraction) -> None:
        self._capture = cv2.VideoCapture(target)
        if not self._capture.isOpened():
            raise MediaError(
                f"the camera {target} cannot be opened: is it connected, and not in use by "
                "another program?"
            )
        self._capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        self._capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        self._capture.set(cv2.CAP_PROP_FPS, float(fps))
        self.size = (width, height)
        self.frames_read = 0
        self._newest: np.ndarray | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            ok, frame = self._capture.read()
            if not ok:
                break
            if (frame.shape[1], frame.shape[0]) != self.size:
                frame = cv2.resize(frame, self.size, interpolation=cv2.INTER_AREA)
            with self._lock:
                self._newest = frame
                self.frames_read += 1

    def newest(self) -> np.ndarray | None:
        with self._lock:
            return self._newest

    @property
    def ended(self) -> bool:
        return not self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._capture.release()


@dataclass
class CameraSource:
    """A camera (index, device path or URL) and a sound input, as the recorder's Source."""

    camera: int | str = 0
    width: int = 1280
    height: int = 720
    fps: Fraction = Fraction(30)
    sample_rate: int = 48_000
    microphone: Sequence[str] | None = field(default_factory=microphone_input)
    _grabber: FrameGrabber | None = None
    _mic: Microphone | None = None

    def __enter__(self) -> CameraSource:
        self._grabber = FrameGrabber(self.camera, self.width, self.height, self.fps)
        self._grabber.start()
        if self.microphone is not None:
            self._mic = Microphone(self.microphone, self.sample_rate)
            self._mic.start()
        self.wait_until_ready()
        return self

    def wait_until_ready(self, timeout: float = READY_TIMEOUT) -> bool:
        """Until the camera has given a frame and the microphone its cushion (or either has
        failed, or ``timeout``): a recording then starts with picture and sound, not with
        black and silence. False when the time ran out. (The microphone's first take keeps
        only its newest cushion of sound, however long the recording takes to start.)"""
        deadline = time.monotonic() + timeout
        while not (ready := self._ready()) and time.monotonic() < deadline:
            time.sleep(0.01)
        return ready

    def _ready(self) -> bool:
        grabber, mic = self._grabber, self._mic
        camera = grabber is None or grabber.newest() is not None or grabber.ended
        return camera and (mic is None or mic.ready)

    def __exit__(self, *exc: object) -> None:
        if self._grabber is not None:
            self._grabber.stop()
        if self._mic is not None:
            self._mic.stop()

    def frame(self, number: int) -> np.ndarray | None:
        return self._grabber.newest() if self._grabber is not None else None

    def audio(self, first_sample: int, count: int) -> bytes:
        if self._mic is None:
            return bytes(count * 2)
        return self._mic.take(count)

    def samples_for_frame(self, number: int) -> tuple[int, int]:
        first = round(number * self.sample_rate / self.fps)
        return first, round((number + 1) * self.sample_rate / self.fps) - first

    def microphone_error(self) -> str:
        return self._mic.error() if self._mic is not None else ""

    @property
    def microphone_health(self) -> tuple[int, int]:
        """(samples dropped because the microphone ran ahead, silence inserted because late)."""
        return (self._mic.dropped_samples, self._mic.inserted_samples) if self._mic else (0, 0)

    @property
    def microphone_drift(self) -> int:
        """Samples the drift correction read beyond what it gave (negative: fewer)."""
        return self._mic.drift_samples if self._mic else 0


def find_cameras(limit: int = 4) -> list[int]:
    """The camera indices OpenCV can open (on Linux only those with a /dev/video device)."""
    if sys.platform == "linux":
        from pathlib import Path

        indices = sorted(int(p.name[5:]) for p in Path("/dev").glob("video[0-9]*"))
        candidates = [i for i in indices if i < limit]
    else:
        candidates = list(range(limit))
    found = []
    for index in candidates:
        capture = cv2.VideoCapture(index)
        if capture.isOpened():
            found.append(index)
        capture.release()
    return found
