"""A synthetic camera and microphone for tests, benchmarks and the demo.

Each frame shows a moving picture, a running clock, and its own frame number as a row of
black and white blocks (machine-readable after H.264 compression). The sound is a tone
whose phase continues exactly across chunks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import cv2
import numpy as np

PATTERN_BITS = 20  # 2^20 frames: 9.7 hours at 30 fps
BAND = 0.08  # the pattern's height, as a share of the frame height
TICK_SECONDS = 0.05
TICK_HZ = 1000.0


@dataclass(frozen=True)
class SyntheticSource:
    width: int = 1280
    height: int = 720
    fps: Fraction = Fraction(30)
    sample_rate: int = 48_000
    tone_hz: float = 440.0
    voice: bool = False  # the tone comes and goes like speech (a livelier waveform)
    ticks: bool = False  # instead of the tone, a 50 ms beep at each whole second (sync checks)

    def frame(self, number: int) -> np.ndarray:
        """Frame ``number`` as BGR uint8 (height × width × 3)."""
        image = np.empty((self.height, self.width, 3), np.uint8)
        shade = (number * 3) % 256
        image[:] = (60, 90 + shade // 4, 140)
        size = self.height // 4
        x = int((number * 8) % (self.width - size))
        y = self.height // 2 - size // 2 + int(self.height / 6 * math.sin(number / 15))
        image[y : y + size, x : x + size] = (40, 200, 240)
        seconds = number / self.fps
        clock = f"{int(seconds // 60):02d}:{float(seconds % 60):06.3f}  frame {number}"
        cv2.putText(
            image,
            clock,
            (self.width // 20, self.height - self.height // 12),
            cv2.FONT_HERSHEY_SIMPLEX,
            self.height / 480,
            (255, 255, 255),
            2,
            cv2.LINE_AA,
        )
        draw_pattern(image, number)
        return image

    def audio(self, first_sample: int, count: int) -> bytes:
        """``count`` samples of mono s16le tone starting at absolute sample ``first_sample``."""
        index = np.arange(first_sample, first_sample + count)
        t = index / self.sample_rate
        if self.ticks:
            beeping = index % self.sample_rate < self.sample_rate * TICK_SECONDS
            return _s16(np.where(beeping, 0.5 * np.sin(2 * np.pi * TICK_HZ * t), 0.0))
        wave = 0.3 * np.sin(2 * np.pi * self.tone_hz * t)
        if self.voice:
            wave *= np.clip(np.sin(2 * np.pi * t / 3.1) + 0.6 * np.sin(2 * np.pi * t / 0.7), 0, 1)
        return _s16(wave)

    def samples_for_frame(self, number: int) -> tuple[int, int]:
        """The audio samples that belong to video frame ``number``: (first, count)."""
        first = round(number * self.sample_rate / self.fps)
        return first, round((number + 1) * self.sample_rate / self.fps) - first


def _s16(wave: np.ndarray) -> bytes:
    return (wave * 32767).astype("<i2").tobytes()


def draw_pattern(image: np.ndarray, number: int) -> None:
    height, width = image.shape[:2]
    band = band_height(height)
    block = width // PATTERN_BITS
    for bit in range(PATTERN_BITS):
        on = (number >> (PATTERN_BITS - 1 - bit)) & 1
        image[:band, bit * block : (bit + 1) * block] = 255 if on else 0


def band_height(height: int) -> int:
    """The pattern's height in pixels in a frame ``height`` pixels high."""
    return max(8, int(height * BAND))


def read_pattern(image: np.ndarray) -> int:
    """The frame number drawn by ``draw_pattern`` (BGR or RGB, any size it was drawn at)."""
    height, width = image.shape[:2]
    return read_band(image[: band_height(height)], width // PATTERN_BITS)


def read_band(band: np.ndarray, block: int) -> int:
    """The frame number in the pattern band alone, ``block`` pixels per bit."""
    height = band.shape[0]
    number = 0
    for bit in range(PATTERN_BITS):
        x0, x1 = bit * block + block // 4, (bit + 1) * block - block // 4
        patch = band[height // 4 : height - height // 4, x0:x1]
        number = (number << 1) | int(patch.mean() > 127)
    return number
