"""Detection and tracking on real faces (../shared/faces) and on made-up motion of them with
exact ground truth; fail-safe widening when a face is lost; the plan's model; the hiding."""

from fractions import Fraction

import numpy as np
import pytest

from clips.redact.detect import Box, FaceDetector
from clips.redact.plan import Keyframe, ManualBox, RedactionPlan
from clips.redact.render import hidden_areas, hidden_box, hide
from clips.redact.source import read_frames
from clips.redact.track import FaceTracker, TrackerSettings, track_frames
from tests.media.redact_scenes import (
    HEADPOSE,
    SCENES,
    SIGNER,
    Scene,
    coverage,
    crossing,
    grace_patch,
    two_people,
    walking,
)

pytestmark = pytest.mark.skipif(
    not HEADPOSE.exists(), reason=f"the faces corpus is not at {HEADPOSE.parent}"
)


def _plan(scene: Scene, settings: TrackerSettings | None = None) -> RedactionPlan:
    tracks, stretches, count = track_frames(
        iter(scene), scene.fps, (scene.width, scene.height), settings=settings
    )
    return RedactionPlan(
        "m1", str(scene.fps), scene.width, scene.height, count, 5, tuple(tracks),
        stretches=tuple(stretches),
    )  # fmt: skip


def _recall(scene: Scene, plan: RedactionPlan, visible=()) -> float:
    """The share of frames where every ground-truth face is at least 95 % hidden."""
    covered = 0
    for number, faces in enumerate(scene.truth()):
        areas = hidden_areas(plan, number, visible)
        covered += all(coverage(f, areas, (scene.width, scene.height)) >= 0.95 for f in faces)
    return covered / scene.frames


@pytest.mark.parametrize(
    ("film", "size", "faces"), [(HEADPOSE, (480, 270), 2), (SIGNER, (640, 480), 1)]
)
def test_the_detector_finds_real_faces_turning_and_behind_a_hand(film, size, faces):
    detector = FaceDetector()
    counts = [len(detector(frame)) for frame in read_frames(str(film), size, own=False)]
    assert len(counts) > 40 and set(counts) == {faces}


def test_tracks_of_real_footage_cover_both_heads_throughout():
    fps = Fraction(25, 2)
    tracks, _, count = track_frames(
        read_frames(str(HEADPOSE), (480, 270), own=False), fps, (480, 270)
    )
    assert len(tracks) == 2 and all(t.first == 0 and t.last == count - 1 for t in tracks)
    left, right = sorted(tracks, key=lambda t: t.boxes[0].x)
    assert all(a.x + a.w < b.x for a, b in zip(left.boxes, right.boxes, strict=True))


@pytest.mark.parametrize("make", SCENES)
def test_every_face_of_made_up_motion_is_hidden_in_every_frame(make):
    scene = make()
    assert _recall(scene, _plan(scene)) == 1.0


def test_without_the_margin_and_back_fill_faces_would_leak():
    """The recall test can fail: the raw detector boxes of every Nth frame alone miss faces."""
    scene = walking()
    plan = _plan(scene)
    bare = RedactionPlan(
        plan.media, plan.fps, plan.width, plan.height, plan.frames, 5,
        tuple(t.__class__(t.id, tuple(b for b in t.boxes if b.frame % 5 == 0)) for t in plan.tracks),
    )  # fmt: skip
    assert _recall(scene, bare) < 0.5


def test_someone_walking_in_front_keeps_the_tracks_apart_and_goes_to_review():
    scene = crossing()
    plan = _plan(scene)
    sitting = [t for t in plan.tracks if t.boxes[0].x < scene.width * 0.5]
    assert len(sitting) == 1 and len(plan.tracks) == 2
    home = sitting[0].boxes[0].x
    assert all(abs(b.x - home) < b.w / 2 for b in sitting[0].boxes)  # never follows the walker
    crossings = [s for s in plan.stretches if "crosses" in s.reason]
    assert len(crossings) == 1  # one look at the frames, on the earlier track, naming the other
    named = crossings[0].reason.split("crosses ")[1].split(",")[0]
    assert {crossings[0].track, named} == {t.id for t in plan.tracks}


class _Scripted:
    """A detector that sees the face at ``box`` until frame ``until``, then nothing."""

    def __init__(self, box: Box, until: int) -> None:
        self.box, self.until, self.calls = box, until, 0

    def __call__(self, frame):
        seen = self.calls * 5 < self.until
        self.calls += 1
        return [self.box] if seen else []


def test_a_lost_track_widens_the_hidden_area_and_asks_for_review():
    size = (320, 240)
    frame = np.zeros((240, 320, 3), np.uint8)  # no texture: optical flow finds no points
    tracker = FaceTracker(Fraction(10), size, _Scripted(Box(100, 80, 40, 50, 0.9), 20))
    for _ in range(40):
        tracker.add(frame)
    (track,), stretches = tracker.finish()
    held = [b for b in track.boxes if b.state == "held" and b.frame > 15]
    assert held and track.last == 25  # held for a second (10 frames) after the last detection
    areas = [hidden_box(b).area() for b in held]
    assert areas == sorted(areas) and areas[-1] > 1.8 * hidden_box(track.boxes[0]).area()
    assert any("lost" in s.reason for s in stretches)


def test_a_face_seen_late_is_hidden_in_the_frames_before_its_detection():
    tracker = FaceTracker(Fraction(10), (320, 240), lambda f: [Box(10, 10, 40, 40, 0.9)])
    for _ in range(3):
        tracker.add(np.zeros((240, 320, 3), np.uint8))
    (track,), _ = tracker.finish()
    assert track.first == 0


def test_the_plan_round_trips_and_any_change_needs_a_new_review():
    scene = two_people()
    plan = _plan(scene).muted(Fraction(1), Fraction(3, 2))
    plan = plan.with_manual(
        ManualBox("b1", (Keyframe(0, 0, 0, 10, 10), Keyframe(10, 100, 0, 10, 10)))
    )
    assert RedactionPlan.from_bytes(plan.to_bytes()) == plan
    assert plan.review_pending()
    approved = plan.approved("bob", "2026-12-01T06:00:00Z")
    assert not approved.review_pending() and approved.reviews[-1].changes == 2
    assert RedactionPlan.from_bytes(approved.to_bytes()) == approved
    assert approved.marked(approved.tracks[0].id, "other").review_pending()
    assert plan.manual[0].at(5) == Box(50, 0, 10, 10)
    assert plan.manual[0].at(11) is None


def test_hiding_leaves_nothing_correlated_with_the_face():
    face = grace_patch()[60:300, 60:260].copy()
    rng = np.random.default_rng()
    for style in ("fill", "pixelate"):
        out = face.copy()
        hide(out, Box(0, 0, face.shape[1], face.shape[0]), rng, style)
        detail = face.astype(float) - cv_blur(face)  # what identifies: edges, eyes, mouth
        left = out.astype(float) - cv_blur(out)
        r = np.corrcoef(detail.ravel(), left.ravel())[0, 1]
        assert abs(r) < 0.05, (style, r)
    out = face.copy()
    hide(out, Box(0, 0, face.shape[1], face.shape[0]), rng, "fill")
    assert abs(np.corrcoef(face.ravel().astype(float), out.ravel().astype(float))[0, 1]) < 0.05


def cv_blur(image):
    import cv2

    return cv2.GaussianBlur(image, (0, 0), 8).astype(float)


def test_frames_beyond_the_plan_are_covered_whole():
    from clips.redact.overlay import overlays

    plan = RedactionPlan("m", "30", 16, 8, 2, 5)
    covers = list(overlays(plan, ()))
    assert len(covers) == 3 and not covers[0][..., 3].any() and not covers[1][..., 3].any()
    assert (covers[2][..., 3] == 255).all()  # past the plan: the whole frame
