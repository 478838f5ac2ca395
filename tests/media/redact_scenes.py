"""Made-up films with exact ground truth: Grace Hopper's portrait (public domain, from
../shared/faces) pasted over a synthetic textured background, moved, scaled and occluded.
The ground truth is where we pasted her face: the face's box in the still (forehead to
chin, ear to ear, drawn by hand once: FACE) moved and scaled as the paste was."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path

import cv2
import numpy as np

from clips.ffmpeg import ffmpeg_exe
from clips.redact.detect import Box
from tests.paths import SHARED

FACES = SHARED / "faces"
GRACE = FACES / "still_grace_hopper_frontal_portrait_517x606.jpg"
HEADPOSE = FACES / "video_intel_headpose_woman_and_man_indoor_480x270_4.7s.gif"
SIGNER = FACES / "video_intel_asl_man_hand_over_mouth_occlusion_640x480_1.6s.mkv"
#: The patch we paste (cap to collar) and the face in it, in the still's pixels.
PATCH = (100, 30, 340, 400)  # x, y, w, h
FACE = Box(175 - 100, 120 - 30, 190, 225)


@cache
def grace_patch() -> np.ndarray:
    image = cv2.imread(str(GRACE))
    x, y, w, h = PATCH
    return np.ascontiguousarray(image[y : y + h, x : x + w])


@cache
def background(width: int, height: int, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    texture = cv2.GaussianBlur(rng.integers(0, 255, (height, width, 3), dtype=np.uint8), (0, 0), 5)
    ramp = np.linspace(40, 160, width, dtype=np.float32)[None, :, None]
    return np.clip(texture.astype(np.float32) * 0.6 + ramp, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class Placement:
    """Grace's patch at (x, y), scaled by ``scale``; ``flip`` mirrors her (a second person);
    ``squeeze`` narrows her (a head turned towards a side view)."""

    x: float
    y: float
    scale: float
    flip: bool = False
    squeeze: float = 1.0

    def face(self) -> Box:
        sx = self.scale * self.squeeze
        left = (PATCH[2] - FACE.x - FACE.w) if self.flip else FACE.x
        return Box(self.x + left * sx, self.y + FACE.y * self.scale, FACE.w * sx,
                   FACE.h * self.scale)  # fmt: skip

    def patch(self) -> Box:
        return Box(self.x, self.y, PATCH[2] * self.scale * self.squeeze, PATCH[3] * self.scale)


def _share_under(face: Box, cover: Box) -> float:
    x0, y0 = max(face.x, cover.x), max(face.y, cover.y)
    x1, y1 = min(face.x + face.w, cover.x + cover.w), min(face.y + face.h, cover.y + cover.h)
    return max(0.0, x1 - x0) * max(0.0, y1 - y0) / face.area()


@dataclass(frozen=True)
class Occluder:
    """A grey board over part of the frame (x, y, w, h) from frame ``start`` to ``end``."""

    start: int
    end: int
    rect: tuple[int, int, int, int]
    colour: tuple[int, int, int] = (90, 90, 90)  # BGR; a hand is skin-coloured


Motion = Callable[[int], list[Placement]]


@dataclass(frozen=True)
class Scene:
    name: str
    width: int
    height: int
    fps: Fraction
    frames: int
    motion: Motion
    occluders: tuple[Occluder, ...] = ()
    participant: int = 0  # which placement is the consenting participant

    def render(self, number: int) -> tuple[np.ndarray, list[Box]]:
        """The frame and the faces visible in it (a face fully under a board is not)."""
        frame = background(self.width, self.height).copy()
        faces: list[Box] = []
        for place in self.motion(number):
            _paste(frame, place)
            patch = place.patch()
            faces = [f for f in faces if _share_under(f, patch) < 0.5]  # behind another head
            faces.append(place.face())
        for occluder in self.occluders:
            if occluder.start <= number < occluder.end:
                x, y, w, h = occluder.rect
                frame[y : y + h, x : x + w] = occluder.colour
                faces = [f for f in faces if not Box(x, y, w, h).covers(f)]
        return frame, faces

    def __iter__(self) -> Iterator[np.ndarray]:
        for number in range(self.frames):
            yield self.render(number)[0]

    def truth(self) -> list[list[Box]]:
        return [self.render(n)[1] for n in range(self.frames)]

    def write(self, path: Path, tone: bool = True) -> Path:
        """The scene as an H.264 MP4 (with a 440 Hz tone) for import."""
        argv = [ffmpeg_exe(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24",
                "-s", f"{self.width}x{self.height}", "-r", str(self.fps), "-i", "pipe:0"]  # fmt: skip
        if tone:
            seconds = float(Fraction(self.frames) / self.fps)
            argv += [
                "-f",
                "lavfi",
                "-i",
                f"sine=frequency=440:duration={seconds}:sample_rate=48000",
            ]
        argv += ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "16", "-pix_fmt", "yuv420p"]
        argv += ["-c:a", "aac", "-shortest"] if tone else []
        process = subprocess.Popen([*argv, str(path)], stdin=subprocess.PIPE)
        assert process.stdin is not None
        for frame in self:
            process.stdin.write(frame.tobytes())
        process.stdin.close()
        assert process.wait(timeout=300) == 0
        return path


def _paste(frame: np.ndarray, place: Placement) -> None:
    patch = grace_patch()
    if place.flip:
        patch = patch[:, ::-1]
    size = (
        max(1, round(patch.shape[1] * place.scale * place.squeeze)),
        max(1, round(patch.shape[0] * place.scale)),
    )
    small = cv2.resize(patch, size, interpolation=cv2.INTER_AREA)
    x, y = round(place.x), round(place.y)
    h, w = frame.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(w, x + size[0]), min(h, y + size[1])
    if x1 > x0 and y1 > y0:
        frame[y0:y1, x0:x1] = small[y0 - y : y1 - y, x0 - x : x1 - x]


# --- the scenes ---------------------------------------------------------------------------------


def walking(width: int = 640, height: int = 360, fps: int = 15, seconds: int = 4) -> Scene:
    """One face crossing the frame while growing, with a board over it for half a second."""
    frames = fps * seconds
    scale0 = height / 1200

    def motion(n: int) -> list[Placement]:
        t = n / frames
        scale = scale0 * (1 + 0.8 * t)
        return [Placement(width * (0.05 + 0.55 * t), height * (0.1 + 0.05 * np.sin(6 * t)), scale)]

    board = Occluder(frames // 2, frames // 2 + fps // 2, (0, 0, width, height * 3 // 4))
    return Scene("walking", width, height, Fraction(fps), frames, motion, (board,))


def two_people(width: int = 640, height: int = 360, fps: int = 15, seconds: int = 3) -> Scene:
    """A participant sitting still on the left, another person moving on the right."""
    frames = fps * seconds
    scale = height / 1100

    def motion(n: int) -> list[Placement]:
        t = n / frames
        return [
            Placement(width * 0.04, height * 0.15, scale),
            Placement(
                width * (0.55 + 0.08 * np.sin(4 * t)), height * (0.12 + 0.04 * t), scale, True
            ),
        ]

    return Scene("two people", width, height, Fraction(fps), frames, motion)


def zooming(width: int = 640, height: int = 360, fps: int = 15, seconds: int = 4) -> Scene:
    """A face growing from small (about 30 px high at 720p) to large, drifting."""
    frames = fps * seconds

    def motion(n: int) -> list[Placement]:
        t = n / frames
        scale = (height / 720) * (0.14 + 1.2 * t * t)
        return [Placement(width * (0.5 - 0.25 * t), height * (0.45 - 0.4 * t), scale)]

    return Scene("zooming", width, height, Fraction(fps), frames, motion)


def coverage(face: Box, hidden: list[Box], size: tuple[int, int]) -> float:
    """The share of the face's pixels under the hidden areas."""
    width, height = size
    clipped = face.clipped(width, height)
    x0, y0 = int(clipped.x), int(clipped.y)
    x1, y1 = int(np.ceil(clipped.x + clipped.w)), int(np.ceil(clipped.y + clipped.h))
    if x1 <= x0 or y1 <= y0:
        return 1.0
    mask = np.zeros((y1 - y0, x1 - x0), bool)
    for area in hidden:
        ax0, ay0 = max(x0, int(area.x)), max(y0, int(area.y))
        ax1, ay1 = min(x1, int(np.ceil(area.x + area.w))), min(y1, int(np.ceil(area.y + area.h)))
        if ax1 > ax0 and ay1 > ay0:
            mask[ay0 - y0 : ay1 - y0, ax0 - x0 : ax1 - x0] = True
    return float(mask.mean())


def _mask(
    box: Box, areas: list[Box], origin: tuple[int, int], shape: tuple[int, int]
) -> np.ndarray:
    """Which pixels of a (shape) window at origin lie under ``areas``."""
    x0, y0 = origin
    mask = np.zeros(shape, bool)
    for area in areas:
        ax0, ay0 = max(x0, int(area.x)), max(y0, int(area.y))
        ax1 = min(x0 + shape[1], int(np.ceil(area.x + area.w)))
        ay1 = min(y0 + shape[0], int(np.ceil(area.y + area.h)))
        if ax1 > ax0 and ay1 > ay0:
            mask[ay0 - y0 : ay1 - y0, ax0 - x0 : ax1 - x0] = True
    return mask


def visible_share_hidden(scene: Scene, number: int, index: int, hidden: list[Box]) -> float:
    """Of the pixels of person ``index``'s face box that show her face in frame ``number``
    (not under a head pasted after hers or a board), the share under ``hidden``; 0 when
    none shows."""
    places = scene.motion(number)
    face = places[index].face().clipped(scene.width, scene.height)
    x0, y0 = int(face.x), int(face.y)
    x1, y1 = int(np.ceil(face.x + face.w)), int(np.ceil(face.y + face.h))
    if x1 <= x0 or y1 <= y0:
        return 0.0
    shape = (y1 - y0, x1 - x0)
    fronts = [p.patch() for p in places[index + 1 :]]
    fronts += [Box(*o.rect) for o in scene.occluders if o.start <= number < o.end]
    shows = ~_mask(face, fronts, (x0, y0), shape)
    if not shows.any():
        return 0.0
    return float((_mask(face, hidden, (x0, y0), shape) & shows).sum() / shows.sum())


def dashing(width: int = 640, height: int = 360, fps: int = 15, seconds: int = 4) -> Scene:
    """A face running across the frame and back every 1.5 s (a child running past)."""
    frames = fps * seconds
    scale = height / 1300

    def motion(n: int) -> list[Placement]:
        phase = (n / fps / 1.5) % 2
        across = phase if phase <= 1 else 2 - phase
        return [Placement(width * (0.02 + 0.7 * across), height * 0.2, scale)]

    return Scene("dashing", width, height, Fraction(fps), frames, motion)


def crossing(width: int = 640, height: int = 360, fps: int = 15, seconds: int = 4) -> Scene:
    """A participant sitting still; someone else walks in front of her and on (their heads
    overlap for a while): the tracks must not swap, and the crossing goes to review."""
    frames = fps * seconds
    scale = height / 1100

    def motion(n: int) -> list[Placement]:
        t = n / frames
        return [
            Placement(width * 0.35, height * 0.15, scale),
            Placement(width * (0.75 - 0.75 * t), height * 0.2, scale * 1.1, True),
        ]

    return Scene("crossing", width, height, Fraction(fps), frames, motion)


def behind(width: int = 640, height: int = 360, fps: int = 15, seconds: int = 4) -> Scene:
    """A participant near the camera (a large face); someone far behind her (a face a third
    her size) walks across behind her head and back: the nearer face hides the farther one."""
    frames = fps * seconds
    scale = height / 1100

    def motion(n: int) -> list[Placement]:
        t = n / frames
        across = 1 - abs(1 - 2 * t)  # 0 → 1 → 0
        return [
            Placement(width * (0.85 - 0.6 * across), height * 0.2, scale * 0.55, True),
            Placement(width * 0.35, height * 0.05, scale * 1.5),
        ]

    return Scene("behind", width, height, Fraction(fps), frames, motion, participant=1)


def child(width: int = 640, height: int = 360, fps: int = 15, seconds: int = 4) -> Scene:
    """A child (a face about half a seated adult's) runs in front of the participant and
    back, her small face passing over the lower half of the participant's."""
    frames = fps * seconds
    scale = height / 1000

    def motion(n: int) -> list[Placement]:
        t = n / frames
        across = 1 - abs(1 - 2 * t)
        return [
            Placement(width * 0.4, height * 0.05, scale),
            Placement(width * (0.02 + 0.8 * across), height * 0.3, scale * 0.5, True),
        ]

    return Scene("child", width, height, Fraction(fps), frames, motion)


def turned(width: int = 640, height: int = 360, fps: int = 15, seconds: int = 4) -> Scene:
    """Two heads turned to a side view (narrowed, mirrored), the other person leaning in
    until their heads overlap, then back."""
    frames = fps * seconds
    scale = height / 1000

    def motion(n: int) -> list[Placement]:
        t = n / frames
        lean = np.sin(np.pi * t) ** 2
        return [
            Placement(width * 0.2, height * 0.12, scale, False, 0.65),
            Placement(width * (0.62 - 0.25 * lean), height * 0.15, scale * 1.05, True, 0.6),
        ]

    return Scene("turned", width, height, Fraction(fps), frames, motion)


SKIN = (120, 160, 210)


def hand(width: int = 640, height: int = 360, fps: int = 15, seconds: int = 4) -> Scene:
    """Two people side by side; a hand covers the other person's mouth and chin for the
    middle half of the film, and the participant's for a quarter."""
    frames = fps * seconds
    scale = height / 1000
    places = [
        Placement(width * 0.08, height * 0.1, scale),
        Placement(width * 0.5, height * 0.12, scale, True),
    ]
    hands = []
    for place, (start, end) in zip(places, [(frames // 8, frames * 3 // 8),
                                          (frames // 4, frames * 3 // 4)], strict=True):  # fmt: skip
        face = place.face()
        rect = (int(face.x - face.w * 0.1), int(face.y + face.h * 0.55), int(face.w * 1.2),
                int(face.h * 0.6))  # fmt: skip
        hands.append(Occluder(start, end, rect, SKIN))
    return Scene("hand", width, height, Fraction(fps), frames, lambda n: places, tuple(hands))


SCENES = (walking, two_people, zooming, dashing, crossing)
#: Harder scenes for the participant beside, behind and in front of someone else.
HARD = (behind, child, turned, hand)
