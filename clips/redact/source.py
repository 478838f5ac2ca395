"""Every frame of a film as BGR arrays in memory, decoded by ffmpeg from a URL (the loopback
server decrypting a recording); nothing is written to disk."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import numpy as np

from clips.errors import MediaError
from clips.ffmpeg import OWN_MEDIA, Cancel, base_args


def prepare_decode(url: str, own: bool = True) -> list[str]:
    return [
        *base_args(),
        *(OWN_MEDIA if own else []),
        "-i",
        url,
        "-map",
        "0:v:0",
        "-fps_mode",
        "passthrough",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "bgr24",
        "pipe:1",
    ]


def read_frames(
    url: str, size: tuple[int, int], own: bool = True, cancel: Cancel | None = None
) -> Iterator[np.ndarray]:
    """The film's frames in order; the decoder is stopped if the caller stops early."""
    width, height = size
    frame_bytes = width * height * 3
    process = subprocess.Popen(
        prepare_decode(url, own),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        bufsize=frame_bytes,
    )
    if cancel is not None:
        cancel.watch(process)
    assert process.stdout is not None and process.stderr is not None
    try:
        while True:
            data = process.stdout.read(frame_bytes)
            if len(data) < frame_bytes:
                break
            yield np.frombuffer(data, np.uint8).reshape(height, width, 3)
        code = process.wait()
        if cancel is not None:
            cancel.check()
        if code != 0:
            message = process.stderr.read().decode(errors="replace").strip().splitlines()
            raise MediaError(f"decoding failed: {message[-1] if message else 'ffmpeg failed'}")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()
