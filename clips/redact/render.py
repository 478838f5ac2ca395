"""What to hide in each frame, hiding in pixels (a still: solid colour or coarse blocks, with
noise; irreversible, nothing of the face is left to un-blur), and the encoder job the
redacted copy pipes into (clips/redact/overlay.py). The sound: clips/redact/sound.py."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Collection, Iterable

import numpy as np

from clips.errors import MediaError
from clips.ffmpeg import Cancel, spawn

from .detect import Box
from .plan import RedactionPlan, Track, TrackBox
from .shape import shaped, shield_of
from .sound import mute_filter, sound_graph
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
    """What to hide in ``frame``: every track not in ``visible`` and every manual box. Where
    a hidden track's margin or widening reaches over a visible track's face, that face is
    cut out of it (clips/redact/shape.py: the hidden face's own box stays)."""
    shields = [
        shield
        for t in plan.tracks
        if t.id in visible and (shield := shield_of(t, frame, plan.detect_every)) is not None
    ]
    areas = []
    for track in plan.tracks:
        if track.id in visible or not (track.first <= frame <= track.last):
            continue
        box = track.at(frame)
        if box is not None:
            whole = hidden_box(box).clipped(plan.width, plan.height)
            areas += shaped(whole, box, shields, _velocity(track, frame)) if shields else [whole]
    for manual in plan.manual:
        drawn = manual.at(frame)
        if drawn is not None:
            areas.append(drawn.clipped(plan.width, plan.height))
    return [a.clipped(plan.width, plan.height) for a in areas if a.area() > 0]


def _velocity(track: Track, frame: int) -> tuple[float, float]:
    """The box's largest move a frame around ``frame`` (pixels, x and y, signed)."""
    now = track.at(frame)
    moves = [(0.0, 0.0)]
    for other in (track.at(frame - 1), track.at(frame + 1)):
        if now is not None and other is not None:
            step = 1 if other.frame > frame else -1
            moves.append(((other.x - now.x) * step, (other.y - now.y) * step))
    return max(moves, key=lambda m: abs(m[0]) + abs(m[1]))


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


__all__ = ["hidden_areas", "hidden_box", "hide", "encode", "mute_filter", "sound_graph"]


def encode(
    argv: list[str],
    frames: Iterable[np.ndarray],
    sink: Callable[[bytes], object],
    cancel: Cancel | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Pipe ``frames`` into the encoder; its output goes to ``sink``. Frames written."""
    process = spawn(argv, stdin=subprocess.PIPE)
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
