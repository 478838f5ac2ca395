"""The exact frame at a time T, read through the loopback server from an encrypted file."""

from __future__ import annotations

from fractions import Fraction

import cv2
import numpy as np

from .errors import MediaError
from .ffmpeg import OWN_MEDIA, base_args, capture


def prepare_frame_at(url: str, frame_number: int, fps: Fraction) -> list[str]:
    """Seek to half a frame before frame n: the first frame at or after it is exactly n."""
    seek = max(Fraction(0), (frame_number - Fraction(1, 2)) / fps)
    return [
        *base_args(),
        "-ss",
        f"{float(seek):.6f}",
        *OWN_MEDIA,
        "-i",
        url,
        "-map",
        "0:v:0",
        "-frames:v",
        "1",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "bgr24",
        "pipe:1",
    ]


def frame_at(url: str, time: Fraction, fps: Fraction, size: tuple[int, int]) -> np.ndarray:
    """The frame shown at ``time`` (frame floor(time × fps)), as BGR."""
    number = int(time * fps)
    done = capture(prepare_frame_at(url, number, fps), timeout=120)
    width, height = size
    if done.returncode != 0 or len(done.stdout) < width * height * 3:
        detail = done.stderr.decode(errors="replace").strip().splitlines()
        raise MediaError(
            f"no frame at {float(time):.3f} s"
            + (f" ({detail[-1]})" if detail else " (after the end?)")
        )
    return np.frombuffer(done.stdout[: width * height * 3], np.uint8).reshape(height, width, 3)


def png_bytes(frame: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", frame)
    if not ok:
        raise MediaError("could not encode the still as PNG")
    return bytes(data)
