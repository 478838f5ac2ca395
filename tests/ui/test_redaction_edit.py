"""Correcting the redaction in the review view, as a person does (issue 18, "Human review"):
a click selects a track, "Split here" and "Extend here" act on it at the playhead, Ctrl+click
on another box merges, the sound row's Disguise; a box dragged over the video at one frame
and again at another (keyframes, moving between), reviewed, approved, and hidden in the
family copy. Each edit is checked in the plan stored in the case, not only on screen."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QPushButton

from clips.redact.detect import Box
from tests.media.redact_scenes import GRACE, two_people
from tests.media.test_redacted_exports import _frame_bytes
from tests.ui.conftest import open_first_case, unlock
from tests.ui.test_redaction import (
    _add_film,
    _click_box_and_say,
    _family_copy,
    _mark_in_out,
    _open,
)
from videofeedback import redaction

pytestmark = pytest.mark.skipif(not GRACE.exists(), reason=f"no faces corpus at {GRACE.parent}")
SCENE = two_people(fps=30)  # the film _add_film imports: 640×360, 90 frames


def _found(qtbot, window):
    """The film imported and opened, people found: (case, media id, review, panel, the
    brother's participant id, the left and right tracks)."""
    unlock(qtbot, window)
    open_first_case(qtbot, window)
    case = window.case
    folder = window.case.folder.parent.parent / "film-in"
    folder.mkdir(exist_ok=True)
    theo, media_id = _add_film(case, folder)
    review = _open(qtbot, window, media_id)
    panel = review.redaction
    qtbot.mouseClick(panel.find_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.review.plan is not None, timeout=120_000)
    left, right = sorted(panel.review.plan.tracks, key=lambda t: t.boxes[0].x)
    return case, media_id, review, panel, theo, left.id, right.id


def _seek(qtbot, review, frame):
    review.player.seek_frame(frame)
    qtbot.waitUntil(lambda: review.redaction.overlay.frame == frame, timeout=10_000)


def _box_centre(panel, track_id) -> QPoint:
    [rect] = [r for t, r, _ in panel.overlay.boxes() if t == track_id]
    return rect.center().toPoint()


def _select(qtbot, panel, track_id):
    """Click the track's box; "who is this?" opens and is cancelled: the track is selected."""
    qtbot.mouseClick(panel.overlay, Qt.MouseButton.LeftButton, pos=_box_centre(panel, track_id))
    qtbot.waitUntil(lambda: panel.who is not None and panel.who.isVisible(), timeout=5_000)
    [cancel] = [b for b in panel.who.findChildren(QPushButton) if b.text() == "Cancel"]
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    assert panel.review.selected == track_id and panel.overlay.selected == track_id


def _stored(case, media_id):
    return redaction.load_plan(case, media_id)


def _settled(qtbot, panel, check):
    """Wait until the panel shows a plan that passes ``check`` (the CaseOp delivered)."""
    qtbot.waitUntil(lambda: panel.review.plan is not None and check(panel.review.plan),
                    timeout=15_000)  # fmt: skip


def test_split_extend_merge_and_disguise_from_the_review_view(qtbot, window):
    case, media_id, review, panel, theo, left, right = _found(qtbot, window)
    _seek(qtbot, review, 20)
    _click_box_and_say(qtbot, panel, right, theo)  # a click selects and asks who
    assert panel.review.selected == right

    _seek(qtbot, review, 45)
    qtbot.mouseClick(panel.split_button, Qt.MouseButton.LeftButton)
    _settled(qtbot, panel, lambda p: len(p.tracks) == 3)
    [new] = {t.id for t in _stored(case, media_id).tracks} - {left, right}
    stored = _stored(case, media_id)
    assert (stored.track(right).first, stored.track(right).last) == (0, 44)
    assert stored.track(new).first == 45 and stored.mark_of(new) is None  # hidden, unnamed
    assert stored.mark_of(right) == theo and stored.review_pending()
    assert new in {t for t, _, hidden in panel.overlay.boxes() if hidden}  # the overlay shows it
    assert panel.lane.bar(new).width() > 0

    _seek(qtbot, review, 40)
    _select(qtbot, panel, right)  # the first part, where it has a box
    _seek(qtbot, review, 50)  # past its end: extend it to here
    assert right not in {t for t, _, _ in panel.overlay.boxes()}
    qtbot.mouseClick(panel.extend_button, Qt.MouseButton.LeftButton)
    _settled(qtbot, panel, lambda p: p.track(right).last == 50)
    held = _stored(case, media_id).track(right).at(50)
    assert held is not None and held.state == "held"  # kept where it was lost, widened

    _seek(qtbot, review, 60)
    qtbot.mouseClick(panel.overlay, Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.ControlModifier, _box_centre(panel, new))  # fmt: skip
    _settled(qtbot, panel, lambda p: len(p.tracks) == 2)
    merged = _stored(case, media_id)
    assert {t.id for t in merged.tracks} == {left, right}
    assert (merged.track(right).first, merged.track(right).last) == (0, SCENE.frames - 1)
    assert merged.mark_of(right) == theo  # the unnamed part took the brother's name
    assert panel.lane.selected == right

    _mark_in_out(qtbot, review, 30, 44)
    qtbot.mouseClick(panel.disguise_button, Qt.MouseButton.LeftButton)
    _settled(qtbot, panel, lambda p: len(p.mutes) == 1)
    [mute] = _stored(case, media_id).mutes
    assert mute.mode == "disguise" and mute.seconds() == (1, 1.5)
    assert len(panel.lane.band.ranges()) == 1
    actions = [e.action for e in case.audit_log().entries([case.identity])]
    assert {"redact.split", "redact.extend", "redact.merge", "redact.mute"} <= set(actions)
    review.close_media()


def _drag(qtbot, overlay, film_box):
    """Drag over the video from the film box's top left to its bottom right."""
    rect = overlay.to_screen(film_box)
    start, end = rect.topLeft().toPoint(), rect.bottomRight().toPoint()
    qtbot.mousePress(overlay, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(overlay, pos=(start + end) / 2)
    qtbot.mouseMove(overlay, pos=end)
    qtbot.mouseRelease(overlay, Qt.MouseButton.LeftButton, pos=end)


FIRST, SECOND = Box(40, 250, 120, 80), Box(220, 260, 120, 80)  # the background under the faces


def test_a_box_drawn_at_two_frames_moves_between_them_and_the_family_copy_hides_it(
    qtbot, window, tmp_path, monkeypatch
):
    case, media_id, review, panel, theo, left, right = _found(qtbot, window)
    _seek(qtbot, review, 10)
    _drag(qtbot, panel.overlay, FIRST)
    _settled(qtbot, panel, lambda p: len(p.manual) == 1)
    qtbot.waitUntil(lambda: panel.review.drawing is not None, timeout=5_000)
    _seek(qtbot, review, 40)
    _drag(qtbot, panel.overlay, SECOND)  # the same box: a second keyframe
    _settled(qtbot, panel, lambda p: len(p.manual[0].keyframes) == 2)

    [drawn] = _stored(case, media_id).manual
    pixel = SCENE.width / panel.overlay.picture().width()  # one screen pixel in the film's
    assert [k.frame for k in drawn.keyframes] == [10, 40]
    for key, want in zip(drawn.keyframes, (FIRST, SECOND), strict=True):
        assert (key.x, key.y, key.w, key.h) == pytest.approx(
            (want.x, want.y, want.w, want.h), abs=2 * pixel + 1
        )
    middle = drawn.at(25)
    assert middle.x == pytest.approx((drawn.keyframes[0].x + drawn.keyframes[1].x) / 2)
    assert [b for b, _ in panel.overlay.drawn()] == [drawn.id]  # shown at frame 40
    _seek(qtbot, review, 60)
    assert panel.overlay.drawn() == []  # after its last keyframe: no box

    qtbot.mouseClick(panel.mode_button, Qt.MouseButton.LeftButton)  # review, then approve
    for _ in range(len(panel.review.stops) - 1):
        qtbot.keyClick(review, Qt.Key.Key_N)
    assert panel.review.all_seen
    qtbot.mouseClick(panel.approve_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not _stored(case, media_id).review_pending(), timeout=10_000)

    review.close_media()
    out = tmp_path / "family.mp4"
    _family_copy(qtbot, window, media_id, out, monkeypatch)
    qtbot.waitUntil(lambda: out.exists() and not window.jobs.running, timeout=120_000)
    data = out.read_bytes()
    size = (SCENE.width, SCENE.height)
    for frame in (10, 25, 40):  # at each keyframe and between them: hidden
        assert _difference(_frame_bytes(data, frame, size), frame, drawn.at(frame)) > 25
    untouched = Box(FIRST.x + 10, FIRST.y + 10, FIRST.w - 20, FIRST.h - 20)
    assert _difference(_frame_bytes(data, 60, size), 60, untouched) < 8  # after it: the film
    out.unlink()


def _difference(got, frame, box):
    """Mean absolute difference to the original frame inside ``box`` (less 4 px a side)."""
    x, y, w, h = (int(v) for v in (box.x + 4, box.y + 4, box.w - 8, box.h - 8))
    want = SCENE.render(frame)[0]
    return float(np.abs(got[y : y + h, x : x + w].astype(float) - want[y : y + h, x : x + w]).mean())
