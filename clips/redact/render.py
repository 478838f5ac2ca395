"""Hiding in pixels, and the redacted copy: frames decoded from the original, every hidden
area replaced by solid colour with noise (or coarse blocks with noise), re-encoded; sound
silenced over the muted ranges. Irreversible: nothing of the face is left to un-blur."""

from __future__ import annotations

import secrets
import subprocess
import threading
from collections.abc import Callable, Collection, Iterable
from fractions import Fraction

import numpy as np

from clips.errors import MediaError
from clips.ffmpeg import OWN_MEDIA, TAG_BT709, Cancel, base_args, video_encoder_args

from .detect import Box
from .plan import RedactionPlan, TrackBox
from .source import widen_pipe

#: The share of a face box's size added on every side, always.
MARGIN = 0.25
#: Added (times 1 - confidence) where the tracker is unsure or has lost the face: a held
#: face's box is 2.5× as wide as the face after a second.
WIDEN = 0.75
NOISE = 48  # ± grey levels of noise over the hidden area


def hidden_box(box: TrackBox) -> Box:
    return box.box.grown(MARGIN + WIDEN * max(0.0, 1.0 - box.confidence))


def hidden_areas(plan: RedactionPlan, frame: int, visible: Collection[str]) -> list[Box]:
    """What to hide in ``frame``: every track not in ``visible`` and every manual box."""
    areas = []
    for track in plan.tracks:
        if track.id in visible or not (track.first <= frame <= track.last):
            continue
        box = track.at(frame)
        if box is not None:
            areas.append(hidden_box(box).clipped(plan.width, plan.height))
    for manual in plan.manual:
        drawn = manual.at(frame)
        if drawn is not None:
            areas.append(drawn.clipped(plan.width, plan.height))
    return [a for a in areas if a.area() > 0]


def hide(frame: np.ndarray, area: Box, rng: np.random.Generator, style: str = "fill") -> None:
    """Overwrite ``area`` in place: one flat colour plus noise (fill), or blocks of a
    quarter of the area's size plus noise (pixelate). Nothing of the face survives either."""
    x0, y0 = int(area.x), int(area.y)
    x1, y1 = int(np.ceil(area.x + area.w)), int(np.ceil(area.y + area.h))
    region = frame[y0:y1, x0:x1]
    _cover(region, rng, style, 110, NOISE)


def _cover(
    region: np.ndarray, rng: np.random.Generator, style: str, level: int, noise: int
) -> None:
    if region.size == 0:
        return
    if style == "pixelate":
        block = max(8, max(region.shape[:2]) // 4)
        small = region[::block, ::block].astype(np.int16)
        base = np.repeat(np.repeat(small, block, 0), block, 1)[: region.shape[0], : region.shape[1]]
        base = (base // 64) * 64 + 32  # four levels a channel: coarse, not a face
    else:
        base = np.full(region.shape, level, np.int16)
    grain = rng.integers(-noise, noise + 1, region.shape, dtype=np.int16)
    region[:] = np.clip(base + grain, 0, 255).astype(np.uint8)


def hide_yuv(frame: np.ndarray, area: Box, rng: np.random.Generator, style: str = "fill") -> None:
    """``hide`` on a YUV 4:2:0 frame ((height × 3/2, width) planes), the area widened to
    even pixels so the colour planes are covered too."""
    height, width = frame.shape[0] * 2 // 3, frame.shape[1]
    x0, y0 = int(area.x) // 2 * 2, int(area.y) // 2 * 2
    x1 = min(width, -(-int(np.ceil(area.x + area.w)) // 2) * 2)
    y1 = min(height, -(-int(np.ceil(area.y + area.h)) // 2) * 2)
    _cover(frame[y0:y1, x0:x1], rng, style, 110, NOISE)
    flat = frame.reshape(-1)
    quarter = (height // 2) * (width // 2)
    for plane in range(2):
        start = height * width + plane * quarter
        chroma = flat[start : start + quarter].reshape(height // 2, width // 2)
        _cover(chroma[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2], rng, "fill", 128, NOISE // 3)


def redact_frames(
    frames: Iterable[np.ndarray],
    plan: RedactionPlan,
    visible: Collection[str],
    style: str = "fill",
) -> Iterable[np.ndarray]:
    """Frames (YUV 4:2:0 from ``read_frames(..., pix_fmt="yuv420p")``) with every hidden
    area covered."""
    rng = np.random.default_rng(secrets.randbits(128))  # fresh each time: no noise to subtract
    whole = [Box(0, 0, plan.width, plan.height)]
    for number, frame in enumerate(frames):
        # a frame the plan never saw (it should not happen) is covered whole: fail safe
        areas = hidden_areas(plan, number, visible) if number < plan.frames else whole
        if areas:
            frame = frame.copy()
            for area in areas:
                hide_yuv(frame, area, rng, style)
        yield frame


def mute_filter(mutes: Iterable[tuple[Fraction, Fraction]]) -> str:
    ranges = "+".join(f"between(t,{float(s):.6f},{float(e):.6f})" for s, e in mutes)
    return f"volume=enable='{ranges}':volume=0" if ranges else "anull"


def prepare_encode(plan: RedactionPlan, url: str, has_sound: bool, own: bool = True) -> list[str]:
    """ffmpeg reading redacted raw frames on stdin and the original's sound from ``url``;
    a fragmented MP4 on stdout."""
    fps = Fraction(plan.fps)
    args = [
        *base_args(stdin=True, progress=True),
        "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{plan.width}x{plan.height}",
        "-r", str(fps), "-i", "pipe:0",
    ]  # fmt: skip
    if has_sound:
        args += [*(OWN_MEDIA if own else []), "-vn", "-i", url]
    args += ["-map", "0:v:0", *video_encoder_args(fps)]
    args += ["-vf", TAG_BT709]  # the recording's own BT.709 YUV, tagged as such
    if has_sound:
        mutes = [m.seconds() for m in plan.mutes]
        args += ["-map", "1:a:0", "-af", mute_filter(mutes), "-c:a", "aac", "-b:a", "128k"]
    return args + [
        "-movflags", "frag_keyframe+empty_moov+default_base_moof", "-f", "mp4", "pipe:1",
    ]  # fmt: skip


def encode(
    argv: list[str],
    frames: Iterable[np.ndarray],
    sink: Callable[[bytes], object],
    cancel: Cancel | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Pipe ``frames`` into the encoder; its output goes to ``sink``. Frames written."""
    process = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    if cancel is not None:
        cancel.watch(process)
    assert process.stdin and process.stdout and process.stderr
    widen_pipe(process.stdin)
    errors: list[bytes] = []
    out, err = process.stdout, process.stderr
    readers = [
        threading.Thread(target=lambda: _drain(out, sink), daemon=True),
        threading.Thread(target=lambda: errors.append(err.read()), daemon=True),
    ]
    for reader in readers:
        reader.start()
    written = 0
    try:
        for frame in frames:
            process.stdin.write(np.ascontiguousarray(frame).data)
            written += 1
            if progress and written % 30 == 0:
                progress(written)
    except BrokenPipeError:
        pass
    finally:
        process.stdin.close()
        code = process.wait()
        for reader in readers:
            reader.join()
    if cancel is not None:
        cancel.check()
    if code != 0:
        lines = [line for line in b"".join(errors).decode(errors="replace").splitlines()
                 if "=" not in line]  # fmt: skip
        raise MediaError(f"the redacted copy failed: {lines[-1] if lines else 'ffmpeg failed'}")
    return written


def _drain(stream: object, sink: Callable[[bytes], object]) -> None:
    read = getattr(stream, "read")  # noqa: B009 - a binary pipe
    while chunk := read(1 << 16):
        sink(chunk)
