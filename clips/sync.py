"""How far sound and picture of a recording drift apart, measured over its whole length.

Record the synthetic source with ``ticks=True``: it beeps for 50 ms at each whole second of its
sound clock and draws its frame number on every frame. Recordings have a keyframe at every
whole second. So at each second S of the output, the keyframe shown carries frame number N
(the picture was made at N / fps) and a beep starts at A (its sound was made at round(A)).
Each stream's lag is output time − time made; the drift at S is the sound's lag minus the
picture's: zero when they agree, positive when the sound comes late.
"""

from __future__ import annotations

import bisect
import re
import threading
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .errors import MediaError
from .ffmpeg import base_args, capture, spawn
from .synthetic import PATTERN_BITS, band_height, read_band

SAMPLE_RATE = 48_000
ENVELOPE = 48  # samples per envelope step (1 ms)
THRESHOLD = 0.1 * 32768  # a beep is 0.5 of full scale, silence 0
QUIET_BEFORE = 300  # envelope steps (ms) of silence before a beep's start
BAND_WIDTH = 320  # the pattern band is scaled to this many pixels (16 per bit)
BAND_HEIGHT = 16
_PTS = re.compile(r"pts_time:\s*([-\d.]+)")
# Decoded with the demuxer's defaults, as a player decodes: not with OWN_MEDIA, whose mfra
# timing moves the sound of later fragments by 21 ms (docs/ARCHITECTURE.md).


@dataclass(frozen=True)
class SyncReport:
    seconds: list[int]  # whole seconds of the output where both streams were measured
    drift_ms: list[float]  # sound lag minus picture lag at each of them

    @property
    def worst_ms(self) -> float:
        return max((abs(d) for d in self.drift_ms), default=0.0)

    def summary(self) -> str:
        if not self.seconds:
            return "no second could be measured"
        return (
            f"{len(self.seconds)} seconds measured from {self.seconds[0]} s to "
            f"{self.seconds[-1]} s: drift {self.drift_ms[0]:+.1f} ms at the start, "
            f"{self.drift_ms[-1]:+.1f} ms at the end, worst {self.worst_ms:.1f} ms"
        )


def prepare_keyframe_bands(
    url: str, size: tuple[int, int], keyframes_only: bool = True
) -> list[str]:
    """Decode the keyframes (or every frame), keep the pattern band, small and grey (pure)."""
    width, height = size
    pattern_width = width // PATTERN_BITS * PATTERN_BITS
    crop = f"crop={pattern_width}:{band_height(height)}:0:0"
    start = base_args()
    start[start.index("-loglevel") + 1] = "info"  # showinfo reports at the info level
    return [
        *start,
        *(["-skip_frame", "nokey"] if keyframes_only else []),
        "-i", url, "-map", "0:v:0",
        "-vf", f"{crop},scale={BAND_WIDTH}:{BAND_HEIGHT},showinfo",
        "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1",
    ]  # fmt: skip


def prepare_sound(url: str) -> list[str]:
    """Decode the sound, mono at 48 kHz (pure)."""
    return [
        *base_args(),
        "-i", url, "-map", "0:a:0", "-ac", "1", "-ar", str(SAMPLE_RATE),
        "-f", "s16le", "pipe:1",
    ]  # fmt: skip


def picture_lags(
    url: str, size: tuple[int, int], fps: Fraction, keyframes_only: bool = True
) -> list[tuple[float, float]]:
    """(output time, the picture's lag there) for every keyframe (or frame), in order."""
    argv = prepare_keyframe_bands(url, size, keyframes_only)
    done = capture(argv, timeout=3600)
    if done.returncode != 0:
        raise MediaError(f"reading the picture failed: {done.stderr.decode()[-200:]}")
    times = [float(t) for t in _PTS.findall(done.stderr.decode(errors="replace"))]
    bands = np.frombuffer(done.stdout, np.uint8).reshape(-1, BAND_HEIGHT, BAND_WIDTH)
    lags = []
    for shown, band in zip(times, bands, strict=False):
        made = read_band(band, BAND_WIDTH // PATTERN_BITS) / float(fps)
        lags.append((shown, shown - made))
    return lags


def beep_starts(url: str) -> list[float]:
    """The output times (seconds) at which each beep starts."""
    process = spawn(prepare_sound(url))
    assert process.stdout is not None and process.stderr is not None
    errors: list[bytes] = []
    stderr = process.stderr
    reader = threading.Thread(target=lambda: errors.append(stderr.read()), daemon=True)
    reader.start()
    envelope: list[np.ndarray] = []
    leftover = np.zeros(0, np.int16)
    while block := process.stdout.read(ENVELOPE * 2 * 8192):
        samples = np.concatenate([leftover, np.frombuffer(block, "<i2")])
        whole = len(samples) // ENVELOPE * ENVELOPE
        envelope.append(np.abs(samples[:whole].astype(np.int32)).reshape(-1, ENVELOPE).max(axis=1))
        leftover = samples[whole:]
    reader.join()
    if process.wait() != 0:
        raise MediaError(f"reading the sound failed: {b''.join(errors).decode()[-200:]}")
    loud = np.concatenate(envelope) > THRESHOLD if envelope else np.zeros(0, bool)
    return [step * ENVELOPE / SAMPLE_RATE for step in _starts(loud)]


def _starts(loud: np.ndarray) -> list[int]:
    """Steps that are loud after at least QUIET_BEFORE quiet ones (so not the first beep)."""
    rising = np.flatnonzero(loud[1:] & ~loud[:-1]) + 1
    last_loud = np.maximum.accumulate(np.where(loud, np.arange(len(loud)), 0))
    return [int(s) for s in rising if s - last_loud[s - 1] > QUIET_BEFORE]


def measure(
    url: str, size: tuple[int, int], fps: Fraction, keyframes_only: bool = True
) -> SyncReport:
    """Drift between sound and picture at each beep of a ticking recording, or of a cut or
    reel made from one: the picture's lag at a beep is the lag at the keyframe before it (a
    smart cut's clips each begin with a keyframe). A re-encoded reel has keyframes anywhere:
    measure it with ``keyframes_only=False`` (every frame decoded; for short films)."""
    pictures = picture_lags(url, size, fps, keyframes_only)
    shown = [time for time, _ in pictures]
    seconds, drift = [], []
    for start in beep_starts(url):
        before = bisect.bisect_right(shown, start + 0.001) - 1
        if before < 0:
            continue
        picture_lag = pictures[before][1]
        made = round(start - picture_lag)  # the whole second of the sound clock it beeped at
        seconds.append(round(start))
        drift.append((start - made - picture_lag) * 1000)
    return SyncReport(seconds, drift)
