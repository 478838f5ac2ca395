"""Filmstrip thumbnails and waveform peaks for the timeline: one ffmpeg pass each.

Thumbnails come from keyframes only (``-skip_frame nokey``: recordings and imports have
one per second), so they cost a fraction of a full decode; ``-discard nokey`` makes the
demuxer skip the other frames' bytes too, so they are neither fetched nor decrypted (60
minutes: 1.30× ffmpeg's keyframe decode of the plaintext before, see PERFORMANCE.md).
Peaks are the minimum and maximum sample per bucket of a 4 kHz mono decode, computed as the
sound streams by.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from .errors import MediaError
from .ffmpeg import OWN_MEDIA, base_args, capture, spawn
from .frames import png_bytes

PEAK_RATE = 4000  # samples per second decoded for peaks
MAGIC = b"VFOVERVIEW1\n"


def prepare_filmstrip(url: str, interval: Fraction, width: int) -> list[str]:
    keep = f"isnan(prev_selected_t)+gte(t-prev_selected_t\\,{float(interval) - 0.001:.3f})"
    return [
        *base_args(),
        "-skip_frame",
        "nokey",
        "-discard",
        "nokey",
        *OWN_MEDIA,
        "-i",
        url,
        "-map",
        "0:v:0",
        "-vf",
        f"select='{keep}',scale={width}:-2",
        "-fps_mode",
        "passthrough",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "bgr24",
        "pipe:1",
    ]


def prepare_peaks(url: str) -> list[str]:
    return [
        *base_args(),
        *OWN_MEDIA,
        "-i",
        url,
        "-map",
        "0:a:0",
        "-ac",
        "1",
        "-ar",
        str(PEAK_RATE),
        "-f",
        "s16le",
        "pipe:1",
    ]


@dataclass(frozen=True)
class Filmstrip:
    interval: Fraction
    width: int
    height: int
    thumbnails: list[bytes]  # PNG each, at times k × interval

    def to_bytes(self) -> bytes:
        header = {
            "kind": "filmstrip",
            "interval": str(self.interval),
            "width": self.width,
            "height": self.height,
            "sizes": [len(t) for t in self.thumbnails],
        }
        return MAGIC + json.dumps(header).encode() + b"\n" + b"".join(self.thumbnails)

    @classmethod
    def from_bytes(cls, data: bytes) -> Filmstrip:
        header, body = _split(data)
        thumbnails, offset = [], 0
        for size in header["sizes"]:
            thumbnails.append(body[offset : offset + size])
            offset += size
        return cls(Fraction(header["interval"]), header["width"], header["height"], thumbnails)


@dataclass(frozen=True)
class Peaks:
    buckets_per_second: int
    minimum: np.ndarray  # int16, one per bucket
    maximum: np.ndarray

    def to_bytes(self) -> bytes:
        header = {
            "kind": "peaks",
            "buckets_per_second": self.buckets_per_second,
            "count": len(self.minimum),
        }
        pairs = np.stack([self.minimum, self.maximum], axis=1).astype("<i2")
        return MAGIC + json.dumps(header).encode() + b"\n" + pairs.tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Peaks:
        header, body = _split(data)
        pairs = np.frombuffer(body, "<i2").reshape(-1, 2)
        return cls(header["buckets_per_second"], pairs[:, 0].copy(), pairs[:, 1].copy())


def _split(data: bytes) -> tuple[dict[str, Any], bytes]:
    if not data.startswith(MAGIC):
        raise MediaError("this is not a filmstrip or waveform cache")
    header, _, body = data[len(MAGIC) :].partition(b"\n")
    return json.loads(header), body


def filmstrip(url: str, interval: Fraction, size: tuple[int, int], width: int = 160) -> Filmstrip:
    height = round(size[1] * width / size[0] / 2) * 2
    done = capture(prepare_filmstrip(url, interval, width), timeout=3600)
    if done.returncode != 0:
        raise MediaError(
            f"thumbnails failed: {done.stderr.decode(errors='replace').strip()[-200:]}"
        )
    frames = np.frombuffer(done.stdout, np.uint8).reshape(-1, height, width, 3)
    return Filmstrip(interval, width, height, [png_bytes(f) for f in frames])


def peaks(url: str, buckets_per_second: int = 50) -> Peaks:
    bucket = PEAK_RATE // buckets_per_second
    process = spawn(prepare_peaks(url))
    assert process.stdout is not None and process.stderr is not None
    lows: list[np.ndarray] = []
    highs: list[np.ndarray] = []
    leftover = np.zeros(0, np.int16)
    while block := process.stdout.read(bucket * 2 * 4096):
        samples = np.concatenate([leftover, np.frombuffer(block, "<i2")])
        whole = len(samples) // bucket * bucket
        shaped = samples[:whole].reshape(-1, bucket)
        lows.append(shaped.min(axis=1))
        highs.append(shaped.max(axis=1))
        leftover = samples[whole:]
    if len(leftover):
        lows.append(leftover.min(keepdims=True))
        highs.append(leftover.max(keepdims=True))
    error = process.stderr.read().decode(errors="replace")
    if process.wait() != 0:
        raise MediaError(f"waveform failed: {error.strip()[-200:]}")
    empty = np.zeros(0, np.int16)
    return Peaks(
        buckets_per_second,
        np.concatenate(lows) if lows else empty,
        np.concatenate(highs) if highs else empty,
    )


def overview(url: str, interval: Fraction, size: tuple[int, int]) -> tuple[Filmstrip, Peaks]:
    """Both passes at once (one per core)."""
    result: dict[str, Peaks] = {}
    errors: list[BaseException] = []

    def audio() -> None:
        try:
            result["peaks"] = peaks(url)
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    thread = threading.Thread(target=audio, daemon=True)
    thread.start()
    strip = filmstrip(url, interval, size)
    thread.join()
    if errors:
        raise errors[0]
    return strip, result["peaks"]
