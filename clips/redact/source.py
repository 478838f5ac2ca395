"""Every frame of a film as BGR arrays in memory, decoded by ffmpeg from a URL (the loopback
server decrypting a recording); nothing is written to disk."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from typing import IO

import numpy as np

from clips.errors import MediaError
from clips.ffmpeg import OWN_MEDIA, Cancel, base_args, spawn

#: Bytes a pixel, for the raw formats we read: BGR for analysis, the film's own 4:2:0 YUV
#: for the redacted copy (no colour conversion either way, half the bytes through the pipe).
PIXEL_BYTES = {"bgr24": 3.0, "yuv420p": 1.5}


def widen_pipe(pipe: IO[bytes]) -> None:
    """A 1 MiB pipe instead of 64 KiB: a 720p frame crosses in one or two reads, not 22."""
    with contextlib.suppress(OSError, AttributeError):
        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)


def prepare_decode(
    url: str, own: bool = True, pix_fmt: str = "bgr24", scale_to: tuple[int, int] | None = None
) -> list[str]:
    scale = ["-vf", f"scale={scale_to[0]}:{scale_to[1]}:flags=area"] if scale_to else []
    return [
        *base_args(),
        "-threads", "1",  # one decoding thread: the frames wait for us anyway (-0.2 CPU s/10 s)
        *(OWN_MEDIA if own else []),
        "-i", url,
        "-map", "0:v:0",
        *scale,
        "-fps_mode", "passthrough",
        "-f", "rawvideo",
        "-pix_fmt", pix_fmt,
        "pipe:1",
    ]  # fmt: skip


def read_frames(
    url: str,
    size: tuple[int, int],
    own: bool = True,
    cancel: Cancel | None = None,
    pix_fmt: str = "bgr24",
    scaled: bool = False,
) -> Iterator[np.ndarray]:
    """The film's frames in order, ``size`` pixels (scaled to it when ``scaled``): BGR
    arrays (height, width, 3), or YUV 4:2:0 as (height × 3/2, width) planes one after
    another. The decoder is stopped if the caller stops early."""
    width, height = size
    frame_bytes = int(width * height * PIXEL_BYTES[pix_fmt])
    shape = (height, width, 3) if pix_fmt == "bgr24" else (height * 3 // 2, width)
    argv = prepare_decode(url, own, pix_fmt, size if scaled else None)
    process = spawn(argv, bufsize=frame_bytes)
    if cancel is not None:
        cancel.watch(process)
    assert process.stdout is not None and process.stderr is not None
    widen_pipe(process.stdout)
    try:
        while True:
            data = process.stdout.read(frame_bytes)
            if len(data) < frame_bytes:
                break
            yield np.frombuffer(data, np.uint8).reshape(shape)
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
